"""The floor board: today's figures, start/pause/stop, launch-check refusals in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from dialer.models import Attempt
from outdial.roles import Role
from outdial.storage import session_scope


async def test_board_lists_campaigns_and_refuses_a_start_in_words(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    app = consolekit.app_for(engine, tmp_path, owned_numbers=frozenset({"+8610099999"}))
    client = await aiohttp_client(app)
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "spring", ["+8613800000001"])
    csrf = await consolekit.login(client, "mgr")
    page = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    assert f'id="campaign-{cid}"' in page and "spring" in page
    no_header = await client.post(f"/campaigns/{cid}/start")
    assert no_header.status == 403  # CSRF
    resp = await client.post(
        f"/campaigns/{cid}/start", headers={"X-CSRF-Token": csrf, "Accept-Language": "zh-CN"}
    )
    text = await resp.text()
    assert resp.status == 200
    assert "外呼任务无法启动" in text and "外显号码" in text and "rule-27" in text
    api = await client.get("/api/board", headers={"X-CSRF-Token": csrf})
    assert (await api.json())["campaigns"][0]["status"] == "draft"


async def test_start_then_pause_from_the_board(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "go", ["+8613800000001"])
    csrf = await consolekit.login(client, "mgr")
    headers = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    started = await (await client.post(f"/campaigns/{cid}/start", headers=headers)).text()
    assert "dialing" in started and "Pause" in started
    paused = await (await client.post(f"/campaigns/{cid}/pause", headers=headers)).text()
    assert "paused" in paused and "Resume" in paused
    live = await client.get(f"/api/campaigns/{cid}/live")
    body = await live.json()
    assert body["campaign"]["status"] == "paused" and "today" in body["campaign"]


async def test_live_view_of_a_campaign_that_never_ran(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "idle", ["+8613800000001"])
    await consolekit.login(client, "mgr")
    # the first view says it is counting (web/pages_live.py); once counted, the panel
    assert (await client.get(f"/api/campaigns/{cid}/live")).status == 200
    resp = await client.get(f"/campaigns/{cid}/live", headers={"Accept-Language": "en"})
    text = await resp.text()
    assert resp.status == 200
    assert "Not dialing: the campaign is not started." in text


async def test_simulated_calls_have_their_own_marked_row_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 17: a campaign that dialed both the simulated carrier and a real one shows the
    real figures in its row and the simulated ones in a marked row of their own (Chromium)."""
    import browserkit

    engine = sqlite_engine
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "春季回访", ["+8613800000001"])
    contact = dialdata.rows(engine, "SELECT id FROM contacts")[0][0]
    now = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(engine) as s:
        for n in range(7):  # 2 real calls, 5 simulated ones
            s.add(Attempt(call_id=f"c{n}", campaign_id=cid, contact_id=contact, final=True,
                          number="+8613800000001", answered_at=now, simulated=n >= 2))  # fmt: skip
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    async with browserkit.chromium() as browser:
        for lang, badge in (("en", "Simulated"), ("zh", "模拟")):
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            await browserkit.login(w, "mgr", consolekit.PASSWORD)
            real = w.page.locator(f"#campaign-{cid} td.num").first
            sim = w.page.locator(f"#campaign-{cid}-simulated")
            assert (await real.inner_text()).strip() == "2"
            assert (await sim.locator("td.num").first.inner_text()).strip() == "5"
            assert (await sim.locator(".badge.simulated").inner_text()).strip() == badge
            await w.shot("board-simulated-row", lang)
            assert not w.problems, w.problems


async def test_an_empty_board_leads_to_a_campaign_before_a_list(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """A list goes into a campaign (the upload page refuses without one), so the empty board's
    first step is the campaign; it once said "upload a list first" and led to a dead end."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    await consolekit.login(client, "mgr")
    page = await (await client.get("/", headers={"Accept-Language": "zh-CN"})).text()
    empty = page.split('class="empty card"')[1].split("</section>")[0]
    assert empty.index('href="/campaigns/new"') < empty.index('href="/lists/upload"')
    assert "请先创建外呼任务" in empty
    upload = await (await client.get("/lists/upload", headers={"Accept-Language": "zh-CN"})).text()
    assert "正当利益" in upload and ">legitimate_interest<" not in upload


async def test_a_start_without_a_safe_harbor_message_says_where_to_upload_it(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """The refusal once printed the CLI's English (`outdial prompts add ...`) on a Chinese page;
    it now says it in the manager's words and links to the campaign's Prompts page."""
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path, default_safe_harbor=None))
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "predict", ["+8613800000001"], "predictive")
    csrf = await consolekit.login(client, "mgr")
    headers = {"X-CSRF-Token": csrf, "Accept-Language": "zh-CN"}
    text = await (await client.post(f"/campaigns/{cid}/start", headers=headers)).text()
    assert "外呼任务无法启动" in text and "呼损提示录音" in text
    assert f'href="/campaigns/{cid}/prompts"' in text and "outdial prompts add" not in text
