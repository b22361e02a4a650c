"""Live monitoring over HTTP (issue 19.1): who may, which calls, mode changes and leaving,
the audit trail of every session, and nothing of it reaching the agent's screen.

The SIP side is the fake port here; tests/sip/test_monitor.py proves the audio over SIPp
and tests/web/test_monitor_browser.py the buttons against a real server and SIPp.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import dialdata
from consolekit import app_for
from sqlalchemy.engine import Engine

from outdial import auth
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort

STAYS = "+8613800000099"


async def _client(aiohttp_client: Any, tmp_path: Path, engine: Engine, **env: str) -> Any:
    def port(cid: int) -> FakeSipPort:  # customers stay on the line until hung up
        return FakeSipPort(lambda target: FakeScript(delay=0.1))

    return await aiohttp_client(app_for(engine, tmp_path, env, sip_factory=port))


def _bearer(engine: Engine, name: str, role: Role, sip_uri: str = "") -> dict[str, str]:
    auth.create_user(engine, name, "secret-pass-123", role, sip_uri=sip_uri)
    _, secret = auth.create_token(engine, name, "t")
    return {"Authorization": f"Bearer {secret}"}


async def _connected_call(client: Any, cid: int, manager: dict[str, str], agent: Any) -> Any:
    """Start the campaign, sign the agent in; return their WebSocket and the call's id."""
    ws = await client.ws_connect("/api/agent/ws", headers=agent)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await client.post(f"/api/campaigns/{cid}/start", headers=manager)).status == 200
    resp = await client.post("/api/agent/login", json={"campaign_id": cid}, headers=agent)
    assert resp.status == 200, await resp.text()
    while (msg := await ws.receive_json(timeout=10))["type"] != "call_connected":
        pass
    return ws, msg["call_id"]


async def _calls(client: Any, cid: int, who: dict[str, str]) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/campaigns/{cid}/calls", headers=who)
    assert resp.status == 200, await resp.text()
    return list((await resp.json())["calls"])


async def test_a_supervisor_listens_whispers_barges_and_leaves(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    cid = dialdata.campaign_with_contacts(engine, "mon1", [STAYS])
    client = await _client(aiohttp_client, tmp_path, engine)
    manager = _bearer(engine, "m1", Role.MANAGER, "sip:m1@127.0.0.1:5099")
    qa = _bearer(engine, "q1", Role.QA, "sip:q1@127.0.0.1:5098")
    nophone = _bearer(engine, "m2", Role.MANAGER)
    admin = _bearer(engine, "ad", Role.ADMIN)
    agent = _bearer(engine, "a1", Role.AGENT, "sip:agent@127.0.0.1")
    ws, call_id = await _connected_call(client, cid, manager, agent)
    path = f"/api/calls/{call_id}/monitor"

    # an agent may not monitor, nor list the calls
    resp = await client.post(path, json={"mode": "listen"}, headers=agent)
    assert resp.status == 403, await resp.text()
    assert (await client.get(f"/api/campaigns/{cid}/calls", headers=agent)).status == 403
    [call] = await _calls(client, cid, manager)
    assert (call["call_id"], call["monitor"]) == (call_id, None)
    # bad input: a clear 400 naming the field
    resp = await client.post(path, json={"mode": "shout"}, headers=manager)
    assert resp.status == 400 and (await resp.json())["field"] == "mode"
    resp = await client.post(path, json={"mode": "listen", "phone": "1001"}, headers=manager)
    assert resp.status == 400 and (await resp.json())["field"] == "phone"
    resp = await client.post(path, json={"mode": "listen"}, headers=nophone)
    assert resp.status == 400 and (await resp.json())["field"] == "phone"
    resp = await client.post("/api/calls/nope/monitor", json={"mode": "listen"}, headers=manager)
    assert resp.status == 404

    resp = await client.post(path, json={"mode": "listen"}, headers=manager)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["mode"] == "listen"
    for _ in range(100):  # the fake supervisor's phone answers 50 ms later
        [call] = await _calls(client, cid, manager)
        if call["monitor"]["state"] == "joined":
            break
        await asyncio.sleep(0.02)
    assert call["monitor"] | {"started_at": ""} == {
        "call_id": call_id,
        "supervisor": "m1",
        "supervisor_id": auth.get_user(engine, "m1").id,
        "mode": "listen",
        "state": "joined",
        "started_at": "",
    }
    resp = await client.post(path, json={"mode": "listen"}, headers=qa)  # one per call
    assert resp.status == 409, await resp.text()
    resp = await client.post(f"{path}/mode", json={"mode": "barge"}, headers=qa)
    assert resp.status == 403  # another supervisor's session
    for mode in ("whisper", "barge"):
        resp = await client.post(f"{path}/mode", json={"mode": mode}, headers=manager)
        assert resp.status == 200 and (await resp.json())["mode"] == mode
    resp = await client.delete(path, headers=manager)
    assert (await resp.json()) == {"call_id": call_id, "left": True}
    for _ in range(100):
        [call] = await _calls(client, cid, manager)
        if call["monitor"] is None:
            break
        await asyncio.sleep(0.02)
    assert call["monitor"] is None  # the call goes on, unmonitored
    # now QA may join it, and the call's end ends their leg (audited with its reason)
    assert (await client.post(path, json={"mode": "barge"}, headers=qa)).status == 200
    resp = await client.post("/api/agent/hangup", json={"call_id": call_id}, headers=agent)
    assert resp.status == 200, await resp.text()

    seen: list[dict[str, Any]] = []
    while (msg := await ws.receive_json(timeout=10))["type"] != "call_ended":
        seen.append(msg)
    assert "m1" not in json.dumps(seen) and "monitor" not in json.dumps(seen)

    rows: list[dict[str, Any]] = []
    for _ in range(100):
        resp = await client.get("/api/audit?q=" + call_id, headers=admin)
        rows = [r for r in (await resp.json())["rows"] if r["kind"].startswith("monitor_")]
        if len(rows) == 6:
            break
        await asyncio.sleep(0.05)
    kinds = sorted((r["kind"], r["body"]["supervisor"], r["body"]["mode"]) for r in rows)
    assert kinds == [
        ("monitor_end", "m1", "barge"),
        ("monitor_end", "q1", "barge"),
        ("monitor_mode", "m1", "barge"),
        ("monitor_mode", "m1", "whisper"),
        ("monitor_start", "m1", "listen"),
        ("monitor_start", "q1", "barge"),
    ], rows
    ends = {
        r["body"]["supervisor"]: r["body"]["reason"] for r in rows if r["kind"] == "monitor_end"
    }
    assert ends == {"m1": "left", "q1": "call ended"}
    assert (await client.post(f"/api/campaigns/{cid}/stop", headers=manager)).status == 200
    await ws.close()


async def test_monitor_roles_and_the_agents_notice_are_settings(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "mon2", [STAYS])
    env = {"OUTDIAL_MONITOR_ROLES": "manager", "OUTDIAL_MONITOR_NOTICE": "false"}
    client = await _client(aiohttp_client, tmp_path, engine, **env)
    manager = _bearer(engine, "m1", Role.MANAGER, "sip:m1@127.0.0.1:5099")
    qa = _bearer(engine, "q1", Role.QA, "sip:q1@127.0.0.1:5098")
    agent = _bearer(engine, "a1", Role.AGENT, "sip:agent@127.0.0.1")
    ws, call_id = await _connected_call(client, cid, manager, agent)
    resp = await client.post(f"/api/calls/{call_id}/monitor", json={"mode": "listen"}, headers=qa)
    assert resp.status == 403 and "OUTDIAL_MONITOR_ROLES" in (await resp.json())["message"]
    assert (await client.get(f"/api/campaigns/{cid}/calls", headers=qa)).status == 403
    desk = await (await client.get("/desk", headers=agent)).text()
    assert "monitor" not in desk.lower()
    assert (await client.post(f"/api/campaigns/{cid}/stop", headers=manager)).status == 200
    await ws.close()


async def test_agents_desk_says_calls_may_be_monitored(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await _client(aiohttp_client, tmp_path, sqlite_engine)
    agent = _bearer(sqlite_engine, "a1", Role.AGENT, "sip:agent@127.0.0.1")
    cid = dialdata.campaign_with_contacts(sqlite_engine, "mon3", [])
    manager = _bearer(sqlite_engine, "m1", Role.MANAGER)
    assert (await client.post(f"/api/campaigns/{cid}/start", headers=manager)).status == 200
    resp = await client.post("/api/agent/login", json={"campaign_id": cid}, headers=agent)
    assert resp.status == 200
    desk = await (await client.get("/desk", headers={**agent, "Accept-Language": "en"})).text()
    assert "Calls may be monitored by a supervisor" in desk
    assert (await client.post(f"/api/campaigns/{cid}/stop", headers=manager)).status == 200
