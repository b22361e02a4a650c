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
