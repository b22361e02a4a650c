"""The floor board: today's figures, start/pause/stop, launch-check refusals in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from outdial.roles import Role


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
    resp = await client.get(f"/campaigns/{cid}/live", headers={"Accept-Language": "en"})
    text = await resp.text()
    assert resp.status == 200
    assert "Not dialing: the campaign is not started." in text
