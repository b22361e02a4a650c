"""Compliance over HTTP: what-if checks, the pre-launch preview, the internal DNC list and
the audit chain. The rules live in compliance/; these handlers only translate."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from campaigns import store as campaigns
from compliance import consent, dnc_files, profiles, store
from compliance import gate as gates
from outdial.errors import InvalidInput, NotFound
from outdial.models import as_utc
from outdial.roles import Role
from web import inputs
from web.apidoc import ANY_OBJ, BOOL, INT, STR, TIME, Doc, arr, obj
from web.inputs import json_body
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

routes = Routes()
MANAGERS = {Role.ADMIN, Role.MANAGER}


def setup(app: web.Application) -> None:
    profiles.use_operator_dir(app[CONFIG].profiles_dir)


def _campaign_id(engine: Any, name: str) -> int:
    row = campaigns.by_name(engine, name)
    assert row.id is not None
    return row.id


@routes.get(
    "/api/compliance/check",
    roles=MANAGERS,
    doc=Doc(
        "Would this number be dialed now, and why not",
        query={
            "number": "the number",
            "campaign": "a campaign name (or profile)",
            "profile": "us, uk, cn or eu (or campaign)",
            "at": "ISO 8601 instant (default now)",
        },
        returns=ANY_OBJ,
    ),
)
async def check(request: web.Request) -> web.Response:
    """``?number=&campaign=NAME`` or ``?number=&profile=us|uk|cn|eu``, optional ``at``."""
    engine, q = request.app[ENGINE], request.query
    number = q.get("number", "")
    if not number:
        raise InvalidInput("give ?number=")
    if ("campaign" in q) == ("profile" in q):
        raise InvalidInput("give exactly one of ?campaign= or ?profile=")
    at = gates.parse_instant(request.query.get("at"))

    def decide() -> dict[str, Any]:
        e164 = store.normalize(number)
        if "campaign" in q:
            gate = gates.gate_for(engine, _campaign_id(engine, q["campaign"]))
        else:
            gate = gates.profile_gate(engine, q["profile"])
        out = gates.what_if(engine, gate, e164, at).as_dict()
        out["number"] = e164
        return out

    return web.json_response(await run_db(decide))


@routes.get(
    "/api/compliance/preview",
    roles=MANAGERS,
    doc=Doc(
        "A campaign's records: dialable now, later within 24 h, blocked by reason",
        query={"campaign": "the campaign name", "at": "ISO 8601 instant (default now)"},
        returns=obj(campaign=STR, dialable_now=INT, later=INT, blocked=INT, by_reason=ANY_OBJ),
    ),
)
async def preview(request: web.Request) -> web.Response:
    """``?campaign=NAME``: dialable now, later within 24 h, blocked by reason."""
    engine = request.app[ENGINE]
    name = request.query.get("campaign", "")
    at = gates.parse_instant(request.query.get("at"))

    def run() -> dict[str, Any]:
        summary, extra = gates.preview_report(
            engine, _campaign_id(engine, name), at, at + timedelta(hours=24)
        )
        return {
            "campaign": name,
            "dialable_now": summary.now,
            "later": summary.later,
            "blocked": summary.blocked,
            "by_reason": dict(summary.by_reason),
            **extra,  # purpose, missing_basis_total, missing_basis: [{list, row, number, ...}]
        }

    return web.json_response(await run_db(run))


@routes.get(
    "/api/dnc",
    roles=MANAGERS,
    doc=Doc(
        "The internal do-not-call list",
        returns=obj(entries=arr(obj(number=STR, source=STR, reason=STR, captured_at=TIME))),
    ),
)
async def dnc_list(request: web.Request) -> web.Response:
    entries = await run_db(store.dnc_export, request.app[ENGINE])
    return web.json_response(
        {
            "entries": [
                {
                    "number": e.number,
                    "source": e.source,
                    "reason": e.reason,
                    "captured_at": as_utc(e.captured_at).isoformat(),
                }
                for e in entries
            ]
        }
    )


@routes.post(
    "/api/dnc",
    roles={Role.ADMIN, Role.MANAGER, Role.AGENT},
    doc=Doc(
        "Capture a do-not-call request (rules 8, 9)",
        body=obj(required=["number"], number=STR, reason=STR, region=STR),
        returns=obj(number=STR, added=BOOL),
        status=201,
    ),
)
async def dnc_add(request: web.Request) -> web.Response:
    """Capture a do-not-call request (rules 8, 9): effective the moment it is committed."""
    body = await json_body(request)
    ident = current_identity(request)
    number = body.get("number")
    if not isinstance(number, str) or not number:
        raise InvalidInput("field 'number' is required", field="number")
    reason = str(body.get("reason", ""))
    source = "agent" if ident.role is Role.AGENT else "api"
    entry, created = await run_db(
        store.dnc_add,
        request.app[ENGINE],
        number,
        source,
        reason,
        "",
        str(body.get("region", "CN")),
    )
    return web.json_response(
        {"number": entry.number, "added": created}, status=201 if created else 200
    )


@routes.post(
    "/api/dnc/remove",
    roles={Role.ADMIN},
    doc=Doc(
        "Remove a number from the internal DNC list (the number in the body, out of URLs)",
        body=obj(required=["number"], number=STR, region=STR),
        returns=obj(removed=BOOL),
    ),
)
async def dnc_remove_by_body(request: web.Request) -> web.Response:
    """Body: number, region? — the number stays out of the URL and so out of access logs."""
    body = await json_body(request)
    number = body.get("number")
    if not isinstance(number, str) or not number:
        raise InvalidInput("field 'number' is required", field="number")
    return await _remove(request, number, str(body.get("region", "CN")))


@routes.delete(
    "/api/dnc/{number}",
    roles={Role.ADMIN},
    doc=Doc("Remove a number from the internal DNC list", returns=obj(removed=BOOL)),
)
async def dnc_remove(request: web.Request) -> web.Response:
    """Kept for existing clients; prefer POST /api/dnc/remove (the number in a body)."""
    return await _remove(request, request.match_info["number"], "CN")


async def _upload(request: web.Request, kind: str) -> tuple[Path, str, dict[str, str]]:
    cfg = request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{kind}-{secrets.token_hex(8)}"
    return await inputs.file_upload(request, stem, cfg.max_upload_bytes)


async def receive_dnc_file(request: web.Request) -> dict[str, Any]:
    """A DNC file upload imported: the report (``compliance.dnc_files.import_file``)."""
    path, name, fields = await _upload(request, "dnc")
    try:
        report = await run_db(
            dnc_files.import_file,
            request.app[ENGINE],
            path,
            fields.get("region") or "CN",
            fields.get("reason", "")[:255],
            fields.get("sheet") or None,
        )
    finally:
        path.unlink(missing_ok=True)
    return {"file": name, **report}


async def receive_registry(request: web.Request) -> dnc_files.Snapshot:
    """A registry snapshot upload loaded (``compliance.dnc_files.load_registry``)."""
    path, _, fields = await _upload(request, "registry")
    try:
        snap: dnc_files.Snapshot = await run_db(
            dnc_files.load_registry,
            request.app[ENGINE],
            path,
            fields.get("name", ""),
            fields.get("as_of", ""),
            datetime.now(UTC).date(),
        )
    finally:
        path.unlink(missing_ok=True)
    return snap


def snapshot_json(s: dnc_files.Snapshot) -> dict[str, Any]:
    return {"name": s.name, "as_of": s.as_of.isoformat(), "count": s.count,
            "age_days": s.age_days, "max_age_days": s.max_age_days, "stale": s.stale}  # fmt: skip


@routes.post(
    "/api/dnc/import",
    roles=MANAGERS,
    body="upload",
    doc=Doc(
        "Import a DNC file (CSV/TSV/XLSX: a phone column, optionally a reason column)",
        form=obj(
            required=["file"],
            file={"type": "string", "format": "binary"},
            reason=STR,
            region=STR,
            sheet=STR,
        ),
        returns=obj(read=INT, added=INT, duplicates=INT, invalid=INT, invalid_rows=arr(ANY_OBJ)),
    ),
)
async def dnc_import(request: web.Request) -> web.Response:
    """multipart: file (+ reason for rows without one, region, sheet) → added, duplicates
    (already listed or twice in the file), invalid lines by row."""
    return web.json_response(await receive_dnc_file(request))


@routes.get(
    "/api/registry",
    roles=MANAGERS,
    doc=Doc(
        "National registry snapshots loaded (rules 7, 24), newest first, with staleness",
        returns=obj(snapshots=arr(ANY_OBJ)),
    ),
)
async def registry_list(request: web.Request) -> web.Response:
    rows = await run_db(dnc_files.snapshots, request.app[ENGINE], datetime.now(UTC).date())
    return web.json_response({"snapshots": [snapshot_json(s) for s in rows]})


@routes.post(
    "/api/registry",
    roles=MANAGERS,
    body="upload",
    doc=Doc(
        "Load a national registry snapshot (one number per line) with its date",
        form=obj(
            required=["file", "name", "as_of"],
            file={"type": "string", "format": "binary"},
            name=STR,
            as_of=STR,
        ),
        returns=obj(snapshot=ANY_OBJ),
        status=201,
    ),
)
async def registry_load(request: web.Request) -> web.Response:
    """multipart: file, name (us-national, uk-tps, uk-ctps), as_of (YYYY-MM-DD) → 201."""
    snap = await receive_registry(request)
    return web.json_response({"snapshot": snapshot_json(snap)}, status=201)


async def _remove(request: web.Request, number: str, region: str) -> web.Response:
    ident = current_identity(request)
    removed = await run_db(store.dnc_remove, request.app[ENGINE], number, region, ident.username)
    if not removed:
        raise NotFound("number not on the list", field="number")
    return web.json_response({"removed": True})


# --- consent (issue 16; rules 9, 26, 30) -------------------------------------------------


@routes.get(
    "/api/consent",
    roles=MANAGERS,
    doc=Doc(
        "A number's consent events, oldest first (without a number: the latest 1000)",
        query={"number": "the phone number (any format the list import accepts)"},
        returns=obj(consent=arr(ANY_OBJ)),
    ),
)
async def consent_show(request: web.Request) -> web.Response:
    """``?number=N``: that number's consent events, oldest first (else the latest 1000)."""
    rows = await run_db(
        consent.history, request.app[ENGINE], request.query.get("number") or None, "CN"
    )
    return web.json_response({"consent": rows})


@routes.post(
    "/api/consent",
    roles=MANAGERS,
    doc=Doc(
        "Record a number's consent (rule 26), with its evidence",
        body=obj(
            required=["number", "evidence"],
            number=STR,
            evidence=STR,
            at=TIME,
            written=BOOL,
            region=STR,
        ),
        returns=obj(consent=ANY_OBJ),
        status=201,
    ),
)
async def consent_add(request: web.Request) -> web.Response:
    """Body: number, evidence (required), at? (ISO with zone), written?, region? → 201."""
    body = await json_body(request)
    event = await run_db(
        consent.add,
        request.app[ENGINE],
        _text(body, "number"),
        str(body.get("evidence", "")),
        consent.parse_time(body.get("at") or None),
        str(body.get("region", "CN")),
        bool(body.get("written", False)),
        "api",
    )
    return web.json_response({"consent": event}, status=201)


@routes.post(
    "/api/consent/revoke",
    roles={Role.ADMIN, Role.MANAGER, Role.AGENT},
    doc=Doc(
        "Revoke a number's consent; the number goes on the do-not-call list (rule 9)",
        body=obj(required=["number"], number=STR, reason=STR, region=STR),
        returns=obj(consent=ANY_OBJ),
        status=201,
    ),
)
async def consent_revoke(request: web.Request) -> web.Response:
    """Body: number, reason?, region? → the revocation; the number is on the DNC list."""
    body = await json_body(request)
    ident = current_identity(request)
    event = await run_db(
        consent.revoke,
        request.app[ENGINE],
        _text(body, "number"),
        str(body.get("reason", "")),
        None,
        str(body.get("region", "CN")),
        "agent" if ident.role is Role.AGENT else "api",
    )
    return web.json_response({"consent": event}, status=201)


@routes.post(
    "/api/consent/import",
    roles=MANAGERS,
    body="upload",
    doc=Doc(
        "Import consents from a file: phone + 同意/consent [+ 同意日期, 同意凭证] columns",
        form=obj(
            required=["file"],
            file={"type": "string", "format": "binary"},
            evidence=STR,
            region=STR,
            timezone=STR,
        ),
        returns=ANY_OBJ,
    ),
)
async def consent_import(request: web.Request) -> web.Response:
    """multipart/form-data: ``file`` (phone + 同意/consent [+ 同意日期, 同意凭证] columns),
    and optionally evidence, region, timezone → the counts and rejected rows."""
    cfg = request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"consent-{secrets.token_hex(8)}"
    path, name, fields = await inputs.file_upload(request, stem, cfg.max_upload_bytes)
    try:
        report = await run_db(
            consent.import_file,
            request.app[ENGINE],
            path,
            fields.get("evidence", ""),
            fields.get("region") or "CN",
            fields.get("timezone") or "Asia/Shanghai",
            name,
        )
    finally:
        path.unlink(missing_ok=True)
    return web.json_response(report)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"field {name!r} is required", field=name)
    return value


@routes.get(
    "/api/audit/verify",
    roles={Role.ADMIN},
    doc=Doc(
        "Verify the audit trail's hash chain",
        query={"head": "expected head hash"},
        returns=obj(intact=BOOL, rows=INT, first_bad_id={"type": ["integer", "null"]}, head=STR),
    ),
)
async def audit_verify(request: web.Request) -> web.Response:
    verdict = await run_db(store.audit_verify, request.app[ENGINE], request.query.get("head"))
    return web.json_response(
        {
            "intact": verdict.intact,
            "rows": verdict.rows,
            "first_bad_id": verdict.first_bad_id,
            "head": verdict.head,
        }
    )
