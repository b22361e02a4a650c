"""A SIP worker holding K bridged calls is SIGKILLed under the real engine (issue 12).

The real engine, gate and pool dial K records in progressive mode; the carrier (SIPp,
scenarios/carrier.xml) answers each with audio, K agents on one SIPp softphone take them.
All K calls are placed on one worker (``customer_lines=K``); once every call is bridged
the worker is killed. Each call must get exactly one final event, and the engine must
close every attempt: final, one outcome in the audit trail, the agents back in wrap-up.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dialdata
import pytest
import sqlalchemy as sa
from dialdata import rows, until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from compliance import store
from compliance.gate import gate_for
from dialer.core import CoreConfig
from dialer.engine import CampaignEngine, EngineSettings
from outdial import auth
from outdial.roles import Role
from sip import events as ev
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool

pytestmark = pytest.mark.sip

SCENARIOS = Path(__file__).parent / "scenarios"
K = 4


async def test_sigkill_of_a_worker_with_k_bridged_calls(sqlite_engine: Engine, tmp_path: Path):
    db = sqlite_engine
    numbers = [f"+86138001{i:05d}" for i in range(K)]  # the carrier answers these
    cid = dialdata.campaign_with_contacts(db, "crash", numbers, mode="progressive")
    zone = dialdata.afternoon_zone(datetime.now(UTC))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET timezones = :z"), {"z": f'["{zone}"]'})
    for n in numbers:  # rule 26: CN needs consent per number
        store.consent_record(db, n, "granted", evidence="e2e", at=datetime.now(UTC) - timedelta(1))
    workdir = write_all(tmp_path / "sipp")
    carrier = SippPeer(SCENARIOS / "carrier.xml", workdir, calls=K, timeout=60)
    phones = SippPeer(SCENARIOS / "agent.xml", workdir, calls=K, timeout=60)
    seen: list[ev.SipEvent] = []
    side: set[asyncio.Task[None]] = set()
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", carrier.port),
        )
        pool_cfg = PoolConfig(
            sip_cfg, min_workers=1, warm_workers=0, max_workers=2, customer_lines=K
        )
        async with SipPool(pool_cfg, on_event=seen.append) as pool:
            settings = EngineSettings(
                campaign_id=cid,
                core=CoreConfig(mode="progressive", connect_limit=2.0, max_lines=K),
                caller_id="+8610010000",
                ring_timeout=4.0,
                allow_short_ring_timeout_for_tests=True,
                safe_harbor_wav=dialdata.safe_harbor(),
                tick=0.02,
                pace_every=0.2,
            )
            eng: CampaignEngine

            async def wrap_up(agent_id: str, call_id: str) -> None:
                await asyncio.sleep(0.1)
                await eng.disposition(agent_id, call_id, "callback", final=True)

            def push(agent_id: str, msg: dict[str, Any]) -> None:
                if msg["type"] == "call_ended" and msg["state"] == "completed":
                    task = asyncio.create_task(wrap_up(agent_id, msg["call_id"]))
                    side.add(task)
                    task.add_done_callback(side.discard)

            eng = CampaignEngine(db, pool, settings, gate_for(db, cid), push=push)
            await eng.start(dialing=False)
            for i in range(K):
                uri = phones.uri(f"agent{i}")
                user = auth.create_user(db, f"agent{i}", "password-1", Role.AGENT, sip_uri=uri)
                assert user.id is not None
                await eng.agent_login(f"a{i}", user.id, uri)
            eng.resume()
            bridged = lambda: [e for e in seen if isinstance(e, ev.AgentLegBridged)]  # noqa: E731
            await until(lambda: len(bridged()) == K, 20, "K bridged calls")
            eng.pause()
            call_ids = {e.call_id for e in bridged()}
            pids = {pool.worker_pid_of(c) for c in call_ids}
            assert len(pids) == 1  # all K on one worker
            pool.kill_worker_of(next(iter(call_ids)))
            await until(lambda: eng.finished == K and not side, 20, "every attempt closed")
            await asyncio.sleep(0.5)  # nothing more may arrive for these calls
            await eng.stop(drain_timeout=2)
    finally:
        carrier.kill()
        phones.kill()
        (tmp_path / "sip-events.txt").write_text("\n".join(map(repr, seen)))

    finals = [e for e in seen if isinstance(e, ev.CallEnded)]
    assert sorted(e.call_id for e in finals) == sorted(call_ids)  # exactly one each
    assert {e.outcome for e in finals} == {ev.Outcome.WORKER_LOST}
    [died] = [e for e in seen if isinstance(e, ev.WorkerDied)]
    assert died.exitcode == -9 and sorted(died.lost_calls) == sorted(call_ids)
    attempts = rows(db, "SELECT call_id, state, final, bridged_at, disposition FROM attempts")
    assert len(attempts) == K and all(a.final for a in attempts)
    assert {a.call_id for a in attempts} == call_ids
    for a in attempts:  # talked, then lost: the agent's disposition closes it
        assert a.state == "completed" and a.bridged_at is not None and a.disposition == "callback"
    audit = rows(db, "SELECT body FROM audit_log WHERE kind = 'outcome'")
    assert sorted(json.loads(b.body)["call_id"] for b in audit) == sorted(call_ids)
    assert store.audit_verify(db).intact
