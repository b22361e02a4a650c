"""The manager's flows in a real Chromium against a real console server on SQLite.

Screenshots of every page in both languages go to test-output/screenshots/.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import browserkit
import consolekit
import dialdata
import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy.engine import Engine

from outdial import auth
from outdial.roles import Role

pytestmark = pytest.mark.browser
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_NOTE = "<script>alert(2)</script>"


def gbk_list(folder: Path) -> Path:
    """A GBK CSV whose name column the importer cannot guess (用户称呼): the manager maps it."""
    rows = ["电话号码,用户称呼,订单编号,备注"]
    rows.append(f"13800001111,张三,A1001,{XSS_NOTE}")
    rows.append(f"13800002222,{XSS_NAME},A1002,好")
    rows += [f"1390000{i:04d},客户{i},B{i},备注{i}" for i in range(20)]
    rows.append("12,号码太短,C1,坏")
    path = folder / "名单.csv"
    path.write_bytes("\r\n".join(rows).encode("gbk"))
    return path


async def upload_and_map(w: browserkit.Watched, csv: Path, campaign: str) -> None:
    page = w.page
    await page.goto("/lists/upload")
    await w.shot("upload", "en")
    await page.select_option("select[name=campaign]", campaign)  # a list goes into a campaign
    await page.set_input_files("input[type=file]", str(csv))
    await page.click("button[type=submit]")
    await page.locator("#mapping").wait_for()
    assert "gb" in (await page.locator("#mapping p").first.inner_text()).lower()  # gbk/gb18030
    await page.select_option("select[name=map_name]", "用户称呼")  # fix the mapping
    await w.shot("upload-preview", "en")
    await page.get_by_role("button", name="Import").click()
    await page.get_by_text("Import finished").wait_for()
    report = await page.locator("table.report").inner_text()
    assert "22" in report and "Rejected\t1" in report
    await w.shot("upload-report", "en")


async def define_campaign(w: browserkit.Watched, name: str) -> int:
    """The editor: a wrong caller ID is refused next to its field, then fixed and saved."""
    page = w.page
    await page.goto("/campaigns/new")
    await w.shot("editor-new", "en")
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=kind]", "return_visit")
    await page.fill("input[name=caller_id]", "12345")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):  # always open, any day
        await page.fill(f"input[name=schedule_{day}]", "00:00-12:00, 12:00-24:00")
    await page.fill("textarea[name=script]", "您好 {name}，您的订单 {order_id}，备注：{备注}")
    await page.get_by_role("button", name="Save").click()
    problem = page.locator("label", has=page.locator("input[name=caller_id]")).locator(
        ".fielderror"
    )
    await problem.wait_for()
    assert "E.164" in await problem.inner_text()
    await w.shot("editor-errors", "en")
    await page.fill("input[name=caller_id]", "+8610010000")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url("**/edit?saved=1")
    cid = int(page.url.split("/campaigns/")[1].split("/")[0])
    toml = await (await page.request.get(f"/api/campaigns/{cid}/definition.toml")).text()
    data = tomllib.loads(toml)
    assert data["name"] == name and data["schedule"]["mon"] == ["00:00-12:00", "12:00-24:00"]
    return cid


async def import_dnc_and_registry(w: browserkit.Watched, folder: Path) -> None:
    """The DNC page: a GBK file with reasons, its report; a registry snapshot with a date."""
    page = w.page
    dnc = folder / "免打扰.csv"
    dnc.write_bytes("手机号,原因\n13800007777,投诉\n13800009999,重复\n12,坏\n".encode("gbk"))
    await page.set_input_files("#dnc-import-form input[type=file]", str(dnc))
    await page.locator("#dnc-import-form button[type=submit]").click()
    report = page.locator("#dnc-import table.report").first
    await report.wait_for()
    assert "Added to the list\t1" in await report.inner_text()
    assert "Already on the list, or twice in the file\t1" in await report.inner_text()
    reg = folder / "registry.txt"
    reg.write_text("2125551234\n2125551235\n", encoding="ascii")
    await page.fill("#registry input[name=as_of]", "2026-11-01")
    await page.set_input_files("#registry input[type=file]", str(reg))
    await page.locator("#registry button[type=submit]").click()
    await page.get_by_text("Snapshot loaded.").wait_for()
    await w.shot("dnc-import", "en")
    await page.goto("/dnc")


async def test_manager_flow_in_both_languages(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    consolekit.user(engine, "boss", Role.MANAGER)
    consolekit.user(engine, "agent1", Role.AGENT)
    consolekit.user(engine, "root", Role.ADMIN)
    _, agent_token = auth.create_token(engine, "agent1", "desk")
    server = await aiohttp_server(consolekit.app_for(engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    campaign = f"春季回访 {XSS_NAME}"
    dialogs: list[str] = []
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, base, lang)
            page = w.page
            page.on("dialog", lambda d: dialogs.append(d.message))
            await page.goto("/login")
            await w.shot("login", lang)
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            if lang == "en":
                assert await page.locator(".empty h2").inner_text() == "No campaigns yet"
                await w.shot("board-empty", lang)
                await page.goto("/lists")
                await w.shot("lists-empty", lang)
                cid = await define_campaign(w, campaign)
                await upload_and_map(w, gbk_list(tmp_path), campaign)
                await page.get_by_role("link", name="Browse the contacts").click()
                await page.locator("#contacts table").wait_for()
                assert await page.locator("#contacts img").count() == 0  # inert
                assert XSS_NAME in await page.locator("#contacts").inner_text()
                await page.fill("input[name=q]", "2222")
                await page.locator("#contacts", has_text="1 contact").wait_for()
                await page.get_by_role("button", name="History").click()
                await page.get_by_text("Not called yet.").wait_for()
                list_url = page.url.split("?")[0]
                cid = int(
                    (await (await page.request.get("/api/campaigns")).json())["campaigns"][0]["id"]
                )
            else:
                for name, url in (("upload", "/lists/upload"), ("lists", "/lists")):
                    await page.goto(url)
                    await w.shot(name, lang)
                await page.goto(list_url)
                await w.shot("contacts", lang)
                await page.goto(f"/campaigns/{cid}/edit")
                await page.locator("#script-preview", has_text="张三").wait_for()
                await w.shot("editor", lang)
                await page.goto(f"/campaigns/{cid}/preview")
                await page.locator("td.samples a").first.wait_for()  # examples per reason
                await w.shot("preview", lang)
                await page.goto("/")
            if lang == "en":
                await page.goto("/lists")
                await w.shot("lists", lang)
                await page.goto("/")
            row = page.locator(f"#campaign-{cid}")
            assert campaign in await row.locator("td").first.inner_text()
            assert await page.locator("img").count() == 0
            await w.shot("board", lang)
            start = "Start" if lang == "en" else "继续"  # the English pass left it paused
            await row.get_by_role("button", name=start).click()
            running = "dialing" if lang == "en" else "外呼中"
            await page.locator(f"#campaign-{cid} .badge", has_text=running).wait_for()
            if lang == "en":  # an agent signs in over the API: the live view shows them
                async with aiohttp.ClientSession(base) as api:
                    resp = await api.post(
                        "/api/agent/login",
                        json={"campaign_id": cid},
                        headers={"Authorization": f"Bearer {agent_token}"},
                    )
                    assert resp.status == 200, await resp.text()
            await page.goto(f"/campaigns/{cid}/live")
            await page.locator("#live-connection.ok").wait_for()  # one pushed update arrived
            await page.locator("#live .agents td", has_text="agent1").wait_for()
            await w.shot("live", lang)
            await page.goto("/")
            pause = "Pause" if lang == "en" else "暂停"
            await page.locator(f"#campaign-{cid}").get_by_role("button", name=pause).click()
            paused = "paused" if lang == "en" else "已暂停"
            await page.locator(f"#campaign-{cid} .badge", has_text=paused).wait_for()
            await page.goto(f"/campaigns/{cid}/prompts")
            if lang == "en":
                await page.fill("input[name=name]", "safe_harbor")
                await page.set_input_files("input[name=file]", dialdata.safe_harbor())
                await page.get_by_role("button", name="Upload").click()
                await page.locator("#prompts audio").wait_for(state="attached")
                audio = await page.locator("#prompts audio").get_attribute("src")
                wav = await page.request.get(audio or "")
                assert wav.status == 200 and (await wav.body())[:4] == b"RIFF"
            await w.shot("prompts", lang)
            await page.goto("/dnc")
            if lang == "en":
                await page.fill("input[name=number]", "13800009999")
                await page.fill("input[name=reason]", XSS_NOTE)
                await page.get_by_role("button", name="Add", exact=True).click()
                await page.get_by_text("Saved: +8613800009999 will not be called.").wait_for()
                await import_dnc_and_registry(w, tmp_path)
            assert XSS_NOTE in await page.locator("#dnc table").inner_text()
            await w.shot("dnc", lang)
            await page.goto("/no/such/page")
            await w.shot("error-404", lang)
            if lang == "en":  # the language menu: switches at once and is kept for the user
                await page.select_option("select[name=lang]", "zh_CN")
                await page.locator("nav.menu a", has_text="实时监控").wait_for()
            assert w.problems == [], w.problems
            admin = await browserkit.new_page(browser, base, lang)
            await browserkit.login(admin, "root", consolekit.PASSWORD)
            await admin.page.goto("/audit")
            await admin.page.locator("#verdict").wait_for(state="attached")
            await admin.page.locator("button.primary").click()
            await admin.page.locator("#verdict p").wait_for()
            assert "13800009999" in await admin.page.locator("table").inner_text()
            await admin.shot("audit", lang)
            await admin.page.goto("/people")
            if lang == "en":
                await admin.page.fill("input[name=username]", "agent2")
                await admin.page.fill("input[name=password]", "short")
                await admin.page.get_by_role("button", name="Add", exact=True).click()
                await admin.page.locator("#people .fielderror").wait_for()  # refused in words
                await admin.page.fill("input[name=password]", "long-enough-pass-1")
                await admin.page.fill("input[name=display_name]", XSS_NAME)
                assert await admin.page.input_value("select[name=role]") == "agent"
                await admin.page.get_by_role("button", name="Add", exact=True).click()
                await admin.page.locator("#people td", has_text="agent2").wait_for()
                await admin.page.get_by_role("button", name="Create token").click()
                await admin.page.locator("#people code", has_text="od_").first.wait_for()
                agent_row = admin.page.locator("#people tr", has_text="agent1")
                await _open(agent_row)
                await agent_row.locator("input[name=campaign]").first.check()
                await agent_row.locator("form.assign").get_by_role("button", name="Save").click()
                await (
                    admin.page.locator("#people tr", has_text="agent1")
                    .locator("form.assign")
                    .get_by_text("Saved.")
                    .wait_for()
                )
            assert await admin.page.locator("#people img").count() == 0
            await admin.shot("people", lang)
            assert admin.problems == [], admin.problems
    assert dialogs == []  # no stored script ever ran


async def _open(row: Any) -> None:
    """Open the row's campaigns (a <details>); a click that landed while the table was being
    swapped in (seen once at load) is repeated once the new table is there."""
    for _ in range(3):
        await row.locator("summary").click()
        try:
            await row.locator("input[name=campaign]").first.wait_for(state="visible", timeout=5000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the row's campaigns did not open")
