"""Rule 19 over HTTP: a manager lists sampled machine verdicts, an agent marks one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from outdial import auth, config
from outdial.roles import Role
from web.app import create_app


def bearer(engine: Engine, role: Role) -> dict[str, str]:
    auth.create_user(engine, f"u_{role.value}", "password-1", role)
    return {"Authorization": f"Bearer {auth.create_token(engine, f'u_{role.value}', 't')[1]}"}


async def test_samples_and_marks(aiohttp_client: Any, tmp_path: Path, engine: Engine) -> None:
    client = await aiohttp_client(
        create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    )
    manager, agent = bearer(engine, Role.MANAGER), bearer(engine, Role.AGENT)
    _, sampled = dialdata.amd_campaign(engine, live=3, machines=20, sampled=2)

    resp = await client.get("/api/amd/samples", params={"campaign": "uk-amd"}, headers=manager)
    body = await resp.json()
    assert resp.status == 200
    assert sorted(s["call_id"] for s in body["samples"]) == sorted(sampled)
    assert body["estimate"]["marked"] == 0
    assert (await client.get("/api/amd/samples", headers=agent)).status == 403

    agent_id = auth.get_user(engine, "u_agent").id
    with engine.begin() as conn:  # the agent took the first sampled call, not the second
        conn.execute(
            sa.text("UPDATE attempts SET agent_user_id=:u WHERE call_id=:c"),
            {"u": agent_id, "c": sampled[0]},
        )
    others = await client.post(
        "/api/amd/reviews", json={"call_id": sampled[1], "truth": "person"}, headers=agent
    )
    assert others.status == 403  # an agent marks only a call they took
    resp = await client.post(
        "/api/amd/reviews", json={"call_id": sampled[0], "truth": "person"}, headers=agent
    )
    body = await resp.json()
    assert resp.status == 200 and body["estimate"]["persons"] == 1
    low, high = body["estimate"]["interval95"]
    assert low < body["estimate"]["rate"] == high == 1.0  # one mark: a wide interval

    bad = await client.post(
        "/api/amd/reviews", json={"call_id": sampled[1], "truth": "robot"}, headers=agent
    )
    assert bad.status == 400 and "truth" in await bad.text()
    missing = await client.post(
        "/api/amd/reviews", json={"call_id": "nope", "truth": "machine"}, headers=agent
    )
    assert missing.status == 404
    nocamp = await client.get("/api/amd/samples", params={"campaign": "x"}, headers=manager)
    assert nocamp.status == 404
