"""Rule 19 over HTTP: sampled machine verdicts and people's marks on them (issue 20).

The rules live in compliance/amd_reviews.py; these handlers only translate."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from campaigns import store as campaigns
from compliance import amd_reviews
from outdial.roles import Role
from web.apidoc import INT, NUM, STR, TIME, Doc, arr, obj
from web.inputs import json_body, str_field
from web.keys import ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

routes = Routes()
REVIEWERS = {Role.ADMIN, Role.MANAGER, Role.AGENT}  # the agent who took the call marks it

SAMPLE = obj(call_id=STR, answered_at=TIME, state=STR, truth=STR)
ESTIMATE = obj(
    marked=INT,
    persons=INT,
    machines=INT,
    pending=INT,
    rate=NUM,
    interval95=arr(NUM),
    lab_rate=NUM,
    gauge_rate=NUM,
)


@routes.get(
    "/api/amd/samples",
    roles={Role.ADMIN, Role.MANAGER},
    doc=Doc(
        "Sampled machine verdicts of a campaign waiting for a mark, and its AMD "
        "false-positive estimate (rule 19)",
        query={"campaign": "the campaign name", "all": "1: marked samples too"},
        returns=obj(samples=arr(SAMPLE), estimate=ESTIMATE),
    ),
)
async def samples(request: web.Request) -> web.Response:
    engine, q = request.app[ENGINE], request.query
    name = q.get("campaign", "")

    def read() -> dict[str, Any]:
        row = campaigns.by_name(engine, name)
        assert row.id is not None
        rows = amd_reviews.samples(engine, row.id, pending_only=q.get("all") != "1")
        return {
            "campaign": name,
            "samples": [
                {
                    "call_id": r.call_id,
                    "answered_at": r.answered_at.isoformat() if r.answered_at else None,
                    "state": r.state,
                    "truth": r.truth,
                }
                for r in rows
            ],
            "estimate": amd_reviews.summary(engine, row.id),
        }

    return web.json_response(await run_db(read))


@routes.post(
    "/api/amd/reviews",
    roles=REVIEWERS,
    doc=Doc(
        "Mark a sampled machine verdict: it was a person or a machine (rule 19)",
        body=obj(required=["call_id", "truth"], call_id=STR, truth=STR),
        returns=obj(call_id=STR, truth=STR, estimate=ESTIMATE),
    ),
)
async def review(request: web.Request) -> web.Response:
    body = await json_body(request)
    call_id = str_field(body, "call_id", max_len=64)
    truth = str_field(body, "truth", max_len=16)
    ident = current_identity(request)
    engine = request.app[ENGINE]
    own = ident.user_id if ident.role is Role.AGENT else None  # an agent: their own calls

    def write() -> dict[str, Any]:
        sample = amd_reviews.mark(engine, call_id, truth, ident.username, agent_user_id=own)
        return {
            "call_id": call_id,
            "truth": truth,
            "estimate": amd_reviews.summary(engine, sample.campaign_id),
        }

    return web.json_response(await run_db(write))
