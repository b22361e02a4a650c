"""The compliance preview page: counts by reason, with example records for each reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from compliance import store
from outdial.roles import Role

NUMBERS = [f"+8613800000{i:03d}" for i in range(6)]


async def test_preview_shows_examples_per_reason(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    cid = dialdata.campaign_with_contacts(engine, "春季", NUMBERS)
    store.dnc_add(engine, NUMBERS[2], reason="asked")
    await consolekit.login(client, "mgr")
    resp = await client.get(f"/campaigns/{cid}/preview", headers={"Accept-Language": "en"})
    page = await resp.text()
    assert resp.status == 200
    dnc_row = next(r for r in page.split("<tr>") if "do-not-call list (rule 8)" in r)
    assert NUMBERS[2] in dnc_row and "row 3" in dnc_row  # the one DNC record, by list row
    assert all(n not in dnc_row for n in NUMBERS if n != NUMBERS[2])
    assert f"?q={NUMBERS[2][-8:]}" in dnc_row  # a link to find it in the contact browser
    zh_page = await client.get(f"/campaigns/{cid}/preview", headers={"Accept-Language": "zh-CN"})
    zh = await zh_page.text()
    assert "例如" in zh


async def test_the_preview_of_a_marketing_campaign_says_why_consent_is_needed(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """ "No consent (rule 26)" beside a 回访 made as marketing gave no hint of the purpose."""
    from campaigns import store as campaigns

    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    generic = dialdata.campaign_with_contacts(engine, "促销", NUMBERS[:2])
    visit = campaigns.create(engine, "回访", kind="return_visit").id
    dialdata.add_contacts(engine, visit or 0, NUMBERS[2:4])
    await consolekit.login(client, "mgr")
    zh = {"Accept-Language": "zh-CN"}
    page = await (await client.get(f"/campaigns/{generic}/preview", headers=zh)).text()
    assert 'id="purpose"' in page and "营销类外呼任务" in page and "purpose = " in page
    page = await (await client.get(f"/campaigns/{visit}/preview", headers=zh)).text()
    assert 'id="purpose"' not in page  # a service call: nothing to explain
