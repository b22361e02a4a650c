"""The floor board (实时监控, the home page) and its start / pause / stop buttons.

Figures come from dialer/board.py (also ``GET /api/board``); the buttons call the same
runtime methods as ``POST /api/campaigns/{id}/start|pause|stop``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dialer import board
from outdial.errors import OutdialError
from outdial.roles import Role
from web.api_dialer import RUNTIME
from web.apidoc import ANY_OBJ, Doc, arr, obj
from web.i18n import N_
from web.keys import CONFIG, ENGINE, FIGURES
from web.middleware import current_identity, run_db
from web.routing import ANY_USER, Routes
from web.shell import MANAGERS, lang_of, render

routes = Routes()

#: launch-check problems (compliance.decision.launch_checks) in the manager's words, by field
PROBLEM_WORDS = {
    "caller_id": N_("The caller ID is missing, anonymous or not one of the company's numbers."),
    "ring_timeout_s": N_("Phones must ring for at least 15 seconds before the dialer gives up."),
    "safe_harbor_recording": N_(
        "This mode can abandon calls: set a safe-harbor recording (a short message played "
        "when no agent is free)."
    ),
    # the launch check's field since prompts have names (dialer/runtime.py, compliance/decision.py)
    "safe_harbor_prompt": N_(
        "This mode can abandon calls: upload a safe-harbor recording (a short message played "
        "when no agent is free) on the campaign's Prompts page and put its name in the "
        "campaign settings."
    ),
    "hours": N_("The calling hours are outside what the law allows."),
    "abandon_cap": N_("The abandon-rate cap is above the legal limit."),
}


def _campaign_id(request: web.Request) -> int:
    try:
        return int(request.match_info["campaign_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


#: where a manager fixes a launch-check problem in the console (path, link words)
FIX_PAGES = {
    "safe_harbor_prompt": ("/campaigns/{}/prompts", N_("Upload it on the Prompts page")),
    "safe_harbor_recording": ("/campaigns/{}/prompts", N_("Upload it on the Prompts page")),
    "caller_id": ("/campaigns/{}/edit", N_("Campaign settings")),
    "ring_timeout_s": ("/campaigns/{}/edit", N_("Campaign settings")),
}

TITLES = {
    "start": N_("The campaign cannot start:"),
    "pause": N_("The campaign cannot be paused:"),
    "stop": N_("The campaign cannot be stopped:"),
}


def refusal(request: web.Request, err: OutdialError, action: str = "start") -> dict[str, Any]:
    """An error from start/pause/stop as sentences in the user's language, with rule numbers."""
    _ = lang_of(request).gettext
    problems = err.fields.get("problems")
    lines = []
    if isinstance(problems, list):
        for p in problems:
            words = PROBLEM_WORDS.get(str(p.get("field")))
            rules = ", ".join(p.get("rules") or ())
            line = {"text": _(words) if words else p.get("message", ""), "rules": rules}
            if str(p.get("field")) in FIX_PAGES and "campaign_id" in request.match_info:
                path, words = FIX_PAGES[str(p.get("field"))]
                line.update(href=path.format(request.match_info["campaign_id"]), fix=_(words))
            lines.append(line)
    elif err.code == "campaign_not_running":
        lines.append({"text": _("The campaign is not running on this server."), "rules": ""})
    else:
        lines.append({"text": err.message, "rules": ""})
    return {"title": _(TITLES.get(action, TITLES["start"])), "lines": lines, "code": err.code}


async def _rows(request: web.Request) -> list[dict[str, Any]]:
    memo = request.app[FIGURES]
    return list(await run_db(board.board, request.app[ENGINE], datetime.now(UTC), memo))


@routes.get("/", roles=ANY_USER)
async def home(request: web.Request) -> web.Response:
    """Managers get the floor board; other roles a page saying where their work is."""
    ident = current_identity(request)
    if ident.role is Role.SURVEYOR:  # the survey team's work starts at its surveys (issue 14)
        raise web.HTTPSeeOther("/surveys")
    if ident.role is Role.AGENT:  # an agent's work is at their desk (issue 14)
        raise web.HTTPSeeOther("/desk")
    if ident.role not in MANAGERS:
        live: list[dict[str, Any]] = []
        if ident.role is Role.QA and "qa" in request.app[CONFIG].monitor_roles:
            running = set(request.app[RUNTIME].running) if RUNTIME in request.app else set()
            live = [r for r in await _rows(request) if r["id"] in running]  # issue 19.1
        return render("home_other.html", request, {"role": ident.role.value, "live": live})
    ctx = {"rows": await _rows(request), "refusals": {}, "notices": False}
    return render("board.html", request, ctx)


@routes.get("/board/rows", roles=MANAGERS)
async def board_rows(request: web.Request) -> web.Response:
    """The board's body, refreshed by htmx every few seconds."""
    ctx = {"rows": await _rows(request), "refusals": {}, "notices": False}
    return render("_board_rows.html", request, ctx)


async def _control(request: web.Request, action: str) -> web.Response:
    cid = _campaign_id(request)
    runtime = request.app[RUNTIME]
    refusals: dict[int, dict[str, Any]] = {}
    try:
        await getattr(runtime, action)(cid)
    except OutdialError as err:
        refusals[cid] = {"name": f"#{cid}", **refusal(request, err, action)}  # no such campaign
    rows = await _rows(request)
    for row in rows:
        if row["id"] in refusals:
            refusals[row["id"]]["name"] = row["name"]
    ctx = {"rows": rows, "refusals": refusals, "notices": True}
    return render("_board_rows.html", request, ctx)


@routes.post("/campaigns/{campaign_id}/start", roles=MANAGERS)
async def start(request: web.Request) -> web.Response:
    return await _control(request, "start")


@routes.post("/campaigns/{campaign_id}/pause", roles=MANAGERS)
async def pause(request: web.Request) -> web.Response:
    return await _control(request, "pause")


@routes.post("/campaigns/{campaign_id}/stop", roles=MANAGERS)
async def stop(request: web.Request) -> web.Response:
    return await _control(request, "stop")


@routes.post("/demo", roles=MANAGERS)
async def demo(request: web.Request) -> web.Response:
    """The empty board's button: sample campaigns and simulated agents (``outdial demo``),
    only while the simulated carrier answers (sample numbers must never reach a carrier)."""
    cfg = request.app[CONFIG]
    if not cfg.simulated:
        raise web.HTTPConflict(
            text="sample data needs the simulated carrier (no OUTDIAL_SIP_TRUNK)"
        )
    from outdial import demo as sample

    await run_db(sample.create, request.app[ENGINE], cfg)
    ctx = {"rows": await _rows(request), "refusals": {}, "notices": False}
    return render("_board_rows.html", request, ctx)


@routes.get(
    "/api/board",
    roles={Role.MANAGER, Role.ADMIN},
    doc=Doc(
        "The floor board: every campaign with its state and today's figures",
        returns=obj(campaigns=arr(ANY_OBJ)),
    ),
)
async def api_board(request: web.Request) -> web.Response:
    """Every campaign with its state and today's figures (the floor board as JSON)."""
    return web.json_response({"campaigns": await _rows(request)})
