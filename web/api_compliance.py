"""Compliance over HTTP: what-if checks, the pre-launch preview, the internal DNC list and
the audit chain. The rules live in compliance/; these handlers only translate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from campaigns import store as campaigns
from compliance import gate as gates
from compliance import profiles, store
from outdial.errors import InvalidInput, NotFound
from outdial.models import as_utc
from outdial.roles import Role
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


@routes.get("/api/compliance/check", roles=MANAGERS)
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


@routes.get("/api/compliance/preview", roles=MANAGERS)
async def preview(request: web.Request) -> web.Response:
    """``?campaign=NAME``: dialable now, later within 24 h, blocked by reason."""
    engine = request.app[ENGINE]
    name = request.query.get("campaign", "")
    at = gates.parse_instant(request.query.get("at"))

    def run() -> dict[str, Any]:
        summary = gates.preview(engine, _campaign_id(engine, name), at, at + timedelta(hours=24))
        return {
            "campaign": name,
            "dialable_now": summary.now,
            "later": summary.later,
            "blocked": summary.blocked,
            "by_reason": dict(summary.by_reason),
        }

    return web.json_response(await run_db(run))


@routes.get("/api/dnc", roles=MANAGERS)
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


@routes.post("/api/dnc", roles={Role.ADMIN, Role.MANAGER, Role.AGENT})
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


@routes.post("/api/dnc/remove", roles={Role.ADMIN})
async def dnc_remove_by_body(request: web.Request) -> web.Response:
    """Body: number, region? — the number stays out of the URL and so out of access logs."""
    body = await json_body(request)
    number = body.get("number")
    if not isinstance(number, str) or not number:
        raise InvalidInput("field 'number' is required", field="number")
    return await _remove(request, number, str(body.get("region", "CN")))


@routes.delete("/api/dnc/{number}", roles={Role.ADMIN})
async def dnc_remove(request: web.Request) -> web.Response:
    """Kept for existing clients; prefer POST /api/dnc/remove (the number in a body)."""
    return await _remove(request, request.match_info["number"], "CN")


async def _remove(request: web.Request, number: str, region: str) -> web.Response:
    ident = current_identity(request)
    removed = await run_db(store.dnc_remove, request.app[ENGINE], number, region, ident.username)
    if not removed:
        raise NotFound("number not on the list", field="number")
    return web.json_response({"removed": True})


@routes.get("/api/audit/verify", roles={Role.ADMIN})
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
