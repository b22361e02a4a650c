"""Debian's Chromium driven by Playwright against a real console server (marker ``browser``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}  # the issue: pages work on a 1366x768 screen


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class Watched:
    """A page whose CSP violations and script errors are collected (they fail the test)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, msg: Any) -> None:
        text = msg.text
        if msg.type == "error" and "status of 4" not in text:
            self.problems.append(text)

    async def shot(self, name: str, lang: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.{lang}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


async def new_page(browser: Any, base: str, lang: str) -> Watched:
    context = await browser.new_context(
        viewport=VIEWPORT,
        locale="zh-CN" if lang == "zh" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh" else "en-US,en"},
        base_url=base,
    )
    return Watched(await context.new_page())


async def login(w: Watched, username: str, password: str, landing: str = "**/") -> None:
    """Log in through the page; ``landing`` is where the role's home sends it (an agent's
    ``/`` is their desk)."""
    await w.page.goto("/login")
    await w.page.fill("input[name=username]", username)
    await w.page.fill("input[name=password]", password)
    await w.page.click("button[type=submit]")
    await w.page.wait_for_url(landing)
