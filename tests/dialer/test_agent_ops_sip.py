"""The agent ends their own call over real SIP (issue 16 items 1, 7, 8).

SIPp plays the carrier (tests/dialer/scenarios/carrier.xml: +86138001… answers and streams
a tone for 6 s) and the agent's auto-answering softphone (scenarios/agent.xml). The runtime
dials through the real worker pool and the real compliance gate: an order-verification
(service) campaign in China whose list rests on the contract (no consent records at all,
rule 26). The agent sees the script filled in, hangs up through the runtime (what
``POST /api/agent/hangup`` calls), and its callback disposition becomes a callback record.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dialdata
import pytest
import sqlalchemy as sa
from dialdata import rows, until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from campaigns import callbacks, rules
from campaigns import store as campaigns
from dialer.runtime import DialerRuntime
from outdial import auth
from outdial.roles import Role
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool

pytestmark = pytest.mark.sip

SCENARIOS = Path(__file__).parent / "scenarios"
NUMBER = "+8613800100001"  # the carrier answers +86138001…


class Screen:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_str(self, data: str) -> None:
        self.messages.append(json.loads(data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


async def test_agent_hangs_up_a_service_call_resting_on_the_contract(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine
    spec = rules.parse_campaign(
        {
            "name": "核单",
            "kind": "order_verification",
            "mode": "progressive",
            "caller_id": "+8610010000",
            "script": "{name}您好，您的订单{product}已发货",
        }
    )
    camp, _ = campaigns.save_spec(db, spec)
    cid = camp.id or 0
    zone = dialdata.afternoon_zone(datetime.now(UTC))
    dialdata.add_contacts(db, cid, [NUMBER], (zone,))
    with db.begin() as conn:  # the uploader's statement (lists import --lawful-basis contract)
        conn.execute(sa.text("UPDATE call_lists SET lawful_basis = 'contract'"))

    workdir = write_all(tmp_path / "sipp")
    carrier = SippPeer(SCENARIOS / "carrier.xml", workdir, calls=1, timeout=60)
    agent_phone = SippPeer(SCENARIOS / "agent.xml", workdir, calls=1, timeout=60)
    user = auth.create_user(db, "agent1", "password-1", Role.AGENT, sip_uri=agent_phone.uri("a"))
    uid = user.id or 0
    await asyncio.sleep(0.3)  # let SIPp bind
    sip_cfg = SipConfig(
        rtp_port_start=random.randrange(30000, 38000, 400),
        trunk=TrunkConfig("127.0.0.1", carrier.port),
    )
    pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=1, customer_lines=1)
    rt = DialerRuntime(
        db,
        sip_factory=lambda _cid: SipPool(pool_cfg),
        default_safe_harbor=dialdata.safe_harbor(),
        engine_options={
            "ring_timeout": 4.0,
            "allow_short_ring_timeout_for_tests": True,
            "tick": 0.02,
            "pace_every": 0.2,
            "data_dir": str(tmp_path / "data"),
        },
        stop_drain=2.0,
    )
    screen = Screen()
    rt.hub.add(uid, screen)
    try:
        await rt.start(cid)
        await rt.agent_login(uid, cid)
        await until(lambda: bool(screen.of("call_connected")), 30, "the bridged call")
        (connected,) = screen.of("call_connected")
        assert connected["script"] == "客户1您好，您的订单kettle已发货"
        call_id = connected["call_id"]
        hung = await rt.agent_hangup(uid, call_id)
        assert hung["hung_up"]
        await until(lambda: bool(screen.of("call_ended")), 10, "the end of the call")
        await until(lambda: (rt.agent_status(uid) or {}).get("state") == "wrap", 10, "wrap-up")
        day = datetime.now(UTC).date() + timedelta(days=2)
        local = datetime.combine(day, datetime.min.time()).replace(hour=14)
        at = local.replace(tzinfo=ZoneInfo(zone))
        done = await rt.disposition(uid, call_id, "callback", callback_at=at)
        assert done["callback_at"] is not None
        await rt.stop_all()
        agent_phone.stop()
        results = carrier.wait(20), agent_phone.wait(20)
    finally:
        carrier.kill()
        agent_phone.kill()

    for result in results:  # both got our BYE: one call each, ended cleanly
        assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.stderr
    [(state, bridged, agent_id)] = rows(db, "SELECT state, bridged_at, agent_user_id FROM attempts")
    assert state == "completed" and bridged is not None and agent_id == uid
    [decision] = rows(db, "SELECT body FROM audit_log WHERE kind = 'decision'")
    assert '"allowed":true' in decision.body  # no consent record: the contract sufficed
    (cb,) = callbacks.list_callbacks(db)
    assert (cb.phone, cb.owner_id, cb.contact_ref) == (NUMBER, uid, f"call:{call_id}")
