"""People: assign the campaigns an agent may take; the agent's login is held to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from campaigns import store as campaigns
from outdial import auth
from outdial.roles import Role


async def test_assign_campaigns_and_the_login_refuses_others_in_words(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "root", Role.ADMIN)
    consolekit.user(engine, "agent1", Role.AGENT)
    spring = dialdata.campaign_with_contacts(engine, "春季回访", ["+8613800000001"])
    orders = dialdata.campaign_with_contacts(engine, "核单", ["+8613800000002"])
    h = {"X-CSRF-Token": await consolekit.login(client, "root"), "Accept-Language": "en"}
    page = await (await client.get("/people", headers=h)).text()
    assert "any campaign" in page and 'name="campaign"' in page
    saved = await client.post("/people/users/agent1/campaigns", data={"campaign": str(spring)},
                              headers=h)  # fmt: skip
    text = await saved.text()
    assert saved.status == 200 and "Saved." in text and "春季回访" in text
    agent = auth.get_user(engine, "agent1")
    assert agent.id is not None
    assert [c.name for c in campaigns.campaigns_for_agent(engine, agent.id)] == ["春季回访"]
    _, token = auth.create_token(engine, "agent1", "desk")
    bearer = {"Authorization": f"Bearer {token}"}
    refused = await client.post("/api/agent/login", json={"campaign_id": orders}, headers=bearer)
    assert refused.status == 403
    body = await refused.json()
    assert "not assigned" in str(body) and "春季回访" in str(body) and "/people" in str(body)
    other = await client.post("/api/agent/login", json={"campaign_id": spring}, headers=bearer)
    assert other.status != 403  # past the assignment (the campaign itself is not running)
    api = await client.post("/api/users/agent1/campaigns", json={"campaign_ids": []}, headers=h)
    assert (await api.json())["campaign_ids"] == []
    listed = await (await client.get("/api/users/agent1/campaigns", headers=h)).json()
    assert listed["assigned"] == [] and len(listed["campaigns"]) == 2  # none: any campaign
    bad = await client.post("/api/users/agent1/campaigns", json={"campaign_ids": [999]}, headers=h)
    assert bad.status == 404
    not_agent = await client.post("/api/users/root/campaigns", json={"campaign_ids": []},
                                  headers=h)  # fmt: skip
    assert not_agent.status == 400


async def test_an_admin_puts_agents_in_teams(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """On SQLite and PostgreSQL: the team column comes from migration 0007_qcx_teams."""
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "root", Role.ADMIN)
    consolekit.user(engine, "li", Role.AGENT)
    consolekit.user(engine, "wang", Role.AGENT)
    h = {"X-CSRF-Token": await consolekit.login(client, "root"), "Accept-Language": "zh-CN"}
    page = await (await client.get("/people", headers=h)).text()
    assert 'hx-post="/people/users/li/team"' in page and "无班组" in page
    assert 'hx-post="/people/users/root/team"' not in page  # only agents have a team
    saved = await client.post("/people/users/li/team", data={"team": "  早班  A组 "}, headers=h)
    text = await saved.text()
    assert saved.status == 200 and 'value="早班 A组"' in text and "已保存" in text
    assert auth.get_user(engine, "li").team == "早班 A组"
    await client.post("/people/users/wang/team", data={"team": "早班 A组"}, headers=h)
    assert auth.teams(engine) == ["早班 A组"]
    assert '<option value="早班 A组">' in await (await client.get("/people", headers=h)).text()
    bad = await client.post("/people/users/wang/team", data={"team": "x" * 65}, headers=h)
    assert "班组未保存" in await bad.text() and auth.get_user(engine, "wang").team == "早班 A组"
    await client.post("/people/users/li/team", data={"team": ""}, headers=h)
    assert auth.get_user(engine, "li").team == ""


async def test_people_lists_tokens_but_not_the_clis_spent_one_command_ones(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """Each ``outdial campaign start/pause/stop`` makes a token and revokes it at once: they
    piled up on People as revoked "cli: campaign start" rows nobody ever held."""
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "root", Role.ADMIN)
    h = {"X-CSRF-Token": await consolekit.login(client, "root"), "Accept-Language": "en"}
    crm, _ = auth.create_token(engine, "root", "crm")
    auth.revoke_token(engine, crm.id or 0)  # a person's revoked token: still history
    for action in ("start", "pause", "stop"):
        spent, _ = auth.create_token(engine, "root", f"{auth.ONE_SHOT_PREFIX}campaign {action}")
        auth.revoke_token(engine, spent.id or 0)
    live, _ = auth.create_token(engine, "root", f"{auth.ONE_SHOT_PREFIX}campaign resume")
    page = await (await client.get("/people", headers=h)).text()
    tokens = page[page.index("API tokens") :]
    assert "<td>crm</td>" in tokens and "cli: campaign resume" in tokens  # live: revocable
    assert f"/people/tokens/{live.id}/revoke" in tokens
    assert "cli: campaign start" not in tokens and "cli: campaign stop" not in tokens
    every = await (await client.get("/api/tokens", headers=h)).json()
    assert len(every["tokens"]) == 5  # the API and `outdial tokens list` keep the full record
