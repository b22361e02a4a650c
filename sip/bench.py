"""``outdial bench sip``: place N calls at R per second through the real pool.

Measures what the issue asks for: achieved CPS, peak concurrent calls,
answered/failed counts, worker count, CPU and memory of outdial's processes
(this one plus its workers, read from /proc), latency percentiles, whether
every call got exactly one final event, and RTP loss: each worker reads its
legs' pjsua2 stream counters (``sip.stats.StreamStats``) just before hanging up.

By default the pool runs as in production: ``min_workers`` small and a warm
reserve of idle workers refilled in the background; ``prestart=True`` starts
every worker the load needs before the first call instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from outdial.errors import OutdialError
from sip import events as ev
from sip.commands import Originate
from sip.config import DEFAULT_CALLS_PER_WORKER, PoolConfig, SipConfig
from sip.pool import SipPool
from sip.stats import StreamStats

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


def _outdial_pids(exclude: tuple[int, ...] | dict[int, float] = ()) -> list[int]:
    """This process and all its descendants (workers, the forkserver, its resource
    tracker), except ``exclude`` (the SIPp peers a bench script started)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


def percentiles(values: list[float], qs: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
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
    originate_ms: list[float] = field(default_factory=list)  # time pool.originate() took
    streams: list[StreamStats] = field(default_factory=list)


def rtp_summary(streams: list[StreamStats], kind: str) -> dict[str, object]:
    """Totals of one kind of leg; ``loss_percent`` = sequence gaps / packets expected."""
    mine = [s for s in streams if s.kind == kind]
    rx = sum(s.rx_packets for s in mine)
    lost = sum(s.rx_lost for s in mine)
    return {
        "legs": len(mine),
        "legs_with_loss": sum(1 for s in mine if s.rx_lost),
        "rx_packets": rx,
        "rx_lost": lost,
        "loss_percent": round(100 * lost / (rx + lost), 4) if rx + lost else None,
        "rx_discarded": sum(s.rx_discarded for s in mine),
        "rx_dup": sum(s.rx_dup for s in mine),
        "rx_reorder": sum(s.rx_reorder for s in mine),
        "jitter_buffer_lost_frames": sum(s.jb_lost for s in mine),
        "jitter_buffer_discarded_frames": sum(s.jb_discard for s in mine),
        "tx_packets": sum(s.tx_packets for s in mine),
        # 50 packets/s each way while up (20 ms G.711 frames; the peer may start later)
        "tx_packets_per_leg_second": round(
            sum(s.tx_packets for s in mine) / max(1e-9, sum(s.seconds for s in mine)), 2
        ),
        "rx_jitter_max_ms": round(max((s.rx_jitter_max_us for s in mine), default=0) / 1000, 2),
    }


async def run_bench(
    target: str,
    calls: int,
    cps: float,
    hold: float,
    *,
    amd: bool = False,
    customer_lines: int = DEFAULT_CALLS_PER_WORKER,
    max_workers: int = 300,
    rtp_port_start: int = 10000,  # the pool widens each worker's range to fit its plan
    start_method: str = "forkserver",
    agent: str | None = None,
    prestart: bool = False,
    warm_workers: int | None = None,
    min_workers: int = 1,
    spawn_concurrency: int = 4,
    other_pids: tuple[int, ...] = (),
    record_dir: str | None = None,
) -> dict[str, object]:
    """Run the load and return the figures as a JSON-ready dict.

    With ``agent`` (a SIP URI that auto-answers), every answered call is connected to
    it and answer-to-bridge is measured; each worker holds up to ``customer_lines`` (K)
    customer calls, each with its agent leg in the same process (sip/limits.py).
    ``record_dir``: record every call there (both directions mixed).
    ``other_pids`` (e.g. the SIPp peers) are sampled for CPU but not counted as outdial.
    """
    concurrency = min(calls, math.ceil(cps * (hold + 2.0)))
    workers = min(max_workers, math.ceil(concurrency / customer_lines))
    if warm_workers is None:  # one second of demand (a worker start takes well under that)
        warm_workers = min(max_workers, max(1, math.ceil(cps / customer_lines)))
    cfg = PoolConfig(
        SipConfig(
            rtp_port_start=rtp_port_start,
            rtp_ports_per_worker=16,
            stream_stats=True,
            # AMD frame ports cost their bridge clock ~0.6 % of a core per busy worker
            # even when unused (PJSUA calls their Python callbacks every 20 ms)
            frame_port_count=None if amd else 0,
        ),
        min_workers=workers if prestart else min(min_workers, max_workers),
        max_workers=max_workers,
        customer_lines=customer_lines,
        agent_legs=None if agent else 0,
        warm_workers=warm_workers,
        spawn_concurrency=spawn_concurrency,
        idle_shrink_after=3600,
        start_method=start_method,
    )
    tally = _Tally()
    loop = asyncio.get_running_loop()
    pool = SipPool(cfg, on_event=lambda e: on_event(e))
    t_spawn = loop.time()
    await pool.start()
    spawn_s = loop.time() - t_spawn
    plan = pool.status()
    idle = await _idle_overhead(pool)
    cpu0 = {pid: _cpu_seconds(pid) for pid in _outdial_pids(other_pids)}
    other0 = {pid: _cpu_seconds(pid) for pid in other_pids}
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
        elif isinstance(event, StreamStats):
            tally.streams.append(event)
        elif isinstance(event, ev.CallEnded):
            tally.finals[event.call_id] += 1
            tally.outcomes[event.outcome.value] += 1
            if event.call_id in tally.answered:
                tally.live -= 1
            if sum(tally.finals.values()) + sum(tally.originate_errors.values()) >= calls:
                done.set()

    hangups: set[asyncio.Task[None]] = set()

    async def _originate(call_id: str) -> None:
        t = loop.time()
        try:
            rec = os.path.join(record_dir, f"{call_id}.wav") if record_dir else None
            await pool.originate(
                Originate(call_id, target, "15550000", ring_timeout=15.0, amd=amd, record_path=rec)
            )
            tally.originate_ms.append((loop.time() - t) * 1000)
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

    memory = _Peak(cpu0, other0)
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
    memory.take(pool)
    wall = loop.time() - t0
    cpu_main = _cpu_seconds(os.getpid()) - cpu0[os.getpid()]
    cpu = sum(memory.cpu_now.values()) - sum(cpu0.get(p, 0.0) for p in memory.cpu_now)
    other_cpu = sum(memory.other_now.values()) - sum(other0.values())
    n_workers = len(pool.worker_pids())
    await pool.close()
    missing = calls - len(tally.finals) - sum(tally.originate_errors.values())
    answers = sorted(tally.answered.values())
    answer_span = answers[-1] - answers[0] if len(answers) > 1 else 0.0
    return {
        "target": target,
        "start_method": start_method,
        "calls": calls,
        "cps_requested": cps,
        "hold_s": hold,
        "amd": amd,
        "cps_achieved": round(calls / placed_s, 2) if placed_s > 0 else None,
        "answers_per_second": round((len(answers) - 1) / answer_span, 2) if answer_span else None,
        "peak_concurrent_calls": tally.peak,
        "answered": len(tally.answered),
        "outcomes": dict(tally.outcomes),
        "originate_errors": dict(tally.originate_errors),
        "calls_without_final_event": missing,
        "calls_with_duplicate_final_event": sum(1 for n in tally.finals.values() if n > 1),
        "prestart": prestart,
        "warm_workers": warm_workers,
        "workers_at_start": idle["workers"],
        "workers": n_workers,
        "peak_workers": memory.peak_workers,
        "worker_start_s": round(spawn_s, 2),
        "idle_worker_cpu_percent": idle["cpu_percent_per_worker"],
        "idle_worker_pss_mb": idle["pss_mb_per_worker"],
        "idle_worker_rss_mb": idle["rss_mb_per_worker"],
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1) if wall else None,
        "cpu_percent_main_process": round(100 * cpu_main / wall, 1) if wall else None,
        "cpu_percent_peak_1s": memory.peak_cpu_percent,
        "cpu_seconds": round(cpu, 2),
        "other_cpu_percent": round(100 * other_cpu / wall, 1) if wall and other_pids else None,
        "wall_s": round(wall, 2),
        "peak_pss_mb": round(memory.peak / 2**20, 1),
        "peak_rss_sum_mb": round(memory.peak_rss / 2**20, 1),
        "originate_call_ms": percentiles(tally.originate_ms),
        "invite_to_answer_ms": percentiles(tally.answer_ms),
        "originate_to_answered_event_ms": percentiles(tally.setup_ms),
        "rtp_customer_legs": rtp_summary(tally.streams, "customer"),
        "rtp_agent_legs": rtp_summary(tally.streams, "agent"),
        "amd_verdicts": dict(tally.amd),
        "agent": agent,
        "recording": bool(record_dir),
        "calls_per_worker": plan["calls_per_worker"],
        "module_max_calls": plan["module_max_calls"],
        "pool_note": plan["note"],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "bridged": len(tally.bridge_ms),
        "answer_to_bridge_ms": percentiles(tally.bridge_ms),
        "agent_failures": dict(tally.agent_failures),
    }


async def _idle_overhead(pool: SipPool, seconds: float = 2.0) -> dict[str, Any]:
    """CPU and memory of the started, idle workers (per-worker overhead)."""
    await asyncio.sleep(1.5)  # let the bridge clocks park (sip/stats.py)
    pids = list(pool.worker_pids().values())
    before = {p: _cpu_seconds(p) for p in pids}
    await asyncio.sleep(seconds)
    cpu = sum(_cpu_seconds(p) - before[p] for p in pids)
    n = max(1, len(pids))
    return {
        "workers": len(pids),
        "cpu_percent_per_worker": round(100 * cpu / seconds / n, 3),
        "pss_mb_per_worker": round(sum(_pss_bytes(p) for p in pids) / n / 2**20, 1),
        "rss_mb_per_worker": round(sum(_rss_bytes(p) for p in pids) / n / 2**20, 1),
    }


class _Peak:
    """Samples memory (PSS and RSS sums), CPU and worker count of outdial every second.

    CPU times are kept per pid as last seen, so workers that exit still count.
    """

    def __init__(self, cpu0: dict[int, float], other0: dict[int, float]) -> None:
        self.peak = 0
        self.peak_rss = 0
        self.peak_workers = 0
        self.peak_cpu_percent = 0.0
        self.cpu_now = dict(cpu0)
        self.other_now = dict(other0)
        self._last: tuple[float, float] | None = None

    def take(self, pool: SipPool) -> None:
        pids = _outdial_pids(self.other_now)
        self.peak_workers = max(self.peak_workers, len(pool.worker_pids()))
        self.peak = max(self.peak, sum(_pss_bytes(p) for p in pids))
        self.peak_rss = max(self.peak_rss, sum(_rss_bytes(p) for p in pids))
        for p in pids:
            self.cpu_now[p] = max(self.cpu_now.get(p, 0.0), _cpu_seconds(p))
        for p in self.other_now:
            self.other_now[p] = max(self.other_now[p], _cpu_seconds(p))
        now, total = time.monotonic(), sum(self.cpu_now.values())
        if self._last is not None and now > self._last[0]:
            pct = 100 * (total - self._last[1]) / (now - self._last[0])
            self.peak_cpu_percent = round(max(self.peak_cpu_percent, pct), 1)
        self._last = (now, total)

    async def sample(self, pool: SipPool) -> None:
        while True:
            self.take(pool)
            await asyncio.sleep(1.0)


def format_summary(f: dict[str, Any]) -> str:
    """The figures that answer issue 5's goal, one per line."""

    def pct(d: object) -> str:
        return " ".join(f"{k}={v}" for k, v in d.items()) if isinstance(d, dict) and d else "-"

    lines = [
        f"calls {f['calls']} at {f['cps_requested']}/s, hold {f['hold_s']} s, "
        f"agent={'yes' if f.get('agent') else 'no'}, start={f['start_method']}, "
        f"prestart={f['prestart']}, warm={f['warm_workers']}",
        f"achieved originate CPS {f['cps_achieved']}, answers/s {f['answers_per_second']}",
        f"peak concurrent customer calls {f['peak_concurrent_calls']}, bridged {f['bridged']}, "
        f"{f['calls_per_worker']} calls per worker (module: {f['module_max_calls']} calls)"
        + (f" [{f['pool_note']}]" if f["pool_note"] else ""),
        f"load average at end {f['load_average_at_end']} (a shared machine: CPU is noisy)",
        f"answered {f['answered']}, outcomes {f['outcomes']}, "
        f"originate errors {f['originate_errors']}, agent failures {f['agent_failures']}",
        f"final events: missing {f['calls_without_final_event']}, "
        f"duplicated {f['calls_with_duplicate_final_event']}",
        f"workers: {f['workers_at_start']} at start ({f['worker_start_s']} s), "
        f"peak {f['peak_workers']}",
        f"per idle worker: CPU {f['idle_worker_cpu_percent']} %, "
        f"PSS {f['idle_worker_pss_mb']} MB, RSS {f['idle_worker_rss_mb']} MB",
        f"outdial CPU {f['cpu_percent_of_one_core']} % of one core over {f['wall_s']} s "
        f"(main {f['cpu_percent_main_process']} %, peak 1 s {f['cpu_percent_peak_1s']} %); "
        f"peers {f['other_cpu_percent']} %",
        f"outdial memory peak PSS {f['peak_pss_mb']} MB (RSS sum {f['peak_rss_sum_mb']} MB)",
        f"originate() ms {pct(f['originate_call_ms'])}",
        f"INVITE->answer ms {pct(f['invite_to_answer_ms'])}",
        f"answer->bridge ms {pct(f['answer_to_bridge_ms'])}",
    ]
    for kind in ("customer", "agent"):
        r = f[f"rtp_{kind}_legs"]
        if isinstance(r, dict) and r.get("legs"):
            lines.append(
                f"RTP {kind} legs {r['legs']}: rx {r['rx_packets']} pkts, lost {r['rx_lost']} "
                f"({r['loss_percent']} %, {r['legs_with_loss']} legs), "
                f"jb lost {r['jitter_buffer_lost_frames']}, "
                f"tx {r['tx_packets_per_leg_second']} pkt/s per leg, "
                f"max jitter {r['rx_jitter_max_ms']} ms"
            )
    return "\n".join(lines)
