"""The compliance preview before a start: of the campaign's records, how many may be called
now, later today, or not at all, by rule, with a few example records for each reason
(``compliance.gate.preview_report``, the same call as ``GET /api/compliance/preview``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from campaigns import rules
from campaigns import store as campaigns
from compliance import gate as gates
from web.i18n import N_
from web.keys import ENGINE
from web.middleware import run_db
from web.routing import Routes
from web.shell import MANAGERS, render

routes = Routes()
HORIZON = timedelta(hours=24)
#: the decision categories (compliance.decision.Category) in a supervisor's words
CATEGORIES = {
    "BLOCK_HOURS": N_("calling hours"),
    "HOLIDAY": N_("public holiday"),
    "DNC": N_("do-not-call list"),
    "CONSENT": N_("consent or lawful basis"),
    "CAP": N_("attempt limit"),
    "ABANDON_GATE": N_("abandon rate"),
}


@routes.get("/campaigns/{campaign_id}/preview", roles=MANAGERS)
async def preview_page(request: web.Request) -> web.Response:
    try:
        cid = int(request.match_info["campaign_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    engine, at = request.app[ENGINE], datetime.now(UTC)

    def run() -> dict[str, Any]:
        camp = campaigns.get(engine, cid)
        summary, extra = gates.preview_report(engine, cid, at, at + HORIZON)
        reasons = []
        for code, n in sorted(summary.by_reason.items(), key=lambda kv: -kv[1]):
            rule, _, category = code.partition(":")
            samples = extra["samples"].get(code, [])
            kind = CATEGORIES.get(category, category)
            reasons.append({"rule": rule, "category": kind, "count": n, "samples": samples})
        total = summary.now + summary.later + summary.blocked
        # rule 26: a manager reading "no consent" must learn why the campaign asks for it
        purpose = campaigns.spec_of(engine, camp).purpose or rules.default_purpose(camp.kind)
        return {"campaign": camp, "now": summary.now, "later": summary.later,
                "blocked": summary.blocked, "total": total, "reasons": reasons,
                "marketing": purpose == "marketing"}  # fmt: skip

    return render("preview.html", request, await run_db(run))
