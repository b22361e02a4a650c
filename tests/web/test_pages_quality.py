"""The reviewer's pages: queue, one call with its scorecard, scorecards (web/pages_quality.py)."""

from __future__ import annotations

import json
import re
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import consolekit
import qcdata
from sqlalchemy.engine import Engine
from sqlmodel import col

from outdial.roles import Role
from quality import review, store

EN = {"Accept-Language": "en"}
ANSWERS = {
    "item-greeting": "yes",
    "item-identity": "yes",
    "item-clarity": "4",
    "item-recap": "no",
}


def floor(engine: Engine) -> tuple[dict[str, int], dict[str, list[int]], int]:
    now = datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=1)
    agents = {"li": qcdata.agent(engine, "li"), "wang": qcdata.agent(engine, "wang")}
    ids = qcdata.floor(engine, monday, agents, calls_each=2)
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    return agents, ids["calls"], card.id or 0


def wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)


async def test_reviewer_draws_the_sample_and_scores_a_call(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "qa1", Role.QA)
    _, calls, card_id = floor(engine)
    csrf = await consolekit.login(client, "qa1")
    h = {**EN, "X-CSRF-Token": csrf}
    page = await (await client.get("/quality", headers=EN)).text()
    assert "Nothing to review" in page and 'href="/quality"' in page  # the menu entry
    drawn = await (await client.post("/quality/sample", headers={**h, "HX-Request": "1"})).text()
    assert "calls added to the queue" in drawn and "complaint" in drawn
    complaint = calls["li"][0]
    assert f'href="/quality/calls/{complaint}"' in drawn
    call = await (await client.get(f"/quality/calls/{complaint}", headers=EN)).text()
    assert "This call was not recorded" in call  # no recording file for this call
    assert "Customer complained" in call and "Checks the customer" in call
    # the composite, computed by quality/cards.py, while the form is filled
    partial = {"card_id": str(card_id), "item-greeting": "yes"}
    resp = await client.post(f"/quality/calls/{complaint}/score", data=partial, headers=h)
    assert "3 items still to answer" in await resp.text()
    full = {"card_id": str(card_id), **ANSWERS}
    resp = await client.post(f"/quality/calls/{complaint}/score", data=full, headers=h)
    assert "<strong>69.4</strong>" in await resp.text()
    # a missing answer: a 400 in words, what was typed is kept
    missing = {k: v for k, v in full.items() if k != "item-recap"}
    resp = await client.post(
        f"/quality/calls/{complaint}", data={**missing, "comment": "keep me"}, headers=h
    )
    text = await resp.text()
    assert resp.status == 400 and "Reads the order back" in text and "keep me" in text
    resp = await client.post(
        f"/quality/calls/{complaint}", data={**full, "comment": "recap missing"}, headers=h
    )
    assert resp.status == 200 and "Composite score: 69.4" in await resp.text()
    assert complaint not in {r["attempt_id"] for r in review.queue(engine)}


async def test_recording_plays_with_ranges_and_agents_get_only_their_own(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "qa1", Role.QA)
    _, calls, _ = floor(engine)
    wav(tmp_path / "recordings" / "call-li-0.wav")
    await consolekit.login(client, "qa1")
    page = await (await client.get(f"/quality/calls/{calls['li'][0]}", headers=EN)).text()
    assert f'src="/quality/recordings/{calls["li"][0]}"' in page and '<audio id="recording"' in page
    assert 'data-speed="1.5"' in page
    part = await client.get(
        f"/quality/recordings/{calls['li'][0]}", headers={"Range": "bytes=100-199"}
    )
    assert part.status == 206 and len(await part.read()) == 100  # the player can seek
    assert (await client.get(f"/quality/recordings/{calls['li'][1]}")).status == 404
    other = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    await consolekit.login(other, "wang")
    assert (await other.get(f"/quality/recordings/{calls['li'][0]}")).status == 404
    assert (await other.get("/quality", headers=EN)).status == 403


async def test_scorecards_page_versions_and_errors(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "qa1", Role.QA)
    csrf = await consolekit.login(client, "qa1")
    h = {**EN, "X-CSRF-Token": csrf, "HX-Request": "1"}
    page = await (await client.get("/quality/cards", headers=EN)).text()
    assert "No scorecard yet" in page and "order_verification" in page  # the example
    body = json.dumps(qcdata.card_definition("Calls", ("return_visit",)))
    saved = await (await client.post("/quality/cards", data={"definition": body}, headers=h)).text()
    assert "Saved: Calls, version 1." in saved and "return visit" in saved
    assert '<td class="num">4</td>' in saved and "built-in" not in saved  # items on the card
    toml_text = (
        'name = "Calls"\nkinds = ["return_visit"]\n[[sections]]\nid = "s"\ntitle = "All"\n'
        '[[sections.items]]\nid = "greeting"\ntext = "Greets"\n'
    )
    saved = await (
        await client.post("/quality/cards", data={"definition": toml_text}, headers=h)
    ).text()
    assert "Saved: Calls, version 2." in saved and "2 versions" in saved
    bad = await client.post("/quality/cards", data={"definition": "{not json"}, headers=h)
    assert "not valid JSON" in await bad.text()
    bad_card = json.loads(body)
    bad_card["sections"][0]["items"][0]["id"] = "Bad id"
    resp = await client.post("/quality/cards", data={"definition": json.dumps(bad_card)}, headers=h)
    text = await resp.text()
    assert "lower-case letters" in text and "Bad id" in text  # the pasted text is kept
    retired = await (await client.post("/quality/cards/Calls/retire", headers=h)).text()
    assert "No scorecard yet" in retired


async def test_dispute_comes_back_to_the_reviewer_who_keeps_the_score(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    agents, calls, card_id = floor(engine)
    consolekit.user(engine, "qa1", Role.QA)
    ev = review.evaluate(
        engine,
        calls["li"][1],
        card_id,
        {k[5:]: v for k, v in ANSWERS.items()},
        "",
        None,
        datetime.now(UTC),
    )
    review.dispute(engine, ev.id or 0, agents["li"], "the customer hung up", datetime.now(UTC))
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    csrf = await consolekit.login(client, "qa1")
    queue = await (await client.get("/quality", headers=EN)).text()
    assert "disputed by the agent" in queue
    call = await (await client.get(f"/quality/calls/{calls['li'][1]}", headers=EN)).text()
    assert "The agent disputes this evaluation" in call and "the customer hung up" in call
    h = {**EN, "X-CSRF-Token": csrf, "HX-Request": "1"}
    empty = await client.post(
        f"/quality/evaluations/{ev.id}/uphold", data={"reply": " "}, headers=h
    )
    assert empty.status == 400
    kept = await client.post(
        f"/quality/evaluations/{ev.id}/uphold", data={"reply": "recap missing"}, headers=h
    )
    assert kept.status == 204 and kept.headers["HX-Redirect"] == "/quality"
    assert review.evaluations_of_agent(engine, agents["li"])[0]["status"] == "upheld"
    assert re.search(r"Nothing to review", await (await client.get("/quality", headers=EN)).text())


async def test_the_sampling_rule_is_set_on_the_queue_page(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "qa1", Role.QA)
    floor(engine)
    csrf = await consolekit.login(client, "qa1")
    h = {**EN, "X-CSRF-Token": csrf, "HX-Request": "1"}
    form = {
        "per_agent": "1",
        "new_agent_extra": "0",
        "new_agent_days": "30",
        "low_score_extra": "0",
        "low_score_floor": "80",
    }
    bad = await (
        await client.post("/quality/rule", data={**form, "per_agent": "x"}, headers=h)
    ).text()
    assert "whole numbers" in bad
    page = await (await client.post("/quality/rule", data=form, headers=h)).text()
    assert "calls per agent: 1;" in page and 'value="1"' in page
    drawn = await (await client.post("/quality/sample", headers=h)).text()
    assert "3 calls added" in drawn  # li: complaint, low survey (no call left); wang: 1


async def test_a_default_disposition_label_is_in_the_readers_language(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """A campaign's default label is stored in both languages ("Success / 成功"); the call's
    page shows it in the reader's language only (web/disposition_words.py); a manager's own
    label stays as typed."""
    import sqlalchemy as sa

    from campaigns.models import Disposition
    from dialer.models import Attempt
    from outdial.storage import session_scope

    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "qa1", Role.QA)
    _, calls, _ = floor(engine)
    call, typed = calls["li"][1], calls["wang"][0]
    with session_scope(engine) as s:
        attempt = s.get(Attempt, call)
        assert attempt is not None
        s.add(Disposition(campaign_id=attempt.campaign_id, code="success", label="Success / 成功"))
        s.execute(sa.update(Attempt).where(col(Attempt.id) == call).values(disposition="success"))
    await consolekit.login(client, "qa1")
    for lang, word in (("en", "success — Success</dd>"), ("zh-CN", "success — 成功</dd>")):
        page = await (
            await client.get(f"/quality/calls/{call}", headers={"Accept-Language": lang})
        ).text()
        assert word in page and "Success / 成功" not in page
    other = await (await client.get(f"/quality/calls/{typed}", headers=EN)).text()
    assert "sale — Order confirmed</dd>" in other
