"""Transfer to the survey IVR from the desk, end to end (issue 14, desk item 2).

A real Chromium, the real console server, the real engine and SIP worker pool: SIPp is the
customer (tests/dialer/scenarios/ivr_customer.xml, pressing RFC 4733 keys) and the agent's
auto-answering softphone. First the agent signs in with a softphone that refuses (SIPp 486)
and the desk says so; they sign in again with the right one and the desk says it answered.
Then the survey call: screen pop, "Transfer to the survey IVR", the disposition while the
customer answers by keypad; the survey team then sees the response in /surveys/ID/results
and in the CSV export. Screenshots in both languages (desk-softphone-*, desk-survey-*,
survey-results-transferred).
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import browserkit
import consolekit
import dialdata
import pytest
from dialdata import until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from campaigns import rules, survey_store, surveys
from campaigns import store as campaigns
from dialer.ivr import PromptCache
from outdial import auth
from outdial.roles import Role
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool
from web.api_dialer import RUNTIME

pytestmark = [pytest.mark.browser, pytest.mark.sip, pytest.mark.slow]

TESTS = Path(__file__).parents[1]
CUSTOMER = TESTS / "dialer" / "scenarios" / "ivr_customer.xml"  # +86138101...: keys
SOFTPHONE = TESTS / "dialer" / "scenarios" / "agent.xml"
REFUSING = TESTS / "sip" / "scenarios" / "agent_reject.xml"
NUMBER = "+8613810100021"
KEYS_AT = 12.0  # seconds after the answer: well after the agent's transfer
AFTER_SALES = surveys.Survey(
    name="after_sales_quick",
    title_zh="售后回访",
    title_en="After-sales follow-up",
    questions=(
        surveys.Question("recommend", surveys.QuestionKind.SCALE, "您会推荐我们吗？",
                         "Would you recommend us?"),
        surveys.Question("resolved", surveys.QuestionKind.YES_NO, "问题解决了吗？",
                         "Was it resolved?"),
    ),
    key_timeout_s=30,  # the keys come at fixed times; the question waits for them
)  # fmt: skip


def _harness() -> Any:
    """tests/dialer/test_ivr_sip.py's RFC 4733 pcap writer (loaded by path, as
    tests/web/test_pages_surveys.py does: tests are not a package)."""
    import importlib.util

    path = TESTS / "dialer" / "test_ivr_sip.py"
    spec = importlib.util.spec_from_file_location("ivr_sip_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def survey_campaign(engine: Engine) -> tuple[int, int]:
    survey_store.save_survey(engine, AFTER_SALES)
    sid = survey_store.get_survey(engine, AFTER_SALES.name)[0].id
    spec = rules.parse_campaign(
        {
            "name": "售后满意度",
            "kind": "satisfaction_survey",
            "mode": "progressive",
            "caller_id": "+8610010000",
            "survey": AFTER_SALES.name,
            "script": "您好，{name}，耽误您一分钟做个满意度回访。",
        }
    )
    camp, _ = campaigns.save_spec(engine, spec)
    assert camp.id is not None and sid is not None
    return camp.id, sid


async def test_a_call_transferred_to_the_survey_ivr_reaches_the_survey_team(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    cid, sid = survey_campaign(engine)
    for lang in ("zh", "en"):  # made at setup: espeak-ng is slow on a loaded machine
        await asyncio.to_thread(PromptCache(tmp_path / "prompts").warm, AFTER_SALES, lang)
    workdir = write_all(tmp_path / "sipp")
    harness = _harness()
    harness.dtmf_at(workdir / "answers.pcap", [(KEYS_AT, "4"), (KEYS_AT + 0.4, "1")])
    for name in ("invalid", "early", "optout"):
        harness.dtmf_at(workdir / f"{name}.pcap", [(0.5, "1")])
    customer = SippPeer(CUSTOMER, workdir, calls=1, timeout=120)
    softphone = SippPeer(SOFTPHONE, workdir, calls=2, timeout=120)  # the test call, the call
    refusing = SippPeer(REFUSING, workdir, calls=3, timeout=120)  # wang's twice, li's
    await asyncio.sleep(0.3)  # SIPp binds
    sip = SipConfig(
        rtp_port_start=random.randrange(30000, 38000, 400),
        trunk=TrunkConfig("127.0.0.1", customer.port),
    )
    pool = PoolConfig(sip, min_workers=1, max_workers=1, customer_lines=2)
    app = consolekit.app_for(
        engine,
        tmp_path,
        sip_factory=lambda cid: SipPool(pool),
        engine_options={**consolekit.real_sip_options(tmp_path), "record_calls": False},
    )
    li = auth.create_user(engine, "li", consolekit.PASSWORD, Role.AGENT).id
    consolekit.user(engine, "qa", Role.SURVEYOR)
    consolekit.user(engine, "wang", Role.AGENT)
    server = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    try:
        dialdata.add_contacts(engine, cid, [NUMBER])
        await app[RUNTIME].start(cid)
        await app[RUNTIME].pause(cid)  # no customer until li's right softphone is in
        async with browserkit.chromium() as browser:
            en = await browserkit.new_page(browser, base, "en")
            await refused_in_english(en, cid, refusing.uri("wang"))
            zh = await browserkit.new_page(browser, base, "zh")
            await softphone_checks(zh, cid, refusing.uri("li"), softphone.uri("li"))
            await app[RUNTIME].resume(cid)
            await transfer_the_call(zh)
            await until(lambda: survey_done(engine), 90, "the survey's response")
            for lang in ("en", "zh"):
                await results_seen(await browserkit.new_page(browser, base, lang), sid, lang)
            assert zh.problems == [], zh.problems
        if cid in app[RUNTIME].running:  # else it completed: its one record is done
            await app[RUNTIME].stop(cid)
        for peer, calls in ((customer, 1), (softphone, 2), (refusing, 3)):
            result = peer.wait(30)
            assert (result.successful, result.failed) == (calls, 0), result.stderr + result.errors
    finally:
        for peer in (customer, softphone, refusing):
            peer.kill()
    (resp,) = dialdata.rows(engine, "SELECT id, status, channel, agent_id FROM survey_responses")
    assert (resp.status, resp.channel, resp.agent_id) == ("completed", "ivr", li)
    got = dialdata.rows(engine, "SELECT question_id, value FROM survey_answers ORDER BY id")
    assert [(a.question_id, str(a.value)) for a in got] == [
        ("recommend", "4"),
        ("resolved", "true"),
    ]
    (att,) = dialdata.rows(engine, "SELECT agent_user_id, disposition, final FROM attempts")
    assert att.agent_user_id == li and att.disposition != "" and bool(att.final)


def survey_done(engine: Engine) -> bool:
    got = dialdata.rows(engine, "SELECT status FROM survey_responses")
    return bool(got) and got[0].status == "completed"


async def refused_in_english(w: browserkit.Watched, cid: int, wrong: str) -> None:
    page = w.page
    await browserkit.login(w, "wang", consolekit.PASSWORD, "**/desk")
    await page.fill("#sip_uri", wrong)
    await page.select_option("select[name=campaign_id]", str(cid))
    await page.get_by_role("button", name="Sign in and go ready").click()
    await page.get_by_text("Your softphone did not answer the test call").wait_for(timeout=15_000)
    assert "SIP 486" in await page.locator("#phone-test").inner_text()
    await w.shot("desk-softphone-no-answer", "en")
    await page.get_by_role("button", name="Test my softphone again").click()  # rings again
    await page.locator("#phone-test.phone-test-no_answer").wait_for(state="detached")
    await page.locator("#phone-test.phone-test-no_answer").wait_for(timeout=15_000)
    await page.get_by_role("button", name="Sign out of the campaign").click()  # no calls for
    await page.locator("#sip_uri").wait_for()  # wang: the customer goes to li
    assert not w.problems, w.problems


async def softphone_checks(w: browserkit.Watched, cid: int, wrong: str, right: str) -> None:
    """A refusing softphone is said so (the agent may still go on); the right one answers."""
    page = w.page
    await browserkit.login(w, "li", consolekit.PASSWORD, "**/desk")
    for uri, said, name in (
        (wrong, "您的软电话没有接听测试呼叫", "desk-softphone-no-answer"),
        (right, "软电话已接听测试呼叫", "desk-softphone-answered"),
    ):
        await page.fill("#sip_uri", uri)
        await page.select_option("select[name=campaign_id]", str(cid))
        await page.get_by_role("button", name="签入并示闲").click()
        await page.get_by_text(said).wait_for(timeout=15_000)
        await w.shot(name, "zh")
        if uri == wrong:
            assert await page.locator("#state-badge").inner_text() == "示闲"  # can go on
            await page.get_by_role("button", name="签出外呼任务").click()
            await page.locator("#sip_uri").wait_for()


async def transfer_the_call(w: browserkit.Watched) -> None:
    page = w.page
    pop = page.locator("#callpanel")
    await pop.wait_for(timeout=30_000)
    text = await pop.inner_text()
    assert "您好，客户1，耽误您一分钟做个满意度回访。" in text and "您会推荐我们吗？" in text
    await w.shot("desk-survey-call", "zh")
    await page.get_by_role("button", name="转满意度自助语音").click()
    await page.locator("#state-badge", has_text="话后处理").wait_for(timeout=10_000)
    # the customer is the IVR's now: no second transfer, no agent-led answers; said so
    await page.get_by_text("已转满意度自助语音：客户正在按键作答").wait_for()
    assert not await page.locator("#btn-ivr").is_visible()
    assert not await page.locator("#survey-form").is_visible()
    await w.shot("desk-survey-transferred", "zh")
    await page.reload()  # and after a reload (the attempt's transferred_at)
    await page.get_by_text("已转满意度自助语音：客户正在按键作答").wait_for()
    assert not await page.locator("#btn-ivr").is_visible()
    await page.locator("#callpanel .dispose h2").first.click()  # out of any field: hotkeys
    await page.keyboard.press("1")
    await page.locator("#state-badge", has_text="示闲").wait_for(timeout=10_000)


async def results_seen(w: browserkit.Watched, sid: int, lang: str) -> None:
    page = w.page
    await browserkit.login(w, "qa", consolekit.PASSWORD, "**/surveys")
    await page.goto(f"/surveys/{sid}/results")
    figures = await page.locator(".figure .v").all_inner_texts()
    assert figures[:3] == ["1", "1", "100.0%"], figures  # offered, completed, response rate
    row = page.locator("table.survey-questions tr", has_text="recommend")
    assert "4.00" in await row.inner_text()
    await page.locator(".dist-chart[data-rendered] svg").first.wait_for()
    await w.shot("survey-results-transferred", lang)
    if lang != "en":
        return
    async with page.expect_download() as info:
        await page.get_by_role("link", name="CSV", exact=True).click()
    download = await info.value
    saved = Path(await download.path())
    lines = saved.read_text("utf-8-sig").strip().splitlines()
    assert len(lines) == 2, lines
    assert ",ivr,completed," in lines[1] and "13810100021" not in lines[1], lines
    assert not w.problems, w.problems
