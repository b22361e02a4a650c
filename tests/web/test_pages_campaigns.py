"""The campaign editor: problems next to fields, the TOML file round trip, inert scripts."""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path
from typing import Any

import consolekit
from sqlalchemy.engine import Engine

from outdial.roles import Role

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


async def test_editor_shows_problems_next_to_fields_and_saves(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    form = {"name": XSS, "kind": "return_visit", "mode": "progressive", "caller_id": "123",
            "schedule_tue": "9-5", "script": XSS, "more": "[retry]\nbusy = 10\n"}  # fmt: skip
    refused = await client.post("/campaigns/new", data=form)
    assert refused.status == 403  # CSRF on the form
    resp = await client.post("/campaigns/new", data=form, headers=h)
    html = await resp.text()
    caller = re.search(r'name="caller_id".*?</label>', html, re.S)
    assert caller and "E.164" in caller.group(0)
    tuesday = re.search(r'name="schedule_tue".*?</label>', html, re.S)
    assert tuesday and "not a span" in tuesday.group(0)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html  # inert
    form.update(caller_id="+8610010000", schedule_tue="09:00-17:00")
    saved = await client.post("/campaigns/new", data=form, headers=h)
    assert saved.status == 204 and saved.headers["HX-Redirect"].endswith("/edit?saved=1")
    cid = int(saved.headers["HX-Redirect"].split("/")[2])
    toml = await (await client.get(f"/api/campaigns/{cid}/definition.toml")).text()
    assert tomllib.loads(toml)["schedule"]["tue"] == ["09:00-17:00"]
    page = await (await client.get(f"/campaigns/{cid}/edit", headers=h)).text()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    again = await client.post("/campaigns/new", data=form, headers=h)
    assert "already exists" in await again.text()
    zh = await client.post("/campaigns/new", data=form, headers={**h, "Accept-Language": "zh-CN"})
    assert "外呼任务：请换一个名称" in await zh.text()  # in the manager's language, by the field
    bad = {**form, "name": "另一个", "caller_id": "123", "schedule_tue": "9-5"}
    zh = await client.post("/campaigns/new", data=bad, headers={**h, "Accept-Language": "zh-CN"})
    zh_html = await zh.text()
    caller = re.search(r'name="caller_id".*?</label>', zh_html, re.S)
    assert caller and "外显号码须为 E.164" in caller.group(0)
    tuesday = re.search(r'name="schedule_tue".*?</label>', zh_html, re.S)
    assert tuesday and "不是有效的时段" in tuesday.group(0) and "not a span" not in tuesday.group(0)


async def test_a_campaign_file_loads_over_the_api(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    text = 'name = "filed"\ncaller_id = "+8610010000"\n[schedule]\nwed = ["10:00-11:00"]\n'
    resp = await client.post(
        "/api/campaigns/load", data=text.encode(), headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 200, await resp.text()
    cid = (await resp.json())["campaign"]["id"]
    toml = await (await client.get(f"/api/campaigns/{cid}/definition.toml")).text()
    assert tomllib.loads(toml)["schedule"]["wed"] == ["10:00-11:00"]
    bad = await client.post(
        "/api/campaigns/load", data=b'name = "x"\n', headers={"X-CSRF-Token": csrf}
    )
    assert bad.status == 400 and "caller_id" in (await bad.json())["message"]
    gbk = await client.post(  # bytes that are not UTF-8: a 400 that says so (the fuzz suite)
        "/api/campaigns/load", data="name = \"回访\"".encode("gbk"),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )  # fmt: skip
    assert gbk.status == 400 and "not utf-8 text" in (await gbk.json())["message"]


async def test_a_new_campaign_takes_the_purpose_of_the_kind_picked(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """The new-campaign form once carried the generic kind's ``purpose = "marketing"`` in
    "More settings", so a 回访 made in the console needed consent for every record."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    page = await (await client.get("/campaigns/new", headers=h)).text()
    more = re.search(r'<textarea[^>]*name="more"[^>]*>(.*?)</textarea>', page, re.S)
    assert more and "[retry]" in more.group(1) and "purpose" not in more.group(1)
    rest = html.unescape(more.group(1))
    form = {"name": "回访", "kind": "return_visit", "mode": "progressive",
            "caller_id": "+8610010000", "script": "您好", "more": rest}  # fmt: skip
    saved = await client.post("/campaigns/new", data=form, headers=h)
    assert saved.status == 204, await saved.text()
    cid = int(saved.headers["HX-Redirect"].split("/")[2])
    toml = await (await client.get(f"/api/campaigns/{cid}/definition.toml")).text()
    assert tomllib.loads(toml)["purpose"] == "service"
