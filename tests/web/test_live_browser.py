"""The live view's first look in a real Chromium: at once, saying it is counting, then the
figures from the first pushed update. Screenshots (live-first-*.en/zh.png) go to
test-output/screenshots/."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import browserkit
import consolekit
import dialdata
import pytest
from sqlalchemy.engine import Engine

from outdial.roles import Role

pytestmark = pytest.mark.browser
COUNTING = {"en": "Counting this campaign's figures", "zh": "正在统计本任务的数据"}
RECORDS_LEFT = {"en": "Records left to dial", "zh": "待呼记录"}


def held_until(gate: asyncio.Event) -> Callable[[Any], Awaitable[None]]:
    """A Playwright route handler: the request goes out once ``gate`` is set."""

    async def hold(route: Any) -> None:
        await gate.wait()
        await route.continue_()

    return hold


async def test_first_live_view_counts_then_fills_in(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    numbers = [f"1380000{i:04d}" for i in range(7)]
    cid = dialdata.campaign_with_contacts(engine, "春季回访", numbers)
    consolekit.user(engine, "boss", Role.MANAGER)
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            # a server just started: nothing counted yet (each language its own start)
            server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            page = w.page
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            pushes = asyncio.Event()  # the updates wait until the first look is taken
            await page.route("**/live/events", held_until(pushes))
            await page.goto(f"/campaigns/{cid}/live")
            note = page.locator("#live p.counting")
            assert COUNTING[lang] in await note.inner_text()
            assert "春季回访" in await page.locator("h1").inner_text()
            await w.shot("live-first-counting", lang)
            pushes.set()
            await page.locator("#live-connection.ok").wait_for()  # the first push arrived
            figure = page.locator("#live .figure", has_text=RECORDS_LEFT[lang]).locator(".v")
            await figure.wait_for()
            assert (await figure.inner_text()).strip() == "7"
            assert await note.count() == 0
            await w.shot("live-first-counted", lang)
            assert w.problems == []
            await page.context.close()
            await server.close()
