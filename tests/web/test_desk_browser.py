"""The agent's desk in a real Chromium, over real SIP (issue 14, "Tests and proof").

SIPp is the customer behind the trunk (stays on the line until we hang up) and the agent's
auto-answering softphone; the console server runs the real engine and SIP worker pool. The
agent signs in, goes ready, gets the screen pop, fills the order-verification form, hangs up,
is refused a callback outside the legal window, reloads mid-wrap-up without losing the notes,
and sets the callback with a number key; a second desk tab is refused politely; the second
call is taken in Chinese. Screenshots of the desk in both languages go to
test-output/screenshots/ (desk-*.en.png, desk-*.zh.png).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import browserkit
import consolekit
import dialdata
import pytest
from dialdata import until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from campaigns import orders, rules
from campaigns import store as campaigns
from outdial import auth
from outdial.roles import Role
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool
from web.api_dialer import RUNTIME
from web.pages_desk import DESK_TABS

pytestmark = [pytest.mark.browser, pytest.mark.sip, pytest.mark.slow]

TESTS = Path(__file__).parents[1]
CUSTOMER = TESTS / "outdial" / "scenarios" / "customer.xml"
SOFTPHONE = TESTS / "dialer" / "scenarios" / "agent.xml"


def order(n: int) -> dict[str, Any]:
    return {
        "external_id": f"SO-{n}",
        "customer_name": ["王女士", "李先生"][n - 1],
        "phone": f"+861380010000{n}",
        "lines": [{"sku": "KT-1", "name": "电热水壶", "qty": 1, "price": "199.00"}],
        "address": {"text": "上海市浦东新区世纪大道 1 号"},
        "payment": {"method": "cod", "amount": "199.00"},
        "ship_by": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }


def order_campaign(engine: Engine) -> int:
    spec = rules.parse_campaign(
        {
            "name": "核单 · 华东",
            "kind": "order_verification",
            "caller_id": "+8610010000",
            "script": "您好，{name}，我是商城客服，来核对您的订单 {external_id}。",
        }
    )
    camp, _ = campaigns.save_spec(engine, spec)
    orders.upsert_orders(engine, camp, [order(1), order(2)])
    assert camp.id is not None
    return camp.id


async def test_an_agents_day_at_the_desk(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    workdir = write_all(tmp_path / "sipp")
    customer = SippPeer(CUSTOMER, workdir, calls=2, timeout=240)
    softphone = SippPeer(SOFTPHONE, workdir, calls=3, timeout=240)  # + the test call
    await asyncio.sleep(0.3)  # SIPp binds
    sip = SipConfig(
        rtp_port_start=random.randrange(30000, 38000, 400),
        trunk=TrunkConfig("127.0.0.1", customer.port),
    )
    pool = PoolConfig(sip, min_workers=1, max_workers=1, customer_lines=1)
    app = consolekit.app_for(
        engine,
        tmp_path,
        sip_factory=lambda cid: SipPool(pool),
        engine_options=consolekit.real_sip_options(tmp_path),
    )
    auth.create_user(engine, "li", consolekit.PASSWORD, Role.AGENT, sip_uri=softphone.uri("li"))
    cid = order_campaign(engine)
    server = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with browserkit.chromium() as browser:
            zh = await browserkit.new_page(browser, base, "zh")
            await signin_page(zh, "zh")  # nothing runs yet: said so
            await app[RUNTIME].start(cid)
            en = await browserkit.new_page(browser, base, "en")
            await first_call(en, engine, cid)
            await second_tab_then_second_call(zh, en, engine, app[DESK_TABS])
            assert en.problems == [] and zh.problems == [], (en.problems, zh.problems)
        await app[RUNTIME].stop(cid)
        customer.stop()
        softphone.stop()
        for peer, calls in ((customer, 2), (softphone, 3)):  # each ended by our BYE; the
            result = peer.wait(30)  # softphone's first call is the test call at sign-in
            assert (result.successful, result.failed) == (calls, 0), result.stderr + result.errors
    finally:
        customer.kill()
        softphone.kill()


async def login(w: browserkit.Watched) -> None:
    page = w.page
    await page.goto("/login")
    await page.fill("input[name=username]", "li")
    await page.fill("input[name=password]", consolekit.PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/desk")  # an agent lands on the desk, not the floor board


async def signin_page(w: browserkit.Watched, lang: str) -> None:
    await login(w)
    await w.page.get_by_text("现在没有正在外呼的任务").wait_for()
    await w.shot("desk-no-campaign", lang)


async def first_call(w: browserkit.Watched, engine: Engine, cid: int) -> None:
    page = w.page
    await login(w)
    await w.shot("desk-signin", "en")
    assert (await page.input_value("#sip_uri")).startswith("sip:li@127.0.0.1:")
    await page.select_option("select[name=campaign_id]", str(cid))
    await page.get_by_role("button", name="Sign in and go ready").click()
    await page.locator("#state-badge").wait_for()
    # the test call: the auto-answering softphone answers, and the desk says so at once
    await page.get_by_text("Softphone answered the test call").wait_for(timeout=10_000)
    await w.shot("desk-softphone-answered", "en")
    # the call: the customer answers, the softphone answers, the record pops up
    pop = page.locator("#callpanel")
    await pop.wait_for(timeout=30_000)
    assert await page.locator("#state-badge").inner_text() == "on call"
    text = await pop.inner_text()
    assert "王女士" in text and "电热水壶" in text and "SO-1" in text
    assert "+8613800100001" not in text and "0001" in text  # masked as the agent sees it
    assert "您好，王女士，我是商城客服，来核对您的订单 SO-1。" in text
    await page.locator("input[name=verdict][value=changed]").check()
    await page.fill("input[name=change_delivery_time]", "周三下午")
    await page.get_by_role("button", name="Save the verdict").click()
    await page.get_by_text("Verdict saved: Changed.").wait_for()
    assert orders.get_order(engine, "SO-1").verdict == "changed"
    notes = "客户要求周三下午送货，15:30 再确认"  # digits typed in a field are not hotkeys
    async with page.expect_response(lambda r: r.url.endswith("/draft")):
        await page.locator("textarea[name=notes]").press_sequentially(notes)
    assert await page.locator("#dispose-result").inner_text() == ""  # no disposition was sent
    await w.shot("desk-call", "en")
    await page.get_by_role("button", name="Hang up").click()
    await page.locator("#state-badge", has_text="wrap-up").wait_for()

    # a callback outside the legal window (09:00-20:00 Shanghai) is refused, in words
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
    async with page.expect_response(lambda r: r.url.endswith("/draft")):
        await page.fill("input[name=callback_local]", f"{day}T03:00")
    await page.locator("#callpanel h2").first.click()  # out of the field: keys are hotkeys
    await page.keyboard.press("3")  # 3: call back
    await page.get_by_text("outside the legal calling hours").wait_for()
    await w.shot("desk-wrapup-refused", "en")
    # wrap-up ends with the disposition: a pause first is refused (409), said in words
    await page.select_option("#pause-reason", "break")
    await page.locator("#btn-pause").click()
    await page.locator(
        "#desk-msg", has_text="Set the disposition of your last call first"
    ).wait_for()
    assert await page.locator("#state-badge").inner_text() == "wrap-up"
    await w.shot("desk-wrapup-pause-refused", "en")

    # a reload mid-wrap-up loses nothing typed
    async with page.expect_response(lambda r: r.url.endswith("/draft")):
        await page.select_option("select[name=pause_reason]", "break")
    await page.reload()
    await page.locator("#callpanel").wait_for()
    assert await page.input_value("textarea[name=notes]") == notes
    assert await page.input_value("input[name=callback_local]") == f"{day}T03:00"
    assert await page.locator("input[name=verdict][value=changed]").is_checked()
    assert await page.locator("#state-badge").inner_text() == "wrap-up"
    await page.fill("input[name=callback_local]", f"{day}T15:30")
    await page.locator("#callpanel h2").first.click()
    await page.keyboard.press("3")
    await page.get_by_text("Callback scheduled.").wait_for()
    await page.locator("#state-badge", has_text="not ready").wait_for()
    (att,) = dialdata.rows(engine, "SELECT disposition, notes FROM attempts")
    assert (att.disposition, att.notes) == ("callback", notes)
    (cb,) = dialdata.rows(engine, "SELECT owner_id, local_time, customer_zone FROM callbacks")
    assert (cb.local_time, cb.customer_zone) == (f"{day}T15:30", "Asia/Shanghai")
    await page.locator("#due li", has_text="15:30").count()
    await page.locator("#counts b", has_text="1").first.wait_for()
    await w.shot("desk-paused", "en")


async def second_tab_then_second_call(
    zh: browserkit.Watched, en: browserkit.Watched, engine: Engine, tabs: dict[int, Any]
) -> None:
    page = zh.page
    await page.goto("/desk")  # the same agent, another window: refused politely
    await page.locator("#desk-msg", has_text="您的坐席已在另一个标签页或窗口中打开").wait_for()
    await zh.shot("desk-second-tab", "zh")
    await en.page.context.close()
    await page.reload()
    await page.locator("#conn.ok").wait_for()
    # the socket drops (a proxy, a network blip): the desk reconnects and resyncs by itself
    (user_id,) = list(tabs)
    dropped = tabs[user_id][1]
    await dropped.close()
    await until(lambda: user_id in tabs and tabs[user_id][1] is not dropped, 10, "a reconnect")
    await page.locator("#conn.ok").wait_for()
    assert await page.locator("#state-badge").inner_text() == "示忙"  # paused, as it was
    await page.keyboard.press("Alt+r")  # ready: the next customer is dialed
    pop = page.locator("#callpanel")
    await pop.wait_for(timeout=30_000)
    assert "李先生" in await pop.inner_text()
    await page.locator("#state-badge", has_text="通话中").wait_for()
    await zh.shot("desk-call", "zh")
    await page.get_by_role("button", name="挂机").click()
    await page.locator("#state-badge", has_text="话后处理").wait_for()
    await page.locator("button", has_text="签出外呼任务").click()  # refused: a disposition is owed
    await page.locator("#desk-msg", has_text="请先填写上一通电话的通话小结").wait_for()
    await zh.shot("desk-wrapup-signout-refused", "zh")
    await page.fill("textarea[name=notes]", "已确认")
    await page.locator("#callpanel h2").first.click()
    await page.keyboard.press("1")  # 1: success
    await page.get_by_text("通话小结已保存。").wait_for()
    await page.locator("#idle").wait_for()
    await page.locator("#state-badge", has_text="示闲").wait_for()
    await zh.shot("desk-ready", "zh")
    rows = dialdata.rows(engine, "SELECT disposition FROM attempts ORDER BY id")
    assert [r.disposition for r in rows] == ["callback", "success"]


async def test_preview_at_the_desk(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Preview mode (fake SIP peer): the next record, Skip needs a reason, Dial, the pop."""
    engine = sqlite_engine
    spec = {"name": "预览", "mode": "preview", "caller_id": "+8610010000",
            "dialing": {"preview_auto_dial_seconds": 30}}  # fmt: skip
    camp, _ = campaigns.save_spec(engine, rules.parse_campaign(spec))
    cid = camp.id or 0
    dialdata.add_contacts(engine, cid, ["+8613800100001", "+8613800100002"])
    consolekit.user(engine, "li", Role.AGENT)
    app = consolekit.app_for(engine, tmp_path)
    server = await aiohttp_server(app, host="127.0.0.1")
    await app[RUNTIME].start(cid)
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            page = w.page
            await login(w)
            if lang == "en":
                await page.get_by_role("button", name="Sign in and go ready").click()
            await page.locator("#btn-next").click()
            record = page.locator("#preview-record")
            await record.get_by_text("客户").first.wait_for()
            assert "+8613800100001" not in await record.inner_text()  # masked
            await page.locator("#preview-auto", has_text="2").wait_for()  # the countdown runs
            await w.shot("desk-preview", lang)
            if lang == "zh":
                assert w.problems == [], w.problems
                break
            await page.get_by_role("button", name="Skip").click()  # no reason: the form says
            assert await page.locator("#preview").is_visible()
            await page.fill("input[name=reason]", "客户要求换时间")
            await page.get_by_role("button", name="Skip").click()
            await page.locator("#preview").wait_for(state="hidden")
            await page.locator("#btn-next").click()
            await page.locator("#preview-record").get_by_text("客户").first.wait_for()
            await page.get_by_role("button", name="Dial").click()
            await page.locator("#callpanel").wait_for()
            await page.locator("#state-badge", has_text="wrap-up").wait_for()
            await page.locator("#callpanel h2").first.click()
            await page.keyboard.press("1")
            await page.get_by_text("Disposition saved.").wait_for()
            await page.context.close()
            assert w.problems == [], w.problems
    await app[RUNTIME].stop(cid)


async def test_a_sampled_machine_verdict_is_marked_on_the_desk(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 19 on the desk (issue 20): the detector said machine, the call was sampled to the
    agent; the screen pop asks person or machine, the mark is stored before the disposition.
    The SIP side is the fake peer (the AMD verdict is the point here, not the audio)."""
    from sip.fake import FakeScript, FakeSipPort

    engine = sqlite_engine
    monkeypatch.setattr("dialer.core.sampled", lambda call_id, share: True)

    def far_end(target: str) -> FakeScript:
        if "li@" in target:
            return FakeScript(delay=0.02)
        return FakeScript(delay=0.1, amd="machine")

    app = consolekit.app_for(engine, tmp_path, sip_factory=lambda cid: FakeSipPort(far_end))
    auth.create_user(engine, "li", consolekit.PASSWORD, Role.AGENT, sip_uri="sip:li@127.0.0.1")
    spec = {"name": "满意度 · 抽检", "caller_id": "+8610010000", "dialing": {"amd": True}}
    camp, _ = campaigns.save_spec(engine, rules.parse_campaign(spec))
    assert camp.id is not None
    dialdata.add_contacts(engine, camp.id, ["+8613800100009"])
    server = await aiohttp_server(app, host="127.0.0.1")
    await app[RUNTIME].start(camp.id)
    try:
        async with browserkit.chromium() as browser:
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", "en")
            page = w.page
            await login(w)
            await page.select_option("select[name=campaign_id]", str(camp.id))
            await page.get_by_role("button", name="Sign in and go ready").click()
            check = page.locator("#amd-check")
            await check.wait_for(timeout=20_000)
            assert "was this a person or a machine?" in await check.inner_text()
            await w.shot("desk-amd-check", "en")
            await page.get_by_role("button", name="A person").click()
            await page.get_by_text("Marked: a person answered.").wait_for()
            (review,) = dialdata.rows(engine, "SELECT truth, reviewed_by FROM amd_reviews")
            assert (review.truth, review.reviewed_by) == ("person", "li")
            await w.page.context.close()
            zh = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", "zh")
            await login(zh)
            await zh.page.locator("#amd-check", has_text="答录机抽检").wait_for(timeout=20_000)
            await zh.page.get_by_text("已标记：真人接听。").wait_for()
            await zh.shot("desk-amd-check", "zh")
            assert w.problems == [] and zh.problems == [], (w.problems, zh.problems)
    finally:
        await app[RUNTIME].stop(camp.id)


async def test_team_callbacks_and_refused_commands_on_the_desk(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Team A (li, wang) has a team callback due: it is in "due today" on both desks (li in
    English, wang in Chinese), li takes it and it leaves wang's desk. Then Ready and Hang up
    fail (the network drops: Playwright aborts the request; the server refuses: 409): the desk
    says so in words, and no script error or unhandled rejection is left."""
    from campaigns.models import Callback
    from outdial.storage import session_scope

    engine = sqlite_engine
    spec = {"name": "预览回呼", "mode": "preview", "caller_id": "+8610010000"}
    camp, _ = campaigns.save_spec(engine, rules.parse_campaign(spec))
    cid = camp.id or 0
    dialdata.add_contacts(engine, cid, ["+8613800100001"])
    for name in ("li", "wang", "zhao"):
        consolekit.user(engine, name, Role.AGENT)
        auth.set_team(engine, name, "B" if name == "zhao" else "A")
    li_id = auth.get_user(engine, "li").id
    with session_scope(engine) as s:
        due = datetime.now(UTC) - timedelta(minutes=5)
        s.add(
            Callback(
                campaign_id=cid, phone="+8613900100009", customer_name="陈女士",
                customer_zone="Asia/Shanghai", owner_kind="team", created_by=li_id,
                local_time=due.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"),
                due_at=due, note="客户说下午方便",
            )
        )  # fmt: skip
    app = consolekit.app_for(engine, tmp_path)
    server = await aiohttp_server(app, host="127.0.0.1")
    await app[RUNTIME].start(cid)
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with browserkit.chromium() as browser:
            desks = {}
            for name, lang in (("li", "en"), ("wang", "zh"), ("zhao", "en")):
                w = await browserkit.new_page(browser, base, lang)
                await browserkit.login(w, name, consolekit.PASSWORD, "**/desk")
                await w.page.locator("#signin button[type=submit]").click()
                await w.page.locator("#btn-ready").wait_for()
                desks[name] = w
            li, wang, zhao = desks["li"], desks["wang"], desks["zhao"]
            await li.page.locator("#due li", has_text="陈女士").wait_for()
            await wang.page.locator("#due li", has_text="陈女士").wait_for()
            assert await wang.page.locator("#due .badge.team").inner_text() == "班组回呼"
            assert await zhao.page.locator("#due li", has_text="陈女士").count() == 0
            await li.shot("desk-team-callback", "en")
            await wang.shot("desk-team-callback", "zh")
            await li.page.get_by_role("button", name="Take it").click()
            await li.page.locator("#taken").wait_for()
            await li.page.locator("#due button.take").wait_for(state="detached")
            assert await li.page.locator("#due li", has_text="陈女士").count() == 1  # now li's
            await wang.page.reload()
            await wang.page.locator("#btn-ready").wait_for()
            assert await wang.page.locator("#due li", has_text="陈女士").count() == 0
            await li.shot("desk-team-callback-taken", "en")

            # Ready with the network down, then refused by the server: said in words
            for w, lang in ((li, "en"), (wang, "zh")):
                page = w.page
                await page.route("**/api/agent/ready", lambda route: route.abort())
                await page.locator("#btn-ready").click()
                msg = page.locator("#desk-msg.problem")
                await msg.wait_for()
                said = await msg.inner_text()
                assert said in (
                    "The server did not answer: check the network connection and try again.",
                    "服务器没有响应：请检查网络连接后重试。",
                ), said
                await w.shot("desk-ready-network-down", lang)
                await page.unroute("**/api/agent/ready")
                await page.route(
                    "**/api/agent/ready",
                    lambda route: route.fulfill(
                        status=409,
                        content_type="application/json",
                        json={"error": "conflict", "message": "the campaign is stopping"},
                    ),
                )
                await page.locator("#btn-ready").click()
                await page.locator("#desk-msg", has_text="the campaign is stopping").wait_for()
                await page.unroute("**/api/agent/ready")
            # Hang up (Alt+H) on a previewed call with the network down
            page = li.page
            await page.locator("#btn-next").click()
            await page.locator("#preview-record").get_by_text("客户").first.wait_for()
            await page.get_by_role("button", name="Dial").click()
            await page.locator("#callpanel").wait_for()
            await page.route("**/api/agent/hangup", lambda route: route.abort())
            await page.locator("#callpanel h2").first.click()
            await page.keyboard.press("Alt+h")
            await page.locator("#desk-msg.problem", has_text="did not answer").wait_for()
            await page.unroute("**/api/agent/hangup")
            for w in (li, wang, zhao):  # the aborted requests' own network lines aside
                errors = [p for p in w.problems if "net::ERR_FAILED" not in p]
                assert errors == [], errors
    finally:
        await app[RUNTIME].stop(cid)
