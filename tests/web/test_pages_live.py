"""web/pages_live.py: the first live view does not wait for the campaign's costly counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from outdial.roles import Role
from web.keys import FIGURES
from web.pages_live import SKIPS, counted

COUNTING = "Counting this campaign&#39;s figures"


async def test_first_view_counts_then_shows_the_figures(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    cid = dialdata.campaign_with_contacts(engine, "晚间回访", ["13800001111", "13800002222"])
    consolekit.user(engine, "mgr", Role.MANAGER)
    app = consolekit.app_for(engine, tmp_path)
    client = await aiohttp_client(app)
    await consolekit.login(client, "mgr")
    assert not counted(app, cid)
    first = await client.get(f"/campaigns/{cid}/live")
    html = await first.text()
    assert first.status == 200
    assert COUNTING in html and "晚间回访" in html  # at once, named, never a blank or a 0
    assert "Records left to dial" not in html
    snap = await (await client.get(f"/api/campaigns/{cid}/live")).json()
    assert snap["campaign"]["records_remaining"] == 2  # the counts the first view started
    assert counted(app, cid)
    again = await (await client.get(f"/campaigns/{cid}/live")).text()
    assert COUNTING not in again and "Records left to dial" in again
    app[FIGURES].forget()  # nobody watched for a while: counting again, not an old figure
    assert COUNTING in await (await client.get(f"/campaigns/{cid}/live")).text()
    app[SKIPS].forget()


async def test_first_view_of_a_missing_campaign_is_a_404(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    await consolekit.login(client, "mgr")
    assert (await client.get("/campaigns/999/live")).status == 404


async def test_a_running_campaign_with_nothing_due_says_so_not_placing_calls(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """The live view said "Placing 1 call" while every record waited for a later time (rule
    28 holds, retries, callbacks); it says what the campaign status says, in words."""
    import sqlalchemy as sa

    from campaigns import rules
    from campaigns import store as campaigns

    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "later", ["+8613800000071"])
    always = ["00:00-12:00", "12:00-24:00"]
    spec = {
        "name": "later",
        "caller_id": "+8610010000",
        "timezone": "Asia/Shanghai",
        "schedule": {d: always for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    }
    campaigns.save_spec(engine, rules.parse_campaign(spec))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET next_due_at = '2099-01-07 01:30:00.000000'"))
    consolekit.user(engine, "mgr", Role.MANAGER)
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    csrf = await consolekit.login(client, "mgr")
    started = await client.post(
        f"/campaigns/{cid}/start", headers={"X-CSRF-Token": csrf, "Accept-Language": "en"}
    )
    assert started.status == 200
    assert (await client.get(f"/api/campaigns/{cid}/live")).status == 200  # counted
    en = await (
        await client.get(f"/campaigns/{cid}/live", headers={"Accept-Language": "en"})
    ).text()
    assert "Not dialing: no record is due now. The next one is due at 2099-01-07 09:30" in en
    assert "Placing" not in en
    zh = await (
        await client.get(f"/campaigns/{cid}/live", headers={"Accept-Language": "zh-CN"})
    ).text()
    assert "下一条于 2099-01-07 09:30" in zh
