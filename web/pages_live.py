"""A campaign's live view: one engine snapshot a second, pushed as server-sent events.

Each event is the live panel rendered on the server (escaped, in the user's language); the
browser swaps it in (web/static/console/console.js). The snapshot is the runtime's
``status`` (``GET /api/campaigns/{id}/status``) plus dialer/board.py's agents, skip reasons
and today's figures (``GET /api/campaigns/{id}/live``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from campaigns import store as campaigns
from dialer import board
from dialer import status as dbstatus
from outdial.errors import NotFound, OutdialError
from outdial.memo import Memo
from outdial.roles import Role
from web.api_dialer import RUNTIME
from web.api_monitor import MONITORING, may_monitor
from web.apidoc import ANY_OBJ, Doc, obj
from web.keys import ENGINE, FIGURES
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import MANAGERS, context_of, render

routes = Routes()
#: who sees a live view: managers, and QA (issue 19.1: they monitor calls from it)
WATCHERS = frozenset({*MANAGERS, Role.QA})
# seconds between snapshots, on a fixed beat (not after each one's work): a change in the
# engine reaches the page within EVERY + one snapshot's time (the issue: <= 1 s)
EVERY = 0.5
SKIPS_EVERY = 10.0  # skip reasons scan the campaign's contacts: once every 10 s is enough
SKIPS: web.AppKey[Memo] = web.AppKey("console_skips")
STREAMS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("console_streams")
#: campaigns whose costly counts are being read for a first view (see live_page)
COUNTING: web.AppKey[dict[int, asyncio.Future[Any]]] = web.AppKey("console_counting")
#: the counts db_status keeps in FIGURES (dialer/status.py ``kept``), and today's figures
MEMO_KEYS = ("attempts", "records", "abandon", "today")


def setup(app: web.Application) -> None:
    app[STREAMS] = set()
    app[SKIPS] = Memo(ttl=SKIPS_EVERY)
    app[COUNTING] = {}

    async def close_streams(app: web.Application) -> None:
        streams: set[asyncio.Task[Any]] = app[STREAMS]
        for task in list(streams):
            task.cancel()
        app[SKIPS].close()

    app.on_shutdown.append(close_streams)


def _campaign_id(request: web.Request) -> int:
    try:
        return int(request.match_info["campaign_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def snapshot(request: web.Request, cid: int) -> dict[str, Any]:
    """Everything the live panel shows, from one status read. What the engine knows is
    fresh; the counts that read every contact or call of the day are at most FIGURES_TTL
    seconds old, the skip reasons SKIPS_EVERY (outdial/memo.py)."""
    engine, now, figures = request.app[ENGINE], datetime.now(UTC), request.app[FIGURES]
    status = await request.app[RUNTIME].status(cid, figures)

    def extra() -> dict[str, Any]:
        camp = campaigns.get(engine, cid)
        return {
            "stored_status": camp.status,  # "scheduled": held outside its weekly schedule
            "today": _today(request.app, camp, now),
            "agents": board.agents_on_floor(engine, cid, now),
            "skips": request.app[SKIPS].get(cid, lambda: board.skip_reasons(engine, cid)),
        }

    snap = {**status, **(await run_db(extra)), "at": now.isoformat()}
    return snap | _calls(request, cid, snap["agents"])


def _today(app: web.Application, camp: Any, now: datetime) -> dict[str, Any]:
    engine, cid = app[ENGINE], camp.id
    return app[FIGURES].get(("today", cid), lambda: board.today_figures(engine, camp, now))


def counted(app: web.Application, cid: int) -> bool:
    """Are the campaign's costly counts in memory (a snapshot would not wait for them)?"""
    figures = app[FIGURES]
    return all(figures.ready((k, cid)) for k in MEMO_KEYS) and app[SKIPS].ready(cid)


def count_in_background(app: web.Application, cid: int) -> None:
    """Read the costly counts of a campaign in a worker thread (at most one such read per
    campaign at a time); a snapshot taken meanwhile waits for these reads, never repeats
    them (outdial/memo.py)."""
    if cid in app[COUNTING]:
        return
    engine, figures = app[ENGINE], app[FIGURES]

    def read() -> None:
        now = datetime.now(UTC)
        dbstatus.db_status(engine, cid, now, figures)
        _today(app, campaigns.get(engine, cid), now)
        app[SKIPS].get(cid, lambda: board.skip_reasons(engine, cid))

    job = asyncio.get_running_loop().run_in_executor(None, read)
    app[COUNTING][cid] = job
    job.add_done_callback(lambda done: _counted(app, cid, done))


def _counted(app: web.Application, cid: int, job: asyncio.Future[Any]) -> None:
    app[COUNTING].pop(cid, None)
    if not job.cancelled():
        job.exception()  # retrieved: the snapshot that waits reads again and reports it


def _calls(request: web.Request, cid: int, agents: list[dict[str, Any]]) -> dict[str, Any]:
    """The connected calls a supervisor may join (issue 19.1), with the agent's name."""
    try:
        may_monitor(request)
        can = MONITORING in request.app
    except OutdialError:
        can = False
    calls = request.app[MONITORING].calls(cid) if MONITORING in request.app else []
    names = {a["user_id"]: a["name"] for a in agents}
    me = current_identity(request).user_id
    for c in calls:
        c["agent"] = names.get(c["agent_id"], str(c["agent_id"]))
        c["mine"] = bool(c["monitor"]) and c["monitor"]["supervisor_id"] == me
    return {"calls": calls, "can_monitor": can}


@routes.get(
    "/api/campaigns/{campaign_id}/live",
    roles=WATCHERS,
    doc=Doc(
        "The campaign live view's snapshot (agents, lines, the pacer's decision in words)",
        returns=obj(campaign=ANY_OBJ),
    ),
)
async def api_live(request: web.Request) -> web.Response:
    """The live view's snapshot as JSON."""
    return web.json_response({"campaign": await snapshot(request, _campaign_id(request))})


@routes.get("/campaigns/{campaign_id}/live", roles=WATCHERS)
async def live_page(request: web.Request) -> web.Response:
    """The first view after a start (or after nobody watched for a while) does not wait for
    the counts that read every contact (1.3-6.7 s at 1 M contacts): it says it is counting
    them, and the first pushed update (under a second later, once they are read) shows them."""
    cid = _campaign_id(request)
    app = request.app
    if counted(app, cid):
        snap = await snapshot(request, cid)
        return render("live.html", request, {"s": snap, "cid": cid, "counting": False})
    camp = await run_db(campaigns.get, app[ENGINE], cid)  # a 404 for a campaign not there
    count_in_background(app, cid)
    head = {"name": camp.name, "mode": camp.mode}
    return render("live.html", request, {"s": head, "cid": cid, "counting": True})


@routes.get("/campaigns/{campaign_id}/live/events", roles=WATCHERS)
async def live_events(request: web.Request) -> web.StreamResponse:
    """text/event-stream: the rendered panel every EVERY s until the browser goes away."""
    cid = _campaign_id(request)
    await snapshot(request, cid)  # a 404 before the stream starts, not inside it
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await resp.prepare(request)
    task = asyncio.current_task()
    assert task is not None
    request.app[STREAMS].add(task)
    loop = asyncio.get_running_loop()
    beat = loop.time()
    try:
        while True:
            try:
                snap = await snapshot(request, cid)
            except NotFound:
                break
            html = aiohttp_jinja2.render_string(
                "_live_panel.html", request, {**context_of(request), "s": snap, "cid": cid}
            )
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            await resp.write((data + "\n").encode())
            beat = max(beat + EVERY, loop.time())  # a late beat is not made up in a burst
            await asyncio.sleep(beat - loop.time())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        request.app[STREAMS].discard(task)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp
