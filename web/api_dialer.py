"""Campaign control and the agents' desk over HTTP; rules live in dialer/runtime.py.

POST /api/campaigns/{id}/start|pause|stop    manager, admin   -> {"campaign": status}
GET  /api/campaigns/{id}/status              manager, admin   -> {"campaign": status}
POST /api/agent/login        {campaign_id, sip_uri?}   agent  -> {"agent": ...}
POST /api/agent/ready | /api/agent/logout                agent  -> {"agent": ...}
POST /api/agent/pause        {reason}                  agent  -> {"agent": ...}
POST /api/agent/disposition  {call_id, code, notes?, callback_at?, pause_reason?,
                              callback_owner?: personal | team}
                                                       agent  -> {"disposition": ...}
POST /api/agent/hangup      {call_id}                  agent  -> {"hangup": ...}
                             (the agent ends their own connected call; wrap-up follows)
POST /api/agent/transfer-ivr {call_id}                  agent  -> {"transfer": ...}
                             (the connected customer goes to the campaign's survey IVR;
                             the agent's leg is hung up and the agent is in wrap-up)
GET  /api/agent/ws           agent: a WebSocket of the engine's messages for this agent
                             (hello, agent_state, call_connected with the customer's
                             record and the campaign's script filled in from it
                             (script, script_missing), call_ended, call_released,
                             call_transferred, campaign_stopped, server_stopping: the server
                             shuts down; the session comes back when it starts again)
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web
from yarl import URL

from dialer.hopper import simulated_node
from dialer.runtime import DialerRuntime
from dialer.runtime import from_config as runtime_from_config
from dialer.scheduling import CampaignScheduler
from outdial.errors import Forbidden, InvalidInput
from outdial.roles import Role
from web.apidoc import ANY_OBJ, BOOL, INT, STR, TIME, Doc, desc, obj, ref
from web.inputs import json_body
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

routes = Routes()
RUNTIME = web.AppKey("dialer_runtime", DialerRuntime)
SCHEDULER = web.AppKey("campaign_scheduler", CampaignScheduler)
RESUMING = web.AppKey("resuming_campaigns", asyncio.Task[list[int]])
MANAGERS = {Role.MANAGER, Role.ADMIN}
AGENTS = {Role.AGENT}


def setup(app: web.Application) -> None:
    """Create the runtime when the app starts (unless one was set, e.g. by tests); stop every
    engine when it shuts down."""

    async def start(app: web.Application) -> None:
        if RUNTIME not in app:
            app[RUNTIME] = runtime_from_config(app[ENGINE], app[CONFIG])
        if app[CONFIG].simulated:  # its attempts are marked simulated (issue 17)
            app[RUNTIME].node = simulated_node(app[RUNTIME].node)
        cfg = app[CONFIG]
        app[SCHEDULER] = CampaignScheduler(
            app[RUNTIME], retention=(cfg.data_dir, cfg.recording_retention_days)
        )
        app[SCHEDULER].start()
        # campaigns meant to run resume by themselves (issue 16); the server answers meanwhile
        app[RESUMING] = asyncio.create_task(app[RUNTIME].resume_all(), name="resume-campaigns")

    async def stop(app: web.Application) -> None:
        if RESUMING in app and not app[RESUMING].done():
            app[RESUMING].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await app[RESUMING]
        if SCHEDULER in app:
            app[SCHEDULER].shutdown()
        if RUNTIME in app:
            await app[RUNTIME].stop_all()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)  # before cleanup: open WebSockets are closed here too


def _runtime(request: web.Request) -> DialerRuntime:
    return request.app[RUNTIME]


def _campaign_id(request: web.Request) -> int:
    try:
        return int(request.match_info["campaign_id"])
    except ValueError as exc:
        raise InvalidInput("campaign id must be a number", field="id") from exc


def _str(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name, None if required else "")
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"field {name!r} is required and must be a string", field=name)
    return value


def _when(body: dict[str, Any], name: str) -> datetime | None:
    text = _str(body, name, required=False)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 time", field=name) from exc
    if value.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone offset", field=name)
    return value


# --- campaigns ----------------------------------------------------------------------------


@routes.post(
    "/api/campaigns/{campaign_id}/start",
    roles=MANAGERS,
    doc=Doc("Start (or resume) dialing after the launch checks", returns=obj(campaign=ANY_OBJ)),
)
async def campaign_start(request: web.Request) -> web.Response:
    status = await _runtime(request).start(_campaign_id(request))
    return web.json_response({"campaign": status})


@routes.post(
    "/api/campaigns/{campaign_id}/pause",
    roles=MANAGERS,
    doc=Doc("No new calls; calls in progress carry on", returns=obj(campaign=ANY_OBJ)),
)
async def campaign_pause(request: web.Request) -> web.Response:
    status = await _runtime(request).pause(_campaign_id(request))
    return web.json_response({"campaign": status})


@routes.post(
    "/api/campaigns/{campaign_id}/stop",
    roles=MANAGERS,
    doc=Doc("Stop dialing; agents are logged out", returns=obj(campaign=ANY_OBJ)),
)
async def campaign_stop(request: web.Request) -> web.Response:
    status = await _runtime(request).stop(_campaign_id(request))
    return web.json_response({"campaign": status})


@routes.get(
    "/api/campaigns/{campaign_id}/status",
    roles=MANAGERS,
    doc=Doc(
        "Why the pacer is (not) dialing, calls and agents by state", returns=obj(campaign=ANY_OBJ)
    ),
)
async def campaign_status(request: web.Request) -> web.Response:
    status = await _runtime(request).status(_campaign_id(request))
    return web.json_response({"campaign": status})


# --- agents -------------------------------------------------------------------------------


@routes.post(
    "/api/agent/login",
    roles=AGENTS,
    doc=Doc(
        "Log in to a running campaign with a softphone; the agent is ready",
        body=obj(
            required=["campaign_id"], campaign_id=INT, sip_uri=desc(STR, "default: the user's own")
        ),
        returns=obj(agent=ref("AgentStatus")),
    ),
)
async def agent_login(request: web.Request) -> web.Response:
    body = await json_body(request)
    campaign_id = body.get("campaign_id")
    if isinstance(campaign_id, bool) or not isinstance(campaign_id, int):
        raise InvalidInput(
            "field 'campaign_id' is required and must be a number", field="campaign_id"
        )
    sip_uri = _str(body, "sip_uri", required=False) or None
    ident = current_identity(request)
    await run_db(_check_assigned, request.app[ENGINE], ident.user_id, campaign_id)
    agent = await _runtime(request).agent_login(ident.user_id, campaign_id, sip_uri)
    return web.json_response({"agent": agent})


def _check_assigned(engine: Any, user_id: int, campaign_id: int) -> None:
    """An agent assigned to campaigns takes only those (campaigns.store.may_take)."""
    from campaigns import store as campaigns

    if campaigns.may_take(engine, user_id, campaign_id):
        return
    mine = ", ".join(c.name for c in campaigns.campaigns_for_agent(engine, user_id))
    raise Forbidden(
        f"you are not assigned to campaign {campaign_id}; your campaigns: {mine}. "
        "A manager assigns campaigns to agents on the People page (/people)",
        campaign_id=campaign_id,
    )


@routes.post(
    "/api/agent/ready",
    roles=AGENTS,
    doc=Doc("Ready for calls", returns=obj(agent=ref("AgentStatus"))),
)
async def agent_ready(request: web.Request) -> web.Response:
    agent = await _runtime(request).agent_ready(current_identity(request).user_id)
    return web.json_response({"agent": agent})


@routes.post(
    "/api/agent/pause",
    roles=AGENTS,
    doc=Doc(
        "Pause with a reason code",
        body=obj(required=["reason"], reason=STR),
        returns=obj(agent=ref("AgentStatus")),
    ),
)
async def agent_pause(request: web.Request) -> web.Response:
    body = await json_body(request)
    agent = await _runtime(request).agent_pause(
        current_identity(request).user_id, _str(body, "reason")
    )
    return web.json_response({"agent": agent})


@routes.post(
    "/api/agent/logout",
    roles=AGENTS,
    doc=Doc("Log out of the campaign", returns=obj(agent=ANY_OBJ)),
)
async def agent_logout(request: web.Request) -> web.Response:
    agent = await _runtime(request).agent_logout(current_identity(request).user_id)
    return web.json_response({"agent": agent})


@routes.post(
    "/api/agent/preview/next",
    roles=AGENTS,
    doc=Doc(
        "Preview mode: the next record (also pushed to the screen)",
        returns=obj(preview={"anyOf": [ref("ws.preview"), {"type": "null"}]}),
    ),
)
async def preview_next(request: web.Request) -> web.Response:
    """Preview mode: the next record for this agent (also pushed to their screen)."""
    offer = await _runtime(request).preview_next(current_identity(request).user_id)
    return web.json_response({"preview": offer})


@routes.post(
    "/api/agent/preview/dial",
    roles=AGENTS,
    doc=Doc(
        "Dial the record on screen, this agent reserved",
        returns=obj(call_id={"type": ["string", "null"]}, dialed=BOOL),
    ),
)
async def preview_dial(request: web.Request) -> web.Response:
    result = await _runtime(request).preview_dial(current_identity(request).user_id)
    return web.json_response(result)


@routes.post(
    "/api/agent/preview/skip",
    roles=AGENTS,
    doc=Doc(
        "Skip the record on screen",
        body=obj(reason=desc(STR, "why; kept in the contact's history")),
        returns=obj(skipped=BOOL),
    ),
)
async def preview_skip(request: web.Request) -> web.Response:
    body = await json_body(request) if request.can_read_body else {}
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        raise InvalidInput("reason is text of at most 200 characters", field="reason")
    result = await _runtime(request).preview_skip(current_identity(request).user_id, reason)
    return web.json_response(result)


@routes.post(
    "/api/agent/disposition",
    roles=AGENTS,
    doc=Doc(
        "Set the call's disposition; committed before the next call is offered",
        body=obj(
            required=["call_id", "code"],
            call_id=STR,
            code=STR,
            notes=STR,
            callback_at=desc(TIME, "with an offset; for a callback code"),
            pause_reason=desc(STR, "pause instead of ready"),
            callback_owner=desc(
                STR,
                "personal (default: the agent calls back) or team (any "
                "agent allowed on the campaign may)",
            ),
        ),
        returns=obj(disposition=ANY_OBJ),
    ),
)
async def agent_disposition(request: web.Request) -> web.Response:
    body = await json_body(request)
    result = await _runtime(request).disposition(
        current_identity(request).user_id,
        _str(body, "call_id"),
        _str(body, "code"),
        notes=_str(body, "notes", required=False),
        callback_at=_when(body, "callback_at"),
        pause_reason=_str(body, "pause_reason", required=False) or None,
        callback_owner=_str(body, "callback_owner", required=False) or "personal",
    )
    return web.json_response({"disposition": result})


@routes.post(
    "/api/agent/hangup",
    roles=AGENTS,
    doc=Doc(
        "End the agent's own connected call (wrap-up follows, then the disposition)",
        body=obj(required=["call_id"], call_id=STR),
        returns=obj(hangup=ANY_OBJ),
    ),
)
async def agent_hangup(request: web.Request) -> web.Response:
    """The agent ends their own connected call; wrap-up follows (then the disposition)."""
    body = await json_body(request)
    result = await _runtime(request).agent_hangup(
        current_identity(request).user_id, _str(body, "call_id")
    )
    return web.json_response({"hangup": result})


@routes.post(
    "/api/agent/transfer-ivr",
    roles=AGENTS,
    doc=Doc(
        "Hand the connected customer to the survey IVR",
        body=obj(required=["call_id"], call_id=STR),
        returns=obj(transfer=ANY_OBJ),
    ),
)
async def agent_transfer_ivr(request: web.Request) -> web.Response:
    body = await json_body(request)
    result = await _runtime(request).transfer_to_ivr(
        current_identity(request).user_id, _str(body, "call_id")
    )
    return web.json_response({"transfer": result})


def _same_origin(request: web.Request) -> None:
    """A browser sends Origin on a WebSocket upgrade and cookies go with it whatever the page:
    only this server's own pages may open the agent's screen (issue 18, finding 12)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser (a softphone client, a test): the session or token decides
    try:
        url = URL(origin)
    except ValueError:
        url = None
    if url is None or url.host is None or f"{url.host}:{url.port}" != _host_port(request):
        raise Forbidden("the WebSocket's Origin is not this server", origin=origin[:200])


same_origin = _same_origin  # the desk's socket (web/pages_desk.py) is held to the same rule


def _host_port(request: web.Request) -> str:
    here = URL(f"{request.scheme}://{request.host}")
    return f"{here.host}:{here.port}"


@routes.get(
    "/api/agent/ws",
    roles=AGENTS,
    doc=Doc(
        "The agent's screen: a WebSocket of JSON messages (components.schemas.AgentWsMessage)",
        description="Upgrade to a WebSocket; messages: components.schemas.AgentWsMessage.",
        returns=ref("AgentWsMessage"),
        status=101,
    ),
)
async def agent_ws(request: web.Request) -> web.StreamResponse:
    """The agent's screen: every message the engine pushes for this agent, as JSON."""
    user_id = current_identity(request).user_id
    _same_origin(request)
    runtime = _runtime(request)
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024)
    await ws.prepare(request)
    runtime.hub.add(user_id, ws)
    try:
        await ws.send_json({"type": "hello", "agent": runtime.agent_status(user_id)})
        async for msg in ws:  # the screen sends nothing we act on; commands go over HTTP
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        runtime.hub.remove(user_id, ws)
    return ws
