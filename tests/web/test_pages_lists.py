"""List upload in the console: preview of a GBK file, mapping, progress, report, contacts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import consolekit
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaigns
from outdial.roles import Role

CSV = (
    "电话号码,用户称呼,备注\r\n"
    "13800001111,<img src=x onerror=alert(1)>,好\r\n"
    "13800002222,李四,<script>x()</script>\r\n"
    "12,坏,坏\r\n"
)


def _form(text: str, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    form.add_field("file", text.encode("gbk"), filename="名单.csv", content_type="text/csv")
    return form


async def test_upload_preview_mapping_progress_and_contacts(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    upload = await (await client.get("/lists/upload", headers=h)).text()
    assert "Create a campaign first" in upload  # issue 16.3: a list goes into a campaign
    campaigns.save_spec(
        sqlite_engine, rules.parse_campaign({"name": "c1", "caller_id": "+8610010000"})
    )
    upload = await (await client.get("/lists/upload", headers=h)).text()
    assert '<option value="c1">' in upload
    api = await client.post("/api/lists/preview", data=_form(CSV), headers=h)
    body = await api.json()
    assert body["encoding"] in ("gbk", "gb18030") and body["headers"][1] == "用户称呼"
    assert body["mapping"]["phone"] == ["电话号码"] and body["mapping"]["name"] is None
    page = await client.post("/lists/upload/preview", data=_form(CSV, campaign="c1"), headers=h)
    html = await page.text()
    assert "&lt;img src=x" in html and "<img src=x" not in html  # list cells are inert
    staged = re.search(r'name="staged" value="([0-9a-f]+)"', html)
    assert staged is not None
    wrong = {"staged": staged.group(1), "campaign": "c1", "map_phone": "no such column"}
    refused = await client.post("/lists/upload/import", data=wrong, headers=h)
    assert "no such column" in await refused.text()  # said next to the phone field
    fixed = {**wrong, "map_phone": "电话号码", "map_name": "用户称呼"}
    resp = await client.post("/lists/upload/import", data=fixed, headers=h)
    progress = await resp.text()
    list_id = int(re.search(r"/lists/(\d+)", progress).group(1))  # type: ignore[union-attr]
    for _ in range(100):
        if "Import finished" in progress:
            break
        await asyncio.sleep(0.1)
        progress = await (await client.get(f"/lists/{list_id}/progress", headers=h)).text()
    assert "Import finished" in progress and "rejects.csv" in progress
    found = await client.get(f"/api/lists/{list_id}/search?q=2222", headers=h)
    contacts = (await found.json())["contacts"]
    assert [c["name"] for c in contacts] == ["李四"]
    start = await (await client.get(f"/lists/{list_id}?q=img", headers=h)).text()
    assert "No contact matches." in start and "anywhere=1" in start  # only names starting so
    browse = await (await client.get(f"/lists/{list_id}?q=img&anywhere=1", headers=h)).text()
    assert "&lt;img src=x" in browse and "<img src=x" not in browse
    lists = await (await client.get("/lists", headers=h)).text()
    row = lists[lists.find("<tbody>") :]
    assert "<td>c1</td>" in row and '<td class="num">2</td>' in row  # 2 imported, 1 rejected


async def test_upload_over_the_limit_is_said_clearly(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    from outdial import config

    app = consolekit.app_for(sqlite_engine, tmp_path)
    app[__import__("web.keys", fromlist=["CONFIG"]).CONFIG] = config.load(
        {"OUTDIAL_DATA_DIR": str(tmp_path), "OUTDIAL_MAX_UPLOAD_MB": "1"}
    )
    client = await aiohttp_client(app)
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    big = CSV + "13800003333,x,y\r\n" * 80_000
    resp = await client.post(
        "/lists/upload/preview",
        data=_form(big, campaign="c"),
        headers={"X-CSRF-Token": csrf, "Accept-Language": "en"},
    )
    assert "1 MB upload limit" in await resp.text()


async def test_a_workbook_sheet_is_chosen_and_imported(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """A workbook with several sheets: the preview offers them, another is previewed, and
    the import reads the one chosen."""
    from openpyxl import Workbook

    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    h = {"X-CSRF-Token": await consolekit.login(client, "mgr"), "Accept-Language": "en"}
    campaigns.save_spec(
        sqlite_engine, rules.parse_campaign({"name": "c1", "caller_id": "+8610010000"})
    )
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["这一页是说明", "不是名单"])
    wb.active.append(["—", "—"])
    sheet = wb.create_sheet("十一月名单")
    sheet.append(["手机", "姓名"])
    sheet.append([13800001111, "张三"])
    sheet.append([13800002222, "李四"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    form = aiohttp.FormData()
    form.add_field("campaign", "c1")
    form.add_field("file", path.read_bytes(), filename="book.xlsx")
    first = await (await client.post("/lists/upload/preview", data=form, headers=h)).text()
    assert '<option value="十一月名单">' in first and "Sheet 说明" in first
    staged = re.search(r'name="staged" value="([0-9a-f]+)"', first).group(1)  # type: ignore[union-attr]
    other = {"staged": staged, "campaign": "c1", "sheet": "十一月名单"}
    second = await (await client.post("/lists/upload/sheet", data=other, headers=h)).text()
    assert "Sheet 十一月名单; 2 data rows." in second and "张三" in second
    assert '<option value="十一月名单" selected>' in second
    missing = {**other, "sheet": "no such sheet"}
    said = await (await client.post("/lists/upload/sheet", data=missing, headers=h)).text()
    assert "has no sheet" in said
    resp = await client.post("/lists/upload/import", data={**other, "map_phone": "手机"},
                             headers=h)  # fmt: skip
    progress = await resp.text()
    list_id = int(re.search(r"/lists/(\d+)", progress).group(1))  # type: ignore[union-attr]
    for _ in range(100):
        if "Import finished" in progress:
            break
        await asyncio.sleep(0.1)
        progress = await (await client.get(f"/lists/{list_id}/progress", headers=h)).text()
    found = await client.get(f"/api/lists/{list_id}/search?q=2222", headers=h)
    assert [c["name"] for c in (await found.json())["contacts"]] == ["李四"]


async def test_an_unreadable_upload_is_named_as_the_manager_chose_it(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """An empty file or a sound file once read "deae324569c9b083.csv is empty" (the name it
    was kept under) in English on a Chinese page."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "zh-CN"}
    for name, body, words in (
        ("empty-list.csv", b"", "文件 empty-list.csv 是空的。"),
        ("sorry.wav", b"RIFF\x00\x00\x00\x00WAVEfmt ", "sorry.wav 不是外呼名单"),
    ):
        form = aiohttp.FormData()
        form.add_field("campaign", "c")
        form.add_field("file", body, filename=name, content_type="application/octet-stream")
        text = await (await client.post("/lists/upload/preview", data=form, headers=h)).text()
        assert words in text and not re.search(r"[0-9a-f]{16}\.", text), text


async def test_the_import_report_counts_the_consent_column(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """A 同意 column records consent and a refusal goes on the do-not-call list; the report
    once said nothing of it (and "on the do-not-call list: 0" beside a refusal just added)."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "zh-CN"}
    campaigns.save_spec(
        sqlite_engine, rules.parse_campaign({"name": "c1", "caller_id": "+8610010000"})
    )
    text = (
        "姓名,手机号,同意,同意日期\r\n张三,13800001111,是,2026-11-20\r\n"
        "李四,13800002222,拒绝,2026-11-20\r\n王五,13800003333,,\r\n"
    )
    sent = _form(text, campaign="c1", lawful_basis="contract")
    page = await (await client.post("/lists/upload/preview", data=sent, headers=h)).text()
    staged = re.search(r'name="staged" value="([0-9a-f]+)"', page)
    assert staged is not None
    form = {
        "staged": staged.group(1),
        "campaign": "c1",
        "map_phone": "手机号",
        "map_name": "姓名",
        "lawful_basis": "contract",
    }
    progress = await (await client.post("/lists/upload/import", data=form, headers=h)).text()
    list_id = int(re.search(r"/lists/(\d+)", progress).group(1))  # type: ignore[union-attr]
    for _ in range(100):
        if "导入完成" in progress and "hx-trigger" not in progress:  # consent counted too
            break
        await asyncio.sleep(0.1)
        progress = await (await client.get(f"/lists/{list_id}/progress", headers=h)).text()
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", progress))
    assert "整份名单的合法依据 合同（本公司客户）" in cells  # stated by the uploader, in words
    assert "同意列 (同意)" in cells and "已记录同意 1" in cells
    assert (
        "客户拒绝：已加入免打扰名单 1" in cells
        and "未表示同意（营销类外呼任务不会拨打） 1" in cells
    )
