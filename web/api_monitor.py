"""Live monitoring over HTTP (issue 19.1): a supervisor listens to, whispers into or barges
into a connected call from their own softphone, switches mode and leaves.

The rules (who may, which calls, the audit trail) are dialer/monitoring.py's; these handlers
translate. The campaign live view's buttons (web/pages_live.py) post to
``/campaigns/{id}/monitor``, which does the same as the API and answers a fragment.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlmodel import col

from dialer.monitoring import Monitoring, parse_mode
from outdial import auth
from outdial.errors import Forbidden, InvalidInput
from outdial.models import User
from outdial.roles import Role
from sip.commands import StartMonitor
from sip.errors import InvalidTarget
from web.api_dialer import RUNTIME
from web.apidoc import BOOL, INT, NUM, STR, Doc, arr, desc, obj
from web.inputs import form_body, json_body, str_field
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import render

routes = Routes()
#: roles a route admits; OUTDIAL_MONITOR_ROLES narrows them further (admins always may)
SUPERVISORS = frozenset({Role.ADMIN, Role.MANAGER, Role.QA})
MONITORING: web.AppKey[Monitoring] = web.AppKey("monitoring", Monitoring)

SESSION = obj(call_id=STR, supervisor=STR, supervisor_id=INT, mode=STR, state=STR, started_at=STR)
CALL = obj(call_id=STR, agent_id=INT, talk_seconds=NUM, monitor=SESSION)
MODE_BODY = obj(required=["mode"], mode=STR)


def setup(app: web.Application) -> None:
    async def make(app: web.Application) -> None:
        if RUNTIME in app:  # made by web/api_dialer.py's start-up, which runs before this one
            app[MONITORING] = Monitoring(app[RUNTIME])

    app.on_startup.append(make)


def monitoring(request: web.Request) -> Monitoring:
    if MONITORING not in request.app:
        raise web.HTTPServiceUnavailable(text="the dialer is not running in this process")
    return request.app[MONITORING]


def may_monitor(request: web.Request) -> auth.Identity:
    """The caller, if their role may monitor calls here (OUTDIAL_MONITOR_ROLES)."""
    ident = current_identity(request)
    if ident.role is not Role.ADMIN and str(ident.role) not in request.app[CONFIG].monitor_roles:
        raise Forbidden("your role may not monitor calls here (OUTDIAL_MONITOR_ROLES)")
    return ident


async def phone_of(request: web.Request, ident: auth.Identity, given: str) -> str:
    """The softphone the supervisor is called on: ``given``, else their user's SIP address."""
    engine = request.app[ENGINE]

    def read() -> str:
        with engine.connect() as conn:
            q = sa.select(col(User.sip_uri)).where(col(User.id) == ident.user_id)
            return str(conn.execute(q).scalar() or "")

    uri = given.strip() or await run_db(read)
    if not uri:
        raise InvalidInput(
            "no softphone to call you on: give phone, or have an admin add your user with "
            "a SIP address (outdial users add --sip-uri, or the People page)",
            field="phone",
        )
    try:
        StartMonitor("check", uri)
    except InvalidTarget as exc:
        raise InvalidInput(f"phone is not a SIP URI: {uri!r}", field="phone") from exc
    return uri


async def start(request: web.Request, call_id: str, mode: str, phone: str) -> dict[str, Any]:
    ident = may_monitor(request)
    monitoring(request).find(call_id)  # "no such call" before "no phone to call you on"
    uri = await phone_of(request, ident, phone)
    return await monitoring(request).start(
        call_id, parse_mode(mode), ident.user_id, ident.username, uri
    )


async def switch(request: web.Request, call_id: str, mode: str) -> dict[str, Any]:
    ident = may_monitor(request)
    admin = ident.role is Role.ADMIN
    return await monitoring(request).set_mode(call_id, parse_mode(mode), ident.user_id, admin)


async def leave(request: web.Request, call_id: str) -> dict[str, Any]:
    ident = may_monitor(request)
    return await monitoring(request).stop(call_id, ident.user_id, ident.role is Role.ADMIN)


@routes.get(
    "/api/campaigns/{campaign_id}/calls",
    roles=SUPERVISORS,
    doc=Doc(
        "The campaign's connected calls (an agent talking) and who monitors each",
        returns=obj(calls=arr(CALL)),
    ),
)
async def api_calls(request: web.Request) -> web.Response:
    may_monitor(request)
    try:
        cid = int(request.match_info["campaign_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    return web.json_response({"calls": monitoring(request).calls(cid)})


@routes.post(
    "/api/calls/{call}/monitor",
    roles=SUPERVISORS,
    doc=Doc(
        "Join a connected call from your softphone: listen (监听), whisper (耳语: the agent "
        "hears you) or barge (强插: both hear you). ``phone``: a SIP URI, else your user's",
        body=obj(mode=desc(STR, "listen (the default), whisper or barge"), phone=STR),
        returns=SESSION,
    ),
)
async def api_start(request: web.Request) -> web.Response:
    body = await json_body(request)
    mode = str_field(body, "mode", "listen", max_len=16)
    phone = str_field(body, "phone", "", max_len=255)
    return web.json_response(await start(request, request.match_info["call"], mode, phone))


@routes.post(
    "/api/calls/{call}/monitor/mode",
    roles=SUPERVISORS,
    doc=Doc("Switch between listen, whisper and barge", body=MODE_BODY, returns=SESSION),
)
async def api_mode(request: web.Request) -> web.Response:
    body = await json_body(request)
    mode = str_field(body, "mode", max_len=16)
    return web.json_response(await switch(request, request.match_info["call"], mode))


@routes.delete(
    "/api/calls/{call}/monitor",
    roles=SUPERVISORS,
    doc=Doc("Leave the call; it goes on", returns=obj(call_id=STR, left=BOOL)),
)
async def api_leave(request: web.Request) -> web.Response:
    return web.json_response(await leave(request, request.match_info["call"]))


@routes.post("/campaigns/{campaign_id}/monitor", roles=SUPERVISORS)
async def page_action(request: web.Request) -> web.Response:
    """The live view's buttons: action = listen | whisper | barge | leave."""
    form = await form_body(request)
    call_id = str(form.get("call_id", "")).strip()
    action = str(form.get("action", "")).strip()
    if not call_id:
        raise InvalidInput("field 'call_id' is required", field="call_id")
    if action == "leave":
        await leave(request, call_id)
    elif action not in {"listen", "whisper", "barge"}:
        raise InvalidInput("action must be listen, whisper, barge or leave", field="action")
    elif call_id in monitoring(request).sessions:
        await switch(request, call_id, action)
    else:
        await start(request, call_id, action, "")
    return render("_monitor_note.html", request, {"action": action})
