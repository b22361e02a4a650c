"""An agent's own quality scores (issue 19 part 4): their evaluations with the reviewer's
comments, each acknowledged or disputed. Only the logged-in agent's rows are ever read
(quality/review.py filters by their user id); a dispute goes back to the reviewer's queue."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from outdial.errors import OutdialError
from outdial.roles import Role
from quality import review
from quality.errors import AnswersInvalid
from web import inputs
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.pages_quality import recording_of
from web.routing import Routes
from web.shell import render

routes = Routes()
AGENTS = frozenset({Role.AGENT})


def _eval_id(request: web.Request) -> int:
    try:
        return int(request.match_info["evaluation_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _page(request: web.Request, error: str = "", done: str = "") -> web.Response:
    ident = current_identity(request)
    rows = await run_db(review.evaluations_of_agent, request.app[ENGINE], ident.user_id)
    data_dir = request.app[CONFIG].data_dir
    shown = [
        {**r, "recorded": recording_of(data_dir, r["call_id"]) is not None}
        for r in rows
        if r["status"] != review.Status.REVISED
    ]
    scores = [r["score"] for r in shown]
    ctx = {
        "rows": shown,
        "average": sum(scores) / len(scores) if scores else None,
        "error": error,
        "done": done,
    }
    name = "_my_quality.html" if request.headers.get("HX-Request") else "my_quality.html"
    return render(name, request, ctx)


@routes.get("/my/quality", roles=AGENTS)
async def my_quality(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/my/quality/{evaluation_id}/acknowledge", roles=AGENTS)
async def acknowledge(request: web.Request) -> web.Response:
    ident = current_identity(request)
    try:
        await run_db(
            review.acknowledge,
            request.app[ENGINE],
            _eval_id(request),
            ident.user_id,
            datetime.now(UTC),
        )
    except OutdialError as err:
        return await _page(request, error=err.message)
    return await _page(request, done="acknowledged")


@routes.post("/my/quality/{evaluation_id}/dispute", roles=AGENTS)
async def dispute(request: web.Request) -> web.Response:
    form = await inputs.form_body(request)
    why = inputs.check_text(str(form.get("why", "")).strip()[:4000], "why")
    ident = current_identity(request)
    try:
        if not why:
            raise AnswersInvalid("say why you disagree, so the reviewer can look again")
        await run_db(
            review.dispute,
            request.app[ENGINE],
            _eval_id(request),
            ident.user_id,
            why,
            datetime.now(UTC),
        )
    except OutdialError as err:
        return await _page(request, error=err.message)
    return await _page(request, done="disputed")
