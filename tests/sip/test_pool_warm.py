"""The warm reserve of the real pool: idle, ready workers started ahead of demand.

Against real worker processes (and SIPp where a call must hold a worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.pool import SipPool

pytestmark = pytest.mark.sip
ROOT = Path(__file__).resolve().parents[2]


def _cfg(port: int, **kw: object) -> PoolConfig:
    base: dict[str, object] = {"customer_lines": 1, "agent_legs": 0}
    base.update(kw)
    return PoolConfig(SipConfig(rtp_port_start=port, rtp_ports_per_worker=16), **base)  # type: ignore[arg-type]


async def _until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def _threads(pid: int) -> list[str]:
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            names.append(Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip())
    return names


async def test_start_brings_up_min_workers_and_the_reserve() -> None:
    async with SipPool(_cfg(32000, min_workers=0, warm_workers=2, max_workers=4)) as pool:
        assert pool.worker_count() == 2 and pool.idle_ready_workers() == 2
    # min_workers already idle and ready count toward the reserve: no extra worker
    async with SipPool(_cfg(32200, min_workers=3, warm_workers=1, max_workers=4)) as pool:
        assert pool.worker_count() == 3 and pool.idle_ready_workers() == 3


async def test_calls_take_ready_workers_and_the_reserve_is_refilled(sipp) -> None:
    peers = [sipp("uas_hold.xml") for _ in range(2)]
    cfg = _cfg(32400, min_workers=0, warm_workers=2, max_workers=5, idle_shrink_after=0.3)
    async with SipPool(cfg) as pool:
        warm = set(pool.worker_pids().values())
        for i, peer in enumerate(peers):
            await pool.originate(Originate(f"w{i}", peer.uri(), "15550001", ring_timeout=15))
        # both calls went to workers that were already up, not to new ones
        assert {pool.worker_pid_of("w0"), pool.worker_pid_of("w1")} == warm
        await _until(lambda: pool.idle_ready_workers() == 2)
        assert pool.worker_count() == 4
        answered: set[str] = set()
        async with asyncio.timeout(10):
            while len(answered) < 2:
                e = await pool.events.get()
                if isinstance(e, ev.CallAnswered):
                    answered.add(e.call_id)
        for i in range(2):
            await pool.hangup(f"w{i}")
        # idle workers above the reserve are stopped; the reserve stays
        await _until(lambda: pool.worker_count() == 2, timeout=15)
        assert pool.idle_ready_workers() == 2
        await _until(lambda: len(pool.exit_codes) == 2)
        assert list(pool.exit_codes.values()) == [0, 0]  # shut down cleanly, not killed
    for peer in peers:
        result = peer.wait()
        assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_pool_exhausted_only_at_max_workers(sipp) -> None:
    from sip.errors import PoolExhausted

    peer = sipp("uas_hold.xml", calls=2)
    async with SipPool(_cfg(32600, min_workers=0, warm_workers=3, max_workers=2)) as pool:
        assert pool.worker_count() == 2  # the reserve is capped by max_workers
        for i in range(2):
            await pool.originate(Originate(f"x{i}", peer.uri(), "15550001", ring_timeout=15))
        with pytest.raises(PoolExhausted):
            await pool.originate(Originate("x2", peer.uri(), "15550001", ring_timeout=15))
        await asyncio.sleep(0.3)
        assert pool.worker_count() == 2  # no refill beyond max_workers
        for i in range(2):
            await pool.hangup(f"x{i}")


async def test_idle_worker_parks_its_bridge_clock() -> None:
    """An idle worker has no conference-bridge clock thread ticking (CPU per worker)."""
    async with SipPool(_cfg(32800, min_workers=1, warm_workers=0, max_workers=1)) as pool:
        [pid] = pool.worker_pids().values()
        await _until(lambda: "clock" not in _threads(pid), timeout=5)
        assert pool.worker_pids() == {1: pid}  # still the same, live worker


_MAIN = """
import multiprocessing as mp, os, sys, asyncio
if __name__ == "__mp_main__":  # imported again in a child process
    open(os.path.join(sys.argv[1], f"imported-{os.getpid()}"), "w").close()
from sip.config import PoolConfig, SipConfig
from sip.pool import SipPool

def noop():
    pass

async def pool(method):
    cfg = PoolConfig(SipConfig(rtp_port_start=int(sys.argv[2])), min_workers=1,
                     warm_workers=0, max_workers=1, start_method=method)
    async with SipPool(cfg):
        pass

if __name__ == "__main__":
    asyncio.run(pool("forkserver"))
    asyncio.run(pool("spawn"))
    print(len(os.listdir(sys.argv[1])))
    p = mp.get_context("spawn").Process(target=noop)  # control: this child does import it
    p.start(); p.join()
    print(len(os.listdir(sys.argv[1])))
"""


def test_workers_do_not_import_the_parent_main_module(tmp_path: Path) -> None:
    """Under ``outdial serve`` the main module is the CLI (all of outdial): not per worker."""
    script = tmp_path / "main_script.py"
    script.write_text(textwrap.dedent(_MAIN))
    marks = tmp_path / "marks"
    marks.mkdir()
    out = subprocess.run(
        [sys.executable, str(script), str(marks), "33000"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    counts = [line for line in out.stdout.splitlines() if line.isdigit()]  # (logs go there too)
    assert counts == ["0", "1"]


async def test_first_call_on_a_parked_worker_keeps_sending_rtp(sipp) -> None:
    """The parked bridge clock restarts for the call and is not closed under it; the
    RTP counters read before our hangup (SipConfig.stream_stats) show both directions."""
    from sip.stats import StreamStats

    peer = sipp("uas_hold.xml")
    cfg = PoolConfig(
        SipConfig(rtp_port_start=33200, rtp_ports_per_worker=16, stream_stats=True),
        min_workers=1,
        warm_workers=0,
        max_workers=1,
    )
    async with SipPool(cfg) as pool:
        await pool.originate(Originate("p1", peer.uri(), "15550001", ring_timeout=15))
        seen: list[object] = []
        async with asyncio.timeout(10):
            while not any(isinstance(e, ev.CallAnswered) for e in seen):
                seen.append(await pool.events.get())
        await asyncio.sleep(2.5)
        await pool.hangup("p1")
        async with asyncio.timeout(10):
            while not any(isinstance(e, ev.CallEnded) for e in seen):
                seen.append(await pool.events.get())
    [stats] = [e for e in seen if isinstance(e, StreamStats)]
    assert stats.call_id == "p1" and stats.kind == "customer"
    assert 2.3 < stats.seconds < 4
    assert stats.tx_packets >= 45 * stats.seconds  # 50/s while up: the clock kept running
    assert stats.rx_packets >= 100 and stats.rx_lost == 0
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr
