"""The console's frame in a real Chromium at 1366x768 (the issue's smallest screen): the
menu fits one line in both languages for the role with the most entries (an admin) and for a
manager, and the page's icon loads (no /favicon.ico 404 in the browser's log).

Screenshots go to test-output/screenshots/ (shell-menu-*.en.png, .zh.png).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import browserkit
import consolekit
import pytest
from sqlalchemy.engine import Engine

from outdial.roles import Role

pytestmark = pytest.mark.browser

MEASURE = """() => {
  const head = document.querySelector('header.top');
  const links = [...document.querySelectorAll('.menu a')];
  const right = document.querySelector('header.top .right').getBoundingClientRect();
  const lines = a => {  // the rendered lines of a link's words
    const range = document.createRange();
    range.selectNodeContents(a);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  };
  return {
    header: head.getBoundingClientRect().height,
    overflow: head.scrollWidth - head.clientWidth,
    tall: links.filter(a => lines(a) > 1).map(a => a.textContent),
    lastRight: Math.max(...links.map(a => a.getBoundingClientRect().right)),
    rightLeft: right.left,
    count: links.length,
  };
}"""


async def test_the_menu_fits_one_line_at_1366_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    consolekit.user(sqlite_engine, "administrator1", Role.ADMIN)
    consolekit.user(sqlite_engine, "manager1", Role.MANAGER)
    server = await aiohttp_server(consolekit.app_for(sqlite_engine, tmp_path), host="127.0.0.1")
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            for user, entries in (("administrator1", 10), ("manager1", 8)):
                w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
                missing: list[str] = []
                w.page.on(
                    "response",
                    lambda r, missing=missing: missing.append(r.url) if r.status >= 400 else None,
                )
                await browserkit.login(w, user, consolekit.PASSWORD)
                await w.page.goto("/")
                m = await w.page.evaluate(MEASURE)
                shot = await w.page.screenshot(clip={"x": 0, "y": 0, "width": 1366, "height": 120})
                out = browserkit.SCREENSHOTS / f"shell-menu-{user}.{lang}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(shot)
                assert m["count"] == entries
                assert m["tall"] == [], f"{lang} {user}: wrapped {m['tall']}"
                assert m["header"] <= 48 and m["overflow"] <= 0, m
                assert m["lastRight"] <= m["rightLeft"], m  # the menu never runs under the user
                icon = await w.page.evaluate(
                    "() => fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)"
                )
                assert icon == 200 and missing == [], missing
                assert w.problems == []
