"""An agent's own scores (web/pages_my_quality.py): only their own, acknowledge, dispute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import consolekit
import qcdata
from sqlalchemy.engine import Engine

from outdial.roles import Role
from quality import review, store

EN = {"Accept-Language": "en"}
GOOD = {"greeting": "yes", "identity": "yes", "clarity": "5", "recap": "yes"}


async def test_agent_sees_only_their_own_and_acknowledges_or_disputes(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    now = datetime.now(UTC)
    agents = {"li": qcdata.agent(engine, "li"), "wang": qcdata.agent(engine, "wang")}
    calls = qcdata.floor(engine, now - timedelta(hours=5), agents, calls_each=2)["calls"]
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    mine = [
        review.evaluate(engine, c, card.id or 0, GOOD, f"fine call {c}", None, now)
        for c in calls["li"]
    ]
    theirs = review.evaluate(
        engine, calls["wang"][0], card.id or 0, {**GOOD, "identity": "no"}, "WANG-SECRET", None, now
    )
    rec = tmp_path / "recordings" / f"call-li-{0}.wav"
    rec.parent.mkdir()
    rec.write_bytes(b"RIFF....WAVE")  # served as it is; the page only needs it to exist
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    csrf = await consolekit.login(client, "li")
    page = await (await client.get("/my/quality", headers=EN)).text()
    assert 'href="/my/quality"' in page  # the agent's menu entry
    assert "fine call" in page and "WANG-SECRET" not in page
    assert f'id="evaluation-{theirs.id}"' not in page
    assert "2 evaluations" in page
    assert page.count("<audio") == 1  # only the recorded call, their own
    assert f'src="/quality/recordings/{calls["li"][0]}"' in page
    assert (await client.get(f"/quality/recordings/{calls['li'][0]}")).status == 200
    h = {**EN, "X-CSRF-Token": csrf, "HX-Request": "1"}
    # another agent's evaluation: refused in words, nothing changes
    resp = await client.post(f"/my/quality/{theirs.id}/acknowledge", headers=h)
    assert "another agent" in await resp.text()
    assert review.evaluations_of_agent(engine, agents["wang"])[0]["status"] == "open"
    ack = await (await client.post(f"/my/quality/{mine[0].id}/acknowledge", headers=h)).text()
    assert "Acknowledged." in ack
    no_reason = await client.post(f"/my/quality/{mine[1].id}/dispute", data={"why": ""}, headers=h)
    assert "say why" in await no_reason.text()
    sent = await client.post(
        f"/my/quality/{mine[1].id}/dispute", data={"why": "customer hung up"}, headers=h
    )
    assert "sent to the reviewer" in await sent.text()
    assert review.queue(engine)[0]["reason"] == "dispute"
    # reviewers' pages are not for agents
    assert (await client.get("/quality", headers=EN)).status == 403
    assert (await client.get("/quality/reports", headers=EN)).status == 403


async def test_reviewers_do_not_have_an_own_scores_page(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    consolekit.user(engine, "qa1", Role.QA)
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    await consolekit.login(client, "qa1")
    assert (await client.get("/my/quality", headers=EN)).status == 403
    home = await (await client.get("/", headers=EN)).text()
    assert "Your pages:" in home and '<a class="button" href="/quality">' in home
    page = await (await client.get("/my/quality/nope", headers=EN)).text()
    assert "quality reviewer" in page  # the error page keeps who is logged in
