"""Quality control in a real Chromium (web/pages_quality*.py, web/pages_my_quality.py): the
reviewer scores a recorded call (seek, speed), the agent reads and disputes it, the dispute
comes back to the reviewer. Screenshots in both languages go to test-output/screenshots/."""

from __future__ import annotations

import math
import struct
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import browserkit
import consolekit
import pytest
import qcdata
from sqlalchemy.engine import Engine
from sqlmodel import col

from outdial.roles import Role
from quality import alert_store, review, store

pytestmark = pytest.mark.browser


def tone(path: Path, seconds: int = 30) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = (
            int(8000 * 0.3 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(8000 * seconds)
        )
        w.writeframes(b"".join(struct.pack("<h", f) for f in frames))


def floor(engine: Engine, data_dir: Path) -> dict[str, list[int]]:
    now = datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=1)
    agents = {"li": qcdata.agent(engine, "li"), "wang": qcdata.agent(engine, "wang")}
    calls = qcdata.floor(engine, monday, agents, calls_each=3)["calls"]
    store.save_card(
        engine, qcdata.card_definition("Order check", ("order_verification",)), None, now
    )
    for k in range(2):
        tone(data_dir / "recordings" / f"call-li-{k}.wav")
    alert_store.add_threshold(engine, "qa_score", "agent", "", 75.0, 1)
    return calls


async def score_call(w: browserkit.Watched, attempt_id: int, lang: str, comment: str) -> None:
    page = w.page
    await page.goto(f"/quality/calls/{attempt_id}")
    audio = page.locator("#recording")
    await page.wait_for_function("document.getElementById('recording').readyState >= 1")
    await page.locator("[data-speed='1.5']").click()
    assert await audio.evaluate("a => a.playbackRate") == 1.5
    await page.locator("[data-skip='10']").click()
    assert await audio.evaluate("a => a.currentTime") == pytest.approx(10, abs=0.5)
    for item, value in (("greeting", "yes"), ("identity", "yes"), ("clarity", "4")):
        await page.check(f"input[name=item-{item}][value='{value}']")
    await page.locator("#live-score", has_text="1").wait_for()  # one item still to answer
    await page.check("input[name=item-recap][value=no]")
    await page.locator("#live-score", has_text="69.4").wait_for()  # computed by the core
    await page.fill("textarea[name=comment]", comment)
    await w.shot("quality-review", lang)
    await page.locator("form.scorecard button.primary").click()
    await page.locator("#review .ok", has_text="69.4").wait_for()


async def test_reviewer_and_agent_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    consolekit.user(engine, "qa1", Role.QA)
    consolekit.user(engine, "boss", Role.MANAGER)
    calls = floor(engine, tmp_path)
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    async with browserkit.chromium() as browser:
        for k, lang in enumerate(("en", "zh")):
            call = calls["li"][k]
            w = await browserkit.new_page(browser, base, lang)
            page = w.page
            await browserkit.login(w, "qa1", consolekit.PASSWORD)
            await page.goto("/quality")
            if lang == "en":
                await page.locator("#queue button.primary").click()
                await page.locator("#queue [role=status]").wait_for()
            assert await page.locator(f"#queue-{call}").count() == 1
            await w.shot("quality-queue", lang)
            await score_call(w, call, lang, f"Read the order back ({lang})")
            await page.goto("/quality/cards")
            await w.shot("quality-cards", lang)

            agent = await browserkit.new_page(browser, base, lang)
            await browserkit.login(agent, "li", consolekit.PASSWORD, "**/desk")
            apage = agent.page
            await apage.goto("/my/quality")
            assert await apage.locator("article.evaluation").count() == k + 1
            card = apage.locator(f"article.evaluation:has-text('({lang})')")
            await card.locator("summary").click()
            await agent.shot("my-quality", lang)
            await card.locator("input[name=why]").fill("I read it back at 2:10")
            await card.locator("form.inline button").click()
            await apage.locator("#mine [role=status]").wait_for()
            assert agent.problems == []

            await page.goto("/quality")
            assert await page.locator(f"#queue-{call} .reason-dispute").count() == 1
            await page.goto(f"/quality/calls/{call}")
            await page.locator(".dispute", has_text="2:10").wait_for()
            await w.shot("quality-dispute", lang)
            await page.fill("textarea[name=reply]", "Not on the recording")
            await page.locator(".dispute button").click()
            await page.wait_for_url("**/quality")

            await page.goto("/quality/alerts")
            await page.locator("#alerts button").first.click()
            await page.locator("#alerts .alert", has_text="li").wait_for()
            await w.shot("quality-alerts", lang)
            await page.goto("/quality/reports?by=agent,week")
            await w.shot("quality-reports", lang)
            assert w.problems == []

            boss = await browserkit.new_page(browser, base, lang)
            await browserkit.login(boss, "boss", consolekit.PASSWORD)
            await boss.page.locator("#qc-alerts .alerts-strip").wait_for()
            await boss.shot("board-alerts", lang)
            assert boss.problems == []


async def test_an_alert_reaches_an_open_floor_board_without_a_reload(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19.5 "shown on the floor board at once": the board is open, a threshold is
    added elsewhere, the background check raises the alert and the strip appears live."""
    from web import pages_quality_alerts

    engine = sqlite_engine
    monkeypatch.setattr(pages_quality_alerts, "CHECK_EVERY", 1.0)
    consolekit.user(engine, "boss", Role.MANAGER)
    now = datetime.now(UTC)
    calls = qcdata.floor(engine, now - timedelta(hours=2), {"li": qcdata.agent(engine, "li")}, 2)
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    bad = {"greeting": "no", "identity": "yes", "clarity": "2", "recap": "no"}
    for c in calls["calls"]["li"]:
        review.evaluate(engine, c, card.id or 0, bad, "", None, now)
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    async with browserkit.chromium() as browser:
        boss = {lang: await browserkit.new_page(browser, base, lang) for lang in ("en", "zh")}
        for w in boss.values():
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            await w.page.locator("#board").wait_for()
            assert await w.page.locator("#qc-alerts .alerts-strip").count() == 0
        added = time.monotonic()
        alert_store.add_threshold(engine, "qa_score", "agent", "", 75.0, 1)
        for lang, w in boss.items():
            strip = w.page.locator("#qc-alerts .alerts-strip", has_text="33.1")
            await strip.wait_for(timeout=15_000)  # no reload: the page polls the strip
            await w.shot("board-alert-live", lang)
            assert w.problems == []
        seconds = time.monotonic() - added
    # the check every second (patched here; 15 s in service) plus the strip's 5 s poll
    assert seconds < 8, seconds


async def test_teams_set_on_people_group_the_qa_report(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """An admin types each agent's team on /people; the QA report by team shows them."""
    engine = sqlite_engine
    consolekit.user(engine, "root", Role.ADMIN)
    consolekit.user(engine, "qa1", Role.QA)
    now = datetime.now(UTC)
    agents = {name: qcdata.agent(engine, name) for name in ("li", "wang", "zhao")}
    calls = qcdata.floor(engine, now - timedelta(hours=2), agents, 1)["calls"]
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    answers = {"greeting": "yes", "identity": "yes", "clarity": "4", "recap": "no"}
    for name in agents:
        review.evaluate(engine, calls[name][0], card.id or 0, answers, "", None, now)
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    teams = {"en": ("Early A", "Late B"), "zh": ("早班 A组", "晚班 B组")}
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            early, late = teams[lang]
            admin = await browserkit.new_page(browser, base, lang)
            await browserkit.login(admin, "root", consolekit.PASSWORD)
            page = admin.page
            await page.goto("/people")
            for name, team in (("li", early), ("wang", early), ("zhao", late)):
                form = page.locator(f"form[hx-post='/people/users/{name}/team']")
                await form.locator("input[name=team]").fill(team)
                await form.locator("button").click()
                await page.locator(
                    f"form[hx-post='/people/users/{name}/team'] [role=status]"
                ).wait_for()
            await admin.shot("people-teams", lang)
            day = (
                (now - timedelta(hours=2)).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
            )
            await page.goto(f"/reports?from={day}&to={day}&interval=day&by=team&kpi=dials&kpi=aht")
            table = page.locator("table", has_text=early)
            await table.wait_for()
            await admin.shot("reports-by-team", lang)
            assert admin.problems == []
            qa = await browserkit.new_page(browser, base, lang)
            await browserkit.login(qa, "qa1", consolekit.PASSWORD)
            await qa.page.goto("/quality/reports")
            await qa.page.select_option("select[name=by]", "team")
            await qa.page.locator("form.card button.primary").click()
            await qa.page.wait_for_url("**by=team**")
            rows = qa.page.locator("section.card table").first.locator("tbody tr")
            assert await rows.count() == 2
            assert await rows.nth(0).locator("td").nth(1).inner_text() == "2"  # li and wang
            await qa.shot("quality-reports-teams", lang)
            assert qa.problems == []


async def test_a_default_disposition_reads_in_the_reviewers_language(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """The review page shows a default label ("Success / 成功" as stored) in the reviewer's
    language only (web/disposition_words.py), as the desk and the reports' calls do."""
    import sqlalchemy as sa

    from campaigns.models import Disposition
    from dialer.models import Attempt
    from outdial.storage import session_scope

    engine = sqlite_engine
    consolekit.user(engine, "qa1", Role.QA)
    call = floor(engine, tmp_path)["wang"][0]
    with session_scope(engine) as s:
        attempt = s.get(Attempt, call)
        assert attempt is not None
        s.add(Disposition(campaign_id=attempt.campaign_id, code="success", label="Success / 成功"))
        s.execute(sa.update(Attempt).where(col(Attempt.id) == call).values(disposition="success"))
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    async with browserkit.chromium() as browser:
        for lang, word in (("en", "success — Success"), ("zh", "success — 成功")):
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            await browserkit.login(w, "qa1", consolekit.PASSWORD)
            await w.page.goto(f"/quality/calls/{call}")
            shown = w.page.locator("dd", has_text="success")
            assert (await shown.inner_text()).strip() == word
            await w.shot("quality-review-default-label", lang)
            assert w.problems == []
