"""Campaign control and the agent desk over HTTP: roles, the agent's WebSocket receiving the
customer's record, and an agent refused another agent's call."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dialdata
import jsonschema
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaigns
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.runtime import DialerRuntime
from outdial import auth, config
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort, stock_script
from web import ws_schema
from web.api_dialer import RUNTIME
from web.app import create_app


class AllowAll:
    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        pass

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


def script_for(target: str) -> FakeScript:
    if target.startswith("sip:"):
        return stock_script(target)
    if target.endswith("99"):  # stays on the line (a survey after a transfer)
        return FakeScript(delay=0.1, bye_after=60.0)
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
            "data_dir": str(tmp_path),
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
    jsonschema.validate(hello, ws_schema.MESSAGES["hello"])

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
    resp = await client.post("/api/agent/pause", json={"reason": "lunch"}, headers=a1)
    assert (await resp.json())["agent"]["pause_reason"] == "lunch"
    resp = await client.post("/api/agent/logout", headers=a1)
    assert (await resp.json())["agent"]["state"] == "logged_out"
    await ws.close()


async def test_agent_transfers_own_connected_call_to_the_survey_ivr(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    spec = rules.parse_campaign(
        {
            "name": "w3",
            "kind": "satisfaction_survey",
            "mode": "progressive",
            "caller_id": "+8610010000",
        }
    )
    camp, _version = campaigns.save_spec(engine, spec)
    assert camp.id is not None
    dialdata.add_contacts(engine, camp.id, ["+8613800000099"])
    client = await _client(aiohttp_client, tmp_path, engine)
    manager = _bearer(engine, "m1", Role.MANAGER)
    a1, a2 = _bearer(engine, "a1", Role.AGENT), _bearer(engine, "a2", Role.AGENT)
    ws = await client.ws_connect("/api/agent/ws", headers=a1)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await client.post(f"/api/campaigns/{camp.id}/start", headers=manager)).status == 200
    resp = await client.post("/api/agent/login", json={"campaign_id": camp.id}, headers=a1)
    assert resp.status == 200
    assert (await client.post("/api/agent/transfer-ivr", json={"call_id": "x"}, headers=manager)
            ).status == 403  # fmt: skip

    while (msg := await ws.receive_json(timeout=10))["type"] != "call_connected":
        pass
    call = {"call_id": msg["call_id"]}
    resp = await client.post("/api/agent/transfer-ivr", json=call, headers=a2)
    assert resp.status == 403 and (await resp.json())["error"] == "not_your_call"
    resp = await client.post("/api/agent/transfer-ivr", json=call, headers=a1)
    assert resp.status == 200, await resp.text()
    body = (await resp.json())["transfer"]
    assert (body["transferred_to"], body["agent"]["state"]) == ("ivr", "wrap")
    while (msg := await ws.receive_json(timeout=10))["type"] != "call_transferred":
        pass
    assert (msg["call_id"], msg["to"], msg["campaign_id"]) == (call["call_id"], "ivr", camp.id)
    resp = await client.post("/api/agent/transfer-ivr", json=call, headers=a1)
    assert resp.status == 409  # in wrap-up now: nothing left to transfer
    resp = await client.post("/api/agent/disposition", json={**call, "code": "success"}, headers=a1)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["disposition"]["agent"]["state"] == "ready"
    # the customer is in the survey, answered as the IVR's, credited to the agent
    rows = await _until_rows(engine, "SELECT channel, agent_id FROM survey_responses")
    assert [(r.channel, r.agent_id) for r in rows] == [("ivr", auth.get_user(engine, "a1").id)]
    assert (await client.post(f"/api/campaigns/{camp.id}/stop", headers=manager)).status == 200
    await ws.close()


async def _until_rows(engine: Engine, sql: str) -> list[Any]:
    for _ in range(100):
        with engine.connect() as conn:
            got = list(conn.execute(sa.text(sql)))
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"no rows: {sql}")


async def test_status_says_why_it_is_not_dialing(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 16 item 6 over HTTP: outside the schedule, the next window in the campaign's
    zone, named (a start date far ahead keeps the test independent of today)."""
    from campaigns import rules
    from campaigns import store as campaigns

    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "later", ["+8613800000071"])
    spec = {
        "name": "later",
        "caller_id": "+8610010000",
        "timezone": "Asia/Shanghai",
        "active_from": "2099-01-07",  # a Wednesday
        "schedule": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
    campaigns.save_spec(engine, rules.parse_campaign(spec))
    manager = _bearer(engine, "m-why", Role.MANAGER)
    client = await _client(aiohttp_client, tmp_path, engine)
    resp = await client.get(f"/api/campaigns/{cid}/status", headers=manager)
    assert resp.status == 200
    idle = (await resp.json())["campaign"]["idle"]
    assert idle["code"] == "outside_schedule"
    assert idle["message"] == (
        "outside the schedule — next window Wed 2099-01-07 09:00 Asia/Shanghai"
    )


async def test_agent_hangs_up_over_http_and_the_script_arrives_filled_in(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 16 item 8: POST /api/agent/hangup; the script in call_connected; item 7: the
    callback disposition appears in GET /api/callbacks."""
    engine = sqlite_engine
    spec = rules.parse_campaign(
        {"name": "w4", "caller_id": "+8610010000", "script": "{name}您好，关于{product}"}
    )
    camp, _version = campaigns.save_spec(engine, spec)
    assert camp.id is not None
    dialdata.add_contacts(engine, camp.id, ["+8613800000099"])  # stays on the line
    client = await _client(aiohttp_client, tmp_path, engine)
    manager = _bearer(engine, "m1", Role.MANAGER)
    a1, a2 = _bearer(engine, "a1", Role.AGENT), _bearer(engine, "a2", Role.AGENT)
    ws = await client.ws_connect("/api/agent/ws", headers=a1)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await client.post(f"/api/campaigns/{camp.id}/start", headers=manager)).status == 200
    assert (await client.post("/api/agent/login", json={"campaign_id": camp.id}, headers=a1)
            ).status == 200  # fmt: skip
    while (msg := await ws.receive_json(timeout=10))["type"] != "call_connected":
        pass
    assert (msg["script"], msg["script_missing"]) == ("客户1您好，关于kettle", [])
    call = {"call_id": msg["call_id"]}
    resp = await client.post("/api/agent/disposition", json={**call, "code": "success"}, headers=a1)
    assert resp.status == 409 and "/api/agent/hangup" in (await resp.json())["message"]
    assert (await client.post("/api/agent/hangup", json=call, headers=manager)).status == 403
    resp = await client.post("/api/agent/hangup", json=call, headers=a2)
    assert resp.status == 403 and (await resp.json())["error"] == "not_your_call"
    resp = await client.post("/api/agent/hangup", json=call, headers=a1)
    assert resp.status == 200 and (await resp.json())["hangup"]["hung_up"]
    while (await ws.receive_json(timeout=10))["type"] != "call_ended":
        pass
    day = datetime.now().date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    body = {**call, "code": "callback", "callback_at": f"{day}T10:00:00+08:00"}
    resp = await client.post("/api/agent/disposition", json=body, headers=a1)
    assert resp.status == 200, await resp.text()
    listed = (await (await client.get("/api/callbacks", headers=a1)).json())["callbacks"]
    assert [(c["phone"], c["owner_kind"], c["local_time"][:16]) for c in listed] == [
        ("+8613800000099", "agent", f"{day}T10:00")
    ]
    assert (await client.post(f"/api/campaigns/{camp.id}/stop", headers=manager)).status == 200
    await ws.close()
