"""The simulated carrier (sip/simcarrier.py) as the far end of real SIP calls: outdial's own
worker pool dials it over loopback, as `outdial serve` does without a trunk."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.errors import SipConfigError
from sip.pool import SipPool
from sip.simcarrier import SimCarrier, SimCarrierConfig

pytestmark = [pytest.mark.sip]

SCENARIO = {
    "name": "half-busy",
    "customers": {
        "p_refuse": 0,
        "p_callback": 0,
        "scores": [0, 0, 0, 0, 1],
        "keys_after": 0.5,
        "keys_every": 0.4,
    },
    "phases": [
        {
            "until": 3600,
            "agents": 1,
            "p_human": 0.5,
            "p_busy": 0.5,
            "p_fail": 0,
            "ring_mean": 0.5,
            "talk_mean": 3,
            "talk_cv": 0.1,
        }
    ],
}
CALLS = 6


def test_customers_answer_press_keys_hang_up_or_are_busy_and_softphones_answer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps([SCENARIO]))
    sim = SimCarrier(SimCarrierConfig(scenario=str(path), seed=11))
    port = sim.start()
    try:
        seen = asyncio.run(_dial(port, sim.agent_uri("sim01")))
        stats = sim.stats()
    finally:
        sim.stop()
    ended = {cid: evs[-1] for cid, evs in seen.items()}
    assert set(ended) == {f"c{i}" for i in range(CALLS)} | {"agent"}
    assert all(isinstance(e, ev.CallEnded) for e in ended.values())
    outcomes = Counter(e.outcome for e in ended.values() if e.call_id != "agent")
    assert outcomes[ev.Outcome.BUSY] + outcomes[ev.Outcome.ANSWERED] == CALLS
    assert stats == {
        "person": outcomes[ev.Outcome.ANSWERED],
        "busy": outcomes[ev.Outcome.BUSY],
        "agent": 1,
    }
    for cid, evs in seen.items():
        end = ended[cid]
        assert isinstance(end, ev.CallEnded)
        if cid == "agent":  # the softphone answers and stays until we hang up
            assert end.who_hung_up is ev.HungUpBy.US
            continue
        if end.outcome is ev.Outcome.BUSY:
            assert end.sip_status == 486
            continue
        keys = [e for e in evs if isinstance(e, ev.DtmfReceived)]
        assert keys and {(k.digit, k.method) for k in keys} == {("5", "rfc4733")}
        assert end.who_hung_up is ev.HungUpBy.REMOTE and end.duration >= 2.5


async def _dial(port: int, agent: str) -> dict[str, list[ev.SipEvent]]:
    cfg = PoolConfig(
        SipConfig(trunk=TrunkConfig("127.0.0.1", port)),
        max_workers=1,
        customer_lines=8,
        warm_workers=0,
    )
    seen: dict[str, list[ev.SipEvent]] = defaultdict(list)
    async with SipPool(cfg) as pool:
        for i in range(CALLS):
            await pool.originate(Originate(f"c{i}", f"+8613900{i:06d}", "+8610010000", 20))
        await pool.originate(Originate("agent", agent, "+8610010000", 20))
        deadline = time.monotonic() + 40
        while len([c for c, evs in seen.items() if isinstance(evs[-1], ev.CallEnded)]) < CALLS + 1:
            assert time.monotonic() < deadline, dict(seen)
            e = await asyncio.wait_for(pool.events.get(), 30)
            seen[e.call_id].append(e)
            if e.call_id == "agent" and isinstance(e, ev.CallAnswered):
                await asyncio.sleep(1.0)  # the softphone talks on until we hang up
                await pool.hangup("agent")
    return seen


def test_a_bad_scenario_is_refused_before_the_process_starts(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "phases": []}')
    with pytest.raises(SipConfigError, match="phases"):
        SimCarrier(SimCarrierConfig(scenario=str(path)))


# --- several processes behind one address; a process that dies (issue 17) ------------------
LONG = {
    "name": "long-calls",
    "customers": {"p_refuse": 0, "p_callback": 0, "keys_after": 100, "keys_every": 100},
    "phases": [
        {
            "until": 3600,
            "agents": 1,
            "p_human": 0.5,  # the other half never answer: they ring until we give up
            "p_busy": 0,
            "p_fail": 0,
            "p_machine": 0,
            "ring_mean": 0.3,
            "talk_mean": 120,
            "talk_cv": 0.1,
        }
    ],
}
MANY = 10


def test_a_carrier_process_dying_mid_calls_ends_each_call_once_and_comes_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps([LONG]))
    # two processes of 4 calls each hold the ten calls only if the front spreads them
    sim = SimCarrier(SimCarrierConfig(scenario=str(path), seed=5, processes=3, max_calls=8))
    port = sim.start()
    try:
        assert sim.cfg.capacity == 4
        seen, killed_at, after, ringing = asyncio.run(_kill_mid_calls(port, sim))
        stats = sim.stats()
    finally:
        sim.stop()
    finals = {cid: [e for e in evs if isinstance(e, ev.CallEnded)] for cid, evs in seen.items()}
    assert set(finals) == {f"c{i}" for i in range(MANY)}
    assert all(len(f) == 1 for f in finals.values()), finals  # exactly one final event each
    answered = {
        cid for cid, evs in seen.items() if any(isinstance(e, ev.CallAnswered) for e in evs)
    }
    assert answered and len(answered) < MANY  # both kinds were up when the processes died
    for cid, (end,) in finals.items():
        if cid in answered:  # the front's BYE on the dead process's behalf
            assert end.who_hung_up is ev.HungUpBy.REMOTE and end.outcome is ev.Outcome.ANSWERED
        else:  # still ringing: a 503, not a ring timeout
            assert end.sip_status == 503
    assert max(killed_at.values()) < 5.0  # ended at once, not after a SIP timeout (32 s)
    assert sim.restarts == 3
    assert ringing.status_code == 180 and after.outcome is ev.Outcome.CANCELLED  # served again
    assert stats["person"] + stats.get("no_answer", 0) >= MANY


async def _kill_mid_calls(
    port: int, sim: SimCarrier
) -> tuple[dict[str, list[ev.SipEvent]], dict[str, float], ev.CallEnded, ev.CallProgress]:
    cfg = PoolConfig(
        SipConfig(trunk=TrunkConfig("127.0.0.1", port)),
        max_workers=1,
        customer_lines=16,
        warm_workers=0,
    )
    seen: dict[str, list[ev.SipEvent]] = defaultdict(list)
    async with SipPool(cfg) as pool:
        for i in range(MANY):
            await pool.originate(Originate(f"c{i}", f"+8613900{i:06d}", "+8610010000", 60))
        deadline = time.monotonic() + 30
        while sum(isinstance(e, ev.CallAnswered) for evs in seen.values() for e in evs) < 3:
            assert time.monotonic() < deadline, dict(seen)
            e = await asyncio.wait_for(pool.events.get(), 30)
            seen[e.call_id].append(e)
        await asyncio.sleep(1.0)  # every call has reached a process
        t0 = time.monotonic()
        for pid in sim.pids():
            os.kill(pid, signal.SIGKILL)
        killed_at: dict[str, float] = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # a little past the last end: no second final
            try:
                e = await asyncio.wait_for(pool.events.get(), 3.0 if len(killed_at) == MANY else 20)
            except TimeoutError:
                break
            seen[e.call_id].append(e)
            if isinstance(e, ev.CallEnded):
                killed_at[e.call_id] = time.monotonic() - t0
        # a restarted process takes calls: it rings (180) and then answers or rings on
        await pool.originate(Originate("again", "+8613900999999", "+8610010000", 60))
        while True:
            e = await asyncio.wait_for(pool.events.get(), 30)
            if e.call_id == "again" and isinstance(e, ev.CallProgress):
                ringing = e
                await pool.hangup("again")
            if e.call_id == "again" and isinstance(e, ev.CallEnded):
                return seen, killed_at, e, ringing
