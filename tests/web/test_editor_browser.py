"""The campaign editor in a real Chromium: a bad caller ID and a bad schedule are named next
to their fields in the page's language (the messages come from campaigns/rules.py in English
and are re-said by web/campaign_words.py).

Screenshots go to test-output/screenshots/ (editor-field-errors.en.png, .zh.png).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import browserkit
import consolekit
import pytest
from sqlalchemy.engine import Engine

from outdial.roles import Role

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"save": "Save", "caller": "E.164", "schedule": "is not a span like"},
    "zh": {"save": "保存", "caller": "外显号码须为", "schedule": "不是有效的时段"},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_field_problems_speak_the_page_language(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    consolekit.user(sqlite_engine, "boss", Role.MANAGER)
    server = await aiohttp_server(consolekit.app_for(sqlite_engine, tmp_path), host="127.0.0.1")
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            page, say = w.page, WORDS[lang]
            await page.goto("/campaigns/new")
            await page.fill("input[name=name]", f"bad-{lang}")
            await page.fill("input[name=caller_id]", "12345")
            await page.fill("input[name=schedule_tue]", "9-5")
            await page.get_by_role("button", name=say["save"]).click()
            caller = page.locator("label:has(input[name=caller_id]) .fielderror")
            await caller.wait_for()
            tuesday = page.locator("label:has(input[name=schedule_tue]) .fielderror")
            caller_text, tuesday_text = await caller.inner_text(), await tuesday.inner_text()
            assert say["caller"] in caller_text and say["schedule"] in tuesday_text
            assert "9-5" in tuesday_text  # the value typed is kept in the message
            if lang == "zh":
                assert "must" not in caller_text and "span" not in tuesday_text
            else:
                assert not CJK.search(caller_text + tuesday_text)
            await w.shot("editor-field-errors", lang)
            assert w.problems == []
