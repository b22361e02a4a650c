"""Alerts and QA reports pages (web/pages_quality_alerts.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import consolekit
import qcdata
from sqlalchemy.engine import Engine

from outdial import auth
from outdial.roles import Role
from quality import review, store

EN = {"Accept-Language": "en"}
BAD = {"greeting": "no", "identity": "yes", "clarity": "2", "recap": "no"}


def scored(engine: Engine) -> None:
    now = datetime.now(UTC)
    agents = {"li": qcdata.agent(engine, "li")}
    calls = qcdata.floor(engine, now - timedelta(hours=3), agents, calls_each=2)["calls"]
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    for c in calls["li"]:
        review.evaluate(engine, c, card.id or 0, BAD, "", None, now)


async def test_a_qa_floor_alert_fires_shows_on_the_board_and_clears(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    scored(engine)  # li: (30·2/3 + 70·(3·0.25 + 0)/4)/100 = 33.125 → 33.1
    consolekit.user(engine, "mgr", Role.MANAGER)
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    csrf = await consolekit.login(client, "mgr")
    h = {**EN, "X-CSRF-Token": csrf, "HX-Request": "1"}
    bad = await client.post(
        "/quality/thresholds",
        data={"metric": "paused_seconds", "scope": "campaign", "limit": "60"},
        headers=h,
    )
    assert "cannot be watched per campaign" in await bad.text()
    nan = await client.post(
        "/quality/thresholds",
        data={"metric": "qa_score", "scope": "agent", "limit": "lots"},
        headers=h,
    )
    assert "is not a number" in await nan.text()
    added = await client.post(
        "/quality/thresholds",
        data={"metric": "qa_score", "scope": "agent", "limit": "75", "min_volume": "1"},
        headers=h,
    )
    assert "below 75" in await added.text()
    await client.post(
        "/quality/thresholds",
        data={"metric": "abandon_rate", "scope": "campaign", "limit": "2.5", "min_volume": "0"},
        headers=h,
    )
    checked = await (await client.post("/quality/alerts/check", headers=h)).text()
    assert "1 new alert." in checked and "QA score (7 days)" in checked
    board = await (await client.get("/", headers=EN)).text()
    assert 'hx-get="/quality/alerts/strip"' in board
    strip = await (await client.get("/quality/alerts/strip", headers=EN)).text()
    assert "li" in strip and "33.1" in strip and "limit 75" in strip
    again = await (await client.post("/quality/alerts/check", headers=h)).text()
    assert "0 new alerts." in again  # still the same episode, not a new alert
    page = await (await client.get("/quality/alerts", headers=EN)).text()
    tid = page.split('hx-post="/quality/thresholds/')[1].split("/")[0]
    await client.post(f"/quality/thresholds/{tid}/delete", headers=h)
    strip = await (await client.get("/quality/alerts/strip", headers=EN)).text()
    assert "33.1" not in strip


async def test_qa_report_and_csv(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    scored(engine)
    consolekit.user(engine, "qa1", Role.QA)
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    await consolekit.login(client, "qa1")
    page = await (await client.get("/quality/reports?by=agent", headers=EN)).text()
    assert "Items most often failed" in page and "Reads the order back" in page
    assert "<td>li</td>" in page
    resp = await client.get("/quality/reports.csv?by=campaign,week")
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0] == ["campaign", "week", "evaluations", "average", "lowest", "critical_failed"]
    assert rows[1][0] == "Spring orders" and rows[1][2] == "2" and rows[1][3] == "33.1"
    failed = rows[rows.index([]) + 2 :]
    assert {r[1] for r in failed} == {"greeting", "clarity", "recap"}
    bad = await client.get("/quality/reports?by=shift", headers=EN)
    assert bad.status == 400 and "team" in await bad.text()  # the error lists the groupings
    auth.set_team(engine, "li", "Team A")
    resp = await client.get("/quality/reports.csv?by=team,week")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["team", "week", "evaluations"]
    assert (rows[1][0], rows[1][2], rows[1][3]) == ("Team A", "2", "33.1")
    page = await (await client.get("/quality/reports?by=team", headers=EN)).text()
    assert "<th>Team</th>" in page and "<td>Team A</td>" in page
    bad = await client.get("/quality/reports?from=yesterday", headers=EN)
    assert bad.status == 400
