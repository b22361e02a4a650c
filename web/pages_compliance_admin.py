"""Do-not-call list and audit trail pages (same calls as /api/dnc and /api/audit/*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from compliance import audit_query, dnc_files, store
from outdial.errors import InvalidInput
from outdial.models import as_utc
from outdial.roles import Role
from web import api_compliance, inputs
from web.apidoc import ANY_OBJ, Doc
from web.keys import ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import MANAGERS, render

routes = Routes()
ADMINS = {Role.ADMIN}
SHOWN = 200


async def _dnc(request: web.Request, notice: str = "") -> web.Response:
    ctx = await _dnc_ctx(request, notice)
    name = "_dnc_table.html" if request.headers.get("HX-Request") else "dnc.html"
    return render(name, request, ctx)


async def _dnc_ctx(request: web.Request, notice: str = "") -> dict[str, Any]:
    q = request.query.get("q", "").strip()
    entries = await run_db(store.dnc_export, request.app[ENGINE])
    digits = q.lstrip("+")
    hits = [e for e in entries if not digits or digits in e.number]
    ctx: dict[str, Any] = {
        "q": q,
        "total": len(entries),
        "matches": len(hits),
        "entries": [
            {
                "number": e.number,
                "source": e.source,
                "reason": e.reason,
                "at": as_utc(e.captured_at),
            }
            for e in hits[:SHOWN]
        ],
        "notice": notice,
        "is_admin": current_identity(request).role is Role.ADMIN,
        **(await _registry_ctx(request)),
    }
    return ctx


async def _registry_ctx(request: web.Request) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    snaps = await run_db(dnc_files.snapshots, request.app[ENGINE], today)
    return {"snapshots": snaps, "registry_names": dnc_files.registry_names(), "today": today,
            "problem": "", "loaded": False}  # fmt: skip


@routes.post("/dnc/import", roles=MANAGERS, body="upload")
async def dnc_import(request: web.Request) -> web.Response:
    """Same as POST /api/dnc/import: the report of added, duplicate and invalid lines."""
    try:
        report = await api_compliance.receive_dnc_file(request)
    except InvalidInput as err:  # a bad file: said next to the form, the page stays
        return render("_upload_problem.html", request, {"message": err.message})
    # the list below the form shows the new numbers at once (an out-of-band swap)
    return render("_dnc_import_report.html", request, {**(await _dnc_ctx(request)), "r": report})


@routes.post("/dnc/registry", roles=MANAGERS, body="upload")
async def registry_load(request: web.Request) -> web.Response:
    """Same as POST /api/registry: a national registry snapshot with its date."""
    problem = ""
    try:
        await api_compliance.receive_registry(request)
    except InvalidInput as err:
        problem = err.message
    ctx = {**(await _registry_ctx(request)), "problem": problem, "loaded": not problem}
    return render("_registry.html", request, ctx)


@routes.get("/dnc", roles=MANAGERS)
async def dnc_page(request: web.Request) -> web.Response:
    return await _dnc(request)


@routes.post("/dnc", roles=MANAGERS)
async def dnc_add(request: web.Request) -> web.Response:
    """Same as POST /api/dnc: effective the moment it is committed (rules 8, 9)."""
    form = await inputs.form_body(request)
    number = str(form.get("number", "")).strip()
    if not number:
        raise InvalidInput("field 'number' is required", field="number")
    entry, _ = await run_db(
        store.dnc_add, request.app[ENGINE], number, "manual", str(form.get("reason", ""))[:255]
    )
    return await _dnc(request, notice=entry.number)


@routes.post("/dnc/remove", roles=ADMINS)
async def dnc_remove(request: web.Request) -> web.Response:
    """Same as DELETE /api/dnc/{number} (admin only). The number travels in the form body,
    not the path, so it stays out of access logs."""
    ident = current_identity(request)
    form = await inputs.form_body(request)
    number = str(form.get("number", "")).strip()
    if not number:
        raise InvalidInput("field 'number' is required", field="number")
    await run_db(store.dnc_remove, request.app[ENGINE], number, "CN", ident.username)
    return await _dnc(request)


@routes.get("/audit", roles=ADMINS)
async def audit_page(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    kind, contains = request.query.get("kind", ""), request.query.get("q", "").strip()
    rows = await run_db(audit_query.recent, engine, kind, contains, 100)
    ctx = {
        "rows": rows,
        "kind": kind,
        "q": contains,
        "kinds": await run_db(audit_query.kinds, engine),
    }
    return render("audit.html", request, ctx)


@routes.post("/audit/verify", roles=ADMINS)
async def audit_verify(request: web.Request) -> web.Response:
    """Same as GET /api/audit/verify: walks the whole hash chain."""
    verdict = await run_db(store.audit_verify, request.app[ENGINE], None)
    return render("_audit_verdict.html", request, {"v": verdict})


@routes.get(
    "/api/audit",
    roles=ADMINS,
    doc=Doc(
        "The newest audit rows, filtered",
        query={"kind": "decision, outcome, ...", "q": "text to find", "limit": "rows (100)"},
        returns=ANY_OBJ,
    ),
)
async def api_audit(request: web.Request) -> web.Response:
    """?kind=&q=&limit=: the newest audit rows, filtered."""
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError as exc:
        raise InvalidInput("limit must be a number", field="limit") from exc
    rows = await run_db(
        audit_query.recent,
        request.app[ENGINE],
        request.query.get("kind", ""),
        request.query.get("q", ""),
        limit,
    )
    return web.json_response({"rows": rows})
