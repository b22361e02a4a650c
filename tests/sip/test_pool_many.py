"""K customer calls in one worker process, each with its agent leg (issue 12).

Against SIPp on loopback: the customers share one SIPp playing 440 Hz; agent ``i`` is
its own SIPp playing its own tone and accepting only its own From user. Each call's
recording mixes both directions of its bridge, so call ``i``'s recording must carry
agent ``i``'s tone and no other agent's.
"""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path

import pytest
import structlog

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.errors import PoolExhausted
from sip.limits import ModuleLimits
from sip.pcap import tone_pcap
from sip.pool import SipPool

pytestmark = pytest.mark.sip

K = 6
TONES = [600, 850, 1100, 1350, 1600, 1850]
SCENARIOS = Path(__file__).parent / "scenarios"


def originate(call_id: str, target: str, **kw: object) -> Originate:
    return Originate(
        call_id,
        target,
        "15550001",
        "Acme 回访",
        ring_timeout=5.0,
        allow_short_ring_timeout_for_tests=True,
        **kw,
    )  # type: ignore[arg-type]


def agent_scenario(workdir: Path, i: int, hz: int) -> Path:
    """agent_answer.xml playing its own tone and insisting on its own From user."""
    tone_pcap(workdir / f"tone{hz}.pcap", seconds=4.0, hz=hz)
    text = (SCENARIOS / "agent_answer.xml").read_text()
    text = text.replace('play_pcap_audio="tone.pcap"', f'play_pcap_audio="tone{hz}.pcap"')
    check_from = (
        f'<ereg regexp="sip:outdial-m{i}@" search_in="hdr" header="From:" '
        'check_it="true" assign_to="fr"/>\n    </action>'
    )
    text = text.replace("</action>", check_from, 1).replace(
        'variables="ci,ai"', 'variables="ci,ai,fr"'
    )
    path = workdir / f"agent_m{i}.xml"
    path.write_text(text)
    return path


def level(path: Path, hz: float) -> float:
    """Goertzel magnitude of ``hz`` over the recording, normalised per sample."""
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    coeff = 2 * math.cos(2 * math.pi * hz / 8000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return math.sqrt(max(s1 * s1 + s2 * s2 - coeff * s1 * s2, 0.0)) / max(len(samples), 1)


async def collect(pool: SipPool, done, timeout: float = 20.0) -> list[ev.SipEvent]:
    seen: list[ev.SipEvent] = []
    async with asyncio.timeout(timeout):
        while not done(seen):
            seen.append(await pool.events.get())
    return seen


def of(seen: list[ev.SipEvent], kind: type) -> list:
    return [e for e in seen if isinstance(e, kind)]


async def test_k_calls_in_one_worker_bridged_pairwise_never_crossed(
    sipp, sipp_workdir: Path, tmp_path: Path
) -> None:
    cfg = PoolConfig(
        SipConfig(rtp_port_start=36000),
        min_workers=1,
        warm_workers=0,
        max_workers=1,
        customer_lines=K,
    )
    customers = sipp("uas_answer.xml", calls=K)
    agents = [sipp(str(agent_scenario(sipp_workdir, i, hz))) for i, hz in enumerate(TONES)]
    async with SipPool(cfg) as pool:
        assert pool.status()["calls_per_worker"] == K
        recs = [tmp_path / f"m{i}.wav" for i in range(K)]
        for i in range(K):
            await pool.originate(originate(f"m{i}", customers.uri(), record_path=str(recs[i])))
        assert len(set(pool.worker_pids().values())) == 1
        seen = await collect(pool, lambda s: len(of(s, ev.CallAnswered)) == K)
        for i in range(K):
            await pool.connect_agent(f"m{i}", agents[i].uri(f"agent{i}"))
        seen += await collect(pool, lambda s: len(of(s, ev.AgentLegBridged)) == K)
        await asyncio.sleep(2.5)  # tones flow both ways through every bridge
        for i in range(K):
            await pool.hangup(f"m{i}")
        seen += await collect(pool, lambda s: len(of(s, ev.RecordingSaved)) == K)
    ends = of(seen, ev.CallEnded)
    assert sorted(e.call_id for e in ends) == sorted(f"m{i}" for i in range(K))
    assert {e.outcome for e in ends} == {ev.Outcome.ANSWERED}
    for i, rec in enumerate(recs):
        levels = [level(rec, hz) for hz in TONES]
        own = levels[i]
        others = max(lv for j, lv in enumerate(levels) if j != i)
        assert own > 10 * others, (i, levels)  # agent i's tone, and nobody else's
    for agent in agents:  # each got its own From user (the scenario checks it) and our BYE
        result = agent.wait()
        assert (result.returncode, result.successful) == (0, 1), result.stderr + result.errors


async def test_sigkill_with_k_bridged_calls_one_final_event_each(sipp, sipp_workdir) -> None:
    cfg = PoolConfig(
        SipConfig(rtp_port_start=37000),
        min_workers=1,
        warm_workers=0,
        max_workers=2,
        customer_lines=K,
    )
    customers = sipp("uas_hold.xml", calls=K)
    agents = sipp("agent_answer.xml", calls=K, timeout=40)
    async with SipPool(cfg) as pool:
        for i in range(K):
            await pool.originate(originate(f"x{i}", customers.uri()))
        await collect(pool, lambda s: len(of(s, ev.CallAnswered)) == K)
        for i in range(K):
            await pool.connect_agent(f"x{i}", agents.uri(f"agent{i}"))
        await collect(pool, lambda s: len(of(s, ev.AgentLegBridged)) == K)
        pid = pool.kill_worker_of("x0")
        assert {pool.kill_worker_of(f"x{i}") for i in range(K)} == {pid}  # all on one worker
        seen = await collect(pool, lambda s: bool(of(s, ev.WorkerDied)))
        await asyncio.sleep(1.0)  # nothing more may arrive for these calls
        while not pool.events.empty():
            seen.append(pool.events.get_nowait())
        lost = of(seen, ev.CallEnded)
        assert sorted(e.call_id for e in lost) == sorted(f"x{i}" for i in range(K))
        assert {e.outcome for e in lost} == {ev.Outcome.WORKER_LOST}
        [died] = of(seen, ev.WorkerDied)
        assert died.exitcode == -9 and len(died.lost_calls) == K
        assert pool.active_calls() == 0
        # a new worker takes calls again
        again = sipp("uas_486.xml")
        await pool.originate(originate("x-again", again.uri()))
        seen = await collect(pool, lambda s: bool(of(s, ev.CallEnded)))
        assert of(seen, ev.CallEnded)[0].outcome is ev.Outcome.BUSY
    customers.kill()
    agents.kill()


async def test_a_stock_4_call_module_gets_one_line_per_worker(sipp) -> None:
    """The limits of the PyPI wheel (PJSUA_MAX_CALLS 4): the workers enforce them (pjsua's
    maxCalls), the pool derives K = 1 and says so once, in the log and in status()."""
    stock = ModuleLimits(4, 254, 32, 32, built_by_outdial=False)
    cfg = PoolConfig(SipConfig(rtp_port_start=38000), min_workers=1, max_workers=3)
    peer = sipp("uas_answer.xml", calls=2)
    agent = sipp("agent_answer.xml", calls=2)
    with structlog.testing.capture_logs() as logs:
        async with SipPool(cfg, limits=stock) as pool:
            status = pool.status()
            for i in range(2):
                await pool.originate(originate(f"s{i}", peer.uri()))
            await collect(pool, lambda s: len(of(s, ev.CallAnswered)) == 2)
            assert pool.worker_pid_of("s0") != pool.worker_pid_of("s1")  # one line each
            for i in range(2):
                await pool.connect_agent(f"s{i}", agent.uri("agent"))
            await collect(pool, lambda s: len(of(s, ev.AgentLegBridged)) == 2)
            for i in range(2):
                await pool.hangup(f"s{i}")
            await collect(pool, lambda s: len(of(s, ev.CallEnded)) == 2)
    assert status["calls_per_worker"] == 1 and status["module_max_calls"] == 4
    assert "holds 4 calls per process" in status["note"]
    notes = [e for e in logs if e["event"] == "sip_calls_per_worker_lowered"]
    assert len(notes) == 1 and "instead of 32" in notes[0]["note"]
    assert agent.wait().returncode == 0


async def test_pool_size_follows_the_lines_in_flight(sipp) -> None:
    """Two lines at one call per worker and no reserve: two workers, a third call is refused."""
    cfg = PoolConfig(
        SipConfig(rtp_port_start=38600),
        min_workers=1,
        warm_workers=0,
        max_workers=10,
        customer_lines=1,
        agent_legs=0,
    )
    peer = sipp("uas_answer.xml", calls=2)
    pool = SipPool(cfg)
    pool.set_max_lines(2)
    async with pool:
        assert pool.status()["max_workers"] == 2
        for i in range(2):
            await pool.originate(originate(f"f{i}", peer.uri()))
        await collect(pool, lambda s: len(of(s, ev.CallAnswered)) == 2)
        with pytest.raises(PoolExhausted):
            await pool.originate(originate("f2", peer.uri()))
        assert pool.worker_count() == 2
        for i in range(2):
            await pool.hangup(f"f{i}")
        await collect(pool, lambda s: len(of(s, ev.CallEnded)) == 2)
    assert peer.wait().returncode == 0
