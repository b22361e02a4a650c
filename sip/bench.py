"""``outdial bench sip``: place N calls at R per second through the real pool.

Measures what the issue asks for: achieved CPS, peak concurrent calls,
answered/failed counts, worker count, CPU and memory of outdial's processes
(this one plus its workers, read from /proc), latency percentiles, and whether
every call got exactly one final event.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from outdial.errors import OutdialError
from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.pool import SipPool

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared library pages split between the processes using them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


def percentiles(values: list[float], qs: tuple[int, ...] = (50, 90, 99)) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    out = {}
    for q in qs:
        rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
        out[f"p{q}"] = round(ordered[rank], 2)
    out["max"] = round(ordered[-1], 2)
    return out


@dataclass
class _Tally:
    started: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    finals: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    setup_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    amd: Counter[str] = field(default_factory=Counter)
    bridge_ms: list[float] = field(default_factory=list)
    agent_failures: Counter[str] = field(default_factory=Counter)
    live: int = 0
    peak: int = 0
    originate_errors: Counter[str] = field(default_factory=Counter)


async def run_bench(
    target: str,
    calls: int,
    cps: float,
    hold: float,
    *,
    amd: bool = False,
    customer_lines: int = 3,
    max_workers: int = 120,
    rtp_port_start: int = 30000,
    start_method: str = "spawn",
    agent: str | None = None,
) -> dict[str, object]:
    """Run the load and return the figures as a JSON-ready dict.

    With ``agent`` (a SIP URI that auto-answers), every answered call is connected to
    it and answer-to-bridge is measured; each worker then holds 1 customer + 1 agent
    leg (+ the spare slot), since every customer needs an agent leg at once here.
    """
    if agent:
        customer_lines = 1
    concurrency = min(calls, math.ceil(cps * (hold + 2.0)))
    workers = min(max_workers, math.ceil(concurrency / customer_lines))
    cfg = PoolConfig(
        SipConfig(rtp_port_start=rtp_port_start, rtp_ports_per_worker=16),
        min_workers=workers,
        max_workers=max_workers,
        customer_lines=customer_lines,
        agent_legs=1 if agent else 0,
        idle_shrink_after=3600,
        start_method=start_method,
    )
    tally = _Tally()
    loop = asyncio.get_running_loop()
    pool = SipPool(cfg, on_event=lambda e: on_event(e))
    t_spawn = loop.time()
    await pool.start()
    spawn_s = loop.time() - t_spawn
    pids = [os.getpid(), *pool.worker_pids().values()]
    cpu0 = {pid: _cpu_seconds(pid) for pid in pids}
    peak_pss = sum(_pss_bytes(p) for p in pids)
    idle_worker_pss = [_pss_bytes(p) for p in pids[1:]]
    done = asyncio.Event()

    def on_event(event: ev.SipEvent) -> None:
        now = loop.time()
        if isinstance(event, ev.CallAnswered):
            tally.answered[event.call_id] = now
            tally.setup_ms.append((now - tally.started[event.call_id]) * 1000)
            tally.answer_ms.append(event.time_to_answer * 1000)
            tally.live += 1
            tally.peak = max(tally.peak, tally.live)
            loop.call_later(hold, _hangup, event.call_id)
            if agent:
                _spawn_task(_connect(event.call_id))
        elif isinstance(event, ev.AgentLegBridged):
            tally.bridge_ms.append(event.answer_to_bridge_ms)
        elif isinstance(event, ev.AgentLegEnded) and not event.bridged:
            tally.agent_failures[str(event.sip_status)] += 1
        elif isinstance(event, ev.AmdResult):
            tally.amd[event.verdict.value] += 1
        elif isinstance(event, ev.CallEnded):
            tally.finals[event.call_id] += 1
            tally.outcomes[event.outcome.value] += 1
            if event.call_id in tally.answered:
                tally.live -= 1
            if sum(tally.finals.values()) + sum(tally.originate_errors.values()) >= calls:
                done.set()

    hangups: set[asyncio.Task[None]] = set()

    async def _originate(call_id: str) -> None:
        try:
            await pool.originate(Originate(call_id, target, "15550000", ring_timeout=15.0, amd=amd))
        except OutdialError as exc:
            tally.originate_errors[type(exc).__name__] += 1
            if sum(tally.finals.values()) + sum(tally.originate_errors.values()) >= calls:
                done.set()

    def _spawn_task(coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        hangups.add(task)
        task.add_done_callback(hangups.discard)

    def _hangup(call_id: str) -> None:
        _spawn_task(_safe_hangup(call_id))

    async def _connect(call_id: str) -> None:
        try:
            await pool.connect_agent(call_id, agent or "")
        except OutdialError as exc:
            tally.agent_failures[type(exc).__name__] += 1

    async def _safe_hangup(call_id: str) -> None:
        with contextlib.suppress(OutdialError):  # the call already ended
            await pool.hangup(call_id)

    memory = _Peak()
    sampler = asyncio.ensure_future(memory.sample(pool))
    t0 = loop.time()
    for i in range(calls):
        delay = t0 + i / cps - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        call_id = f"bench-{i}"
        tally.started[call_id] = loop.time()
        # Not awaited in line: a call that must wait for a new worker must not hold the rest.
        _spawn_task(_originate(call_id))
    placed_s = loop.time() - t0
    try:
        async with asyncio.timeout(hold + 30):
            await done.wait()
    except TimeoutError:
        pass
    sampler.cancel()
    peak_pss = max(peak_pss, memory.peak)
    wall = loop.time() - t0
    cpu_main = _cpu_seconds(os.getpid()) - cpu0[os.getpid()]
    cpu = cpu_main + sum(_cpu_seconds(p) - cpu0.get(p, 0.0) for p in pool.worker_pids().values())
    n_workers = len(pool.worker_pids())
    await pool.close()
    missing = calls - len(tally.finals) - sum(tally.originate_errors.values())
    return {
        "target": target,
        "start_method": start_method,
        "calls": calls,
        "cps_requested": cps,
        "hold_s": hold,
        "amd": amd,
        "cps_achieved": round(calls / placed_s, 2) if placed_s > 0 else None,
        "peak_concurrent_calls": tally.peak,
        "answered": len(tally.answered),
        "outcomes": dict(tally.outcomes),
        "originate_errors": dict(tally.originate_errors),
        "calls_without_final_event": missing,
        "calls_with_duplicate_final_event": sum(1 for n in tally.finals.values() if n > 1),
        "workers": n_workers,
        "worker_spawn_s": round(spawn_s, 2),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1) if wall else None,
        "cpu_percent_main_process": round(100 * cpu_main / wall, 1) if wall else None,
        "cpu_seconds": round(cpu, 2),
        "wall_s": round(wall, 2),
        "peak_pss_mb": round(peak_pss / 2**20, 1),
        "idle_worker_pss_mb": round(sum(idle_worker_pss) / max(1, len(idle_worker_pss)) / 2**20, 1),
        "invite_to_answer_ms": percentiles(tally.answer_ms),
        "originate_to_answered_event_ms": percentiles(tally.setup_ms),
        "amd_verdicts": dict(tally.amd),
        "agent": agent,
        "answer_to_bridge_ms": percentiles(tally.bridge_ms),
        "agent_failures": dict(tally.agent_failures),
    }


class _Peak:
    """Samples the summed PSS of this process and the workers every 0.5 s."""

    def __init__(self) -> None:
        self.peak = 0

    async def sample(self, pool: SipPool) -> None:
        while True:
            pids = [os.getpid(), *pool.worker_pids().values()]
            self.peak = max(self.peak, sum(_pss_bytes(p) for p in pids))
            await asyncio.sleep(0.5)
