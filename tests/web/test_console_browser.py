"""The manager's flows in a real Chromium against a real console server on SQLite.

Screenshots of every page in both languages go to test-output/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import browserkit
import consolekit
import dialdata
import pytest
from sqlalchemy.engine import Engine

from outdial.roles import Role

pytestmark = pytest.mark.browser


async def test_manager_flow_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    consolekit.user(engine, "boss", Role.MANAGER)
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, base, lang)
            page = w.page
            await page.goto("/login")
            await w.shot("login", lang)
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            if lang == "en":
                assert await page.locator(".empty h2").inner_text() == "No campaigns yet"
                await w.shot("board-empty", lang)
                # every page action is also an API call: create one campaign over the API
                csrf = await page.get_attribute('meta[name="csrf-token"]', "content")
                resp = await page.request.post(
                    "/api/campaigns",
                    data={
                        "name": "春季回访 <b>",
                        "kind": "return_visit",
                        "caller_id": "+8610010000",
                    },
                    headers={"X-CSRF-Token": csrf},
                )
                assert resp.status == 201, await resp.text()
                cid = (await resp.json())["campaign"]["id"]
                dialdata.add_contacts(engine, cid, [f"+861380000{i:04d}" for i in range(30)])
                await page.goto("/")
            row = page.locator(f"#campaign-{cid}")
            assert "春季回访 <b>" in await row.locator("td").first.inner_text()
            await w.shot("board", lang)
            start = "Start" if lang == "en" else "继续"  # the English pass left it paused
            await row.get_by_role("button", name=start).click()
            running = "dialing" if lang == "en" else "外呼中"
            await page.locator(f"#campaign-{cid} .badge", has_text=running).wait_for()
            await page.goto(f"/campaigns/{cid}/live")
            await page.locator("#live-connection.ok").wait_for()  # one pushed update arrived
            await w.shot("live", lang)
            await page.goto("/")
            pause = "Pause" if lang == "en" else "暂停"
            await page.locator(f"#campaign-{cid}").get_by_role("button", name=pause).click()
            paused = "paused" if lang == "en" else "已暂停"
            await page.locator(f"#campaign-{cid} .badge", has_text=paused).wait_for()
            await page.goto("/no/such/page")
            await w.shot("error-404", lang)
            assert w.problems == [], w.problems
