"""The simulated carrier (sip/simcarrier.py) as the far end of real SIP calls: outdial's own
worker pool dials it over loopback, as `outdial serve` does without a trunk."""

from __future__ import annotations

import asyncio
import json
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
