"""Campaign control and the agent desk over HTTP: roles, the agent's WebSocket receiving the
customer's record, and an agent refused another agent's call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import dialdata
from sqlalchemy.engine import Engine

from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.runtime import DialerRuntime
from outdial import auth, config
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort, stock_script
from web.api_dialer import RUNTIME
from web.app import create_app


class AllowAll:
    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        pass


def script_for(target: str) -> FakeScript:
    if target.startswith("sip:"):
        return stock_script(target)
    return FakeScript(delay=0.1, bye_after=0.3)


async def _client(aiohttp_client: Any, tmp_path: Path, engine: Engine) -> Any:
    app = create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    app[RUNTIME] = DialerRuntime(
        engine,
        sip_factory=lambda cid: FakeSipPort(script_for),
        gate_factory=lambda db, cid: AllowAll(),
        default_caller_id="+8610010000",
        default_safe_harbor=dialdata.safe_harbor(),
        engine_options={
            "ring_timeout": 1.0,
            "allow_short_ring_timeout_for_tests": True,
            "tick": 0.02,
            "pace_every": 0.1,
        },
        stop_drain=0.0,
    )
    return await aiohttp_client(app)


def _bearer(engine: Engine, name: str, role: Role) -> dict[str, str]:
    auth.create_user(engine, name, "secret-pass-123", role, sip_uri="sip:agent@127.0.0.1")
    _, secret = auth.create_token(engine, name, "t")
    return {"Authorization": f"Bearer {secret}"}


async def test_roles(aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "w1", [])
    client = await _client(aiohttp_client, tmp_path, engine)
    manager, agent = _bearer(engine, "m1", Role.MANAGER), _bearer(engine, "a1", Role.AGENT)
    assert (await client.post(f"/api/campaigns/{cid}/start")).status == 401
    assert (await client.post(f"/api/campaigns/{cid}/start", headers=agent)).status == 403
    assert (await client.get(f"/api/campaigns/{cid}/status", headers=agent)).status == 403
    login = {"campaign_id": cid}
    assert (await client.post("/api/agent/login", json=login, headers=manager)).status == 403
    resp = await client.post("/api/agent/login", json=login, headers=agent)
    assert resp.status == 409 and (await resp.json())["error"] == "campaign_not_running"
    assert (await client.post("/api/campaigns/999/start", headers=manager)).status == 404

    resp = await client.post(f"/api/campaigns/{cid}/start", headers=manager)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["campaign"]["status"] == "running"
    resp = await client.post(f"/api/campaigns/{cid}/pause", headers=manager)
    assert (await resp.json())["campaign"]["status"] == "paused"
    resp = await client.get(f"/api/campaigns/{cid}/status", headers=manager)
    body = (await resp.json())["campaign"]
    assert body["status"] == "paused" and body["running_here"] and body["calls_in_flight"] == 0
    resp = await client.post(f"/api/campaigns/{cid}/stop", headers=manager)
    assert (await resp.json())["campaign"]["status"] == "stopped"


async def test_agent_ws_receives_record_and_only_disposes_own_calls(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine  # the runtime's tests cover PostgreSQL
    cid = dialdata.campaign_with_contacts(engine, "w2", ["+8613800000011"])
    client = await _client(aiohttp_client, tmp_path, engine)
    manager = _bearer(engine, "m1", Role.MANAGER)
    a1, a2 = _bearer(engine, "a1", Role.AGENT), _bearer(engine, "a2", Role.AGENT)
    assert (await client.get("/api/agent/ws", headers=manager)).status == 403
    ws = await client.ws_connect("/api/agent/ws", headers=a1)
    hello = await ws.receive_json(timeout=5)
    assert hello == {"type": "hello", "agent": None}

    assert (await client.post(f"/api/campaigns/{cid}/start", headers=manager)).status == 200
    resp = await client.post("/api/agent/login", json={"campaign_id": cid}, headers=a1)
    assert resp.status == 200 and (await resp.json())["agent"]["state"] == "ready"
    resp = await client.post("/api/agent/pause", json={"reason": ""}, headers=a1)
    assert resp.status == 400  # a pause needs its reason code

    connected = None
    while connected is None:
        msg = await ws.receive_json(timeout=10)
        if msg["type"] == "call_connected":
            connected = msg
    assert connected["record"]["name"] == "客户1" and connected["number"] == "+8613800000011"
    while (await ws.receive_json(timeout=10))["type"] != "call_ended":
        pass
    call = {"call_id": connected["call_id"], "code": "success"}
    resp = await client.post("/api/agent/disposition", json=call, headers=a2)
    assert resp.status == 403 and (await resp.json())["error"] == "not_your_call"
    resp = await client.post("/api/agent/disposition", json=call, headers=a1)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["disposition"]["agent"]["state"] == "ready"
    resp = await client.post("/api/agent/pause", json={"reason": "coffee"}, headers=a1)
    assert (await resp.json())["agent"]["pause_reason"] == "coffee"
    resp = await client.post("/api/agent/logout", headers=a1)
    assert (await resp.json())["agent"]["state"] == "logged_out"
    await ws.close()
