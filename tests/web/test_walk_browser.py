"""A new campaign manager's first steps in a real Chromium, in both languages, as the README's
"Your own campaign on the simulator" walks them: the empty board leads to a campaign first, the
campaign takes its kind's purpose, the upload report counts the consent column, and a start
refused for want of a safe-harbor message leads to the Prompts page.

Screenshots go to test-output/screenshots/ (walk-*.en.png, walk-*.zh.png).
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

WORDS = {
    "en": {
        "save": "Save",
        "preview": "Preview",
        "import": "Import",
        "done": "Import finished",
        "start": "Start",
        "refused": "upload a safe-harbor recording",
        "consent": "consent recorded\t2",
        "refusal": "refused: added to the do-not-call list\t1",
    },
    "zh": {
        "save": "保存",
        "preview": "预览",
        "import": "导入",
        "done": "导入完成",
        "start": "启动",
        "refused": "呼损提示录音",
        "consent": "已记录同意\t2",
        "refusal": "客户拒绝：已加入免打扰名单\t1",
    },
}


def consent_list(folder: Path) -> Path:
    """A GBK CSV as Chinese Excel saves it, with a 同意 (consent) column."""
    rows = ["姓名,手机号,商品,同意,同意日期", "张三,13800100001,电热水壶,是,2026-11-20"]
    rows += ["李四,13800100002,电热水壶,是,2026-11-21", "王五,13800100003,电饭煲,拒绝,2026-11-22"]
    path = folder / "回访名单.csv"
    path.write_bytes("\r\n".join(rows).encode("gbk"))
    return path


async def walk(w: browserkit.Watched, lang: str, csv: Path) -> None:
    page, say = w.page, WORDS[lang]
    name = f"回访-{lang}"
    if lang == "en":  # the board is empty only the first time
        empty = page.locator(".empty")
        links = await empty.locator("a").evaluate_all("els => els.map(e => e.pathname)")
        assert links[0] == "/campaigns/new"  # a list goes into a campaign: the campaign first
        await w.shot("walk-board-empty", lang)
    await page.goto("/campaigns/new")
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=kind]", "return_visit")
    await page.fill("input[name=caller_id]", "+8610010000")
    await page.fill("textarea[name=script]", "您好，{name}，您买的{商品}用得还好吗？")
    await page.get_by_role("button", name=say["save"]).click()
    await page.wait_for_url("**/edit?saved=1")
    cid = int(page.url.split("/campaigns/")[1].split("/")[0])
    toml = await (await page.request.get(f"/api/campaigns/{cid}/definition.toml")).text()
    assert 'purpose = "service"' in toml  # the kind's purpose, not the blank form's
    await w.shot("walk-campaign-saved", lang)

    await page.goto("/lists/upload")
    await page.select_option("select[name=campaign]", name)
    await page.set_input_files("input[type=file]", str(csv))
    await page.get_by_role("button", name=say["preview"]).click()
    await page.locator("#mapping").wait_for()
    await page.get_by_role("button", name=say["import"]).click()
    await page.get_by_text(say["done"]).wait_for()
    report = await page.locator("table.report").inner_text()
    assert say["consent"] in report and say["refusal"] in report, report
    await w.shot("walk-upload-report", lang)

    await page.goto("/")
    await page.locator(f"#campaign-{cid}").get_by_role("button", name=say["start"]).click()
    notice = page.locator("#notices .refusal")
    await notice.wait_for()
    assert say["refused"] in await notice.inner_text()
    assert "outdial prompts add" not in await notice.inner_text()
    await w.shot("walk-start-refused", lang)
    await notice.locator(f'a[href="/campaigns/{cid}/prompts"]').click()
    await page.wait_for_url(f"**/campaigns/{cid}/prompts")
    await w.shot("walk-prompts", lang)


async def test_a_new_managers_first_campaign_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    consolekit.user(sqlite_engine, "boss", Role.MANAGER)
    app = consolekit.app_for(sqlite_engine, tmp_path, default_safe_harbor=None)
    server = await aiohttp_server(app, host="127.0.0.1")
    csv = consent_list(tmp_path)
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", lang)
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            await walk(w, lang, csv)
            assert w.problems == []
