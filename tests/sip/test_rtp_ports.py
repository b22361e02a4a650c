"""The media port range (sip/rtp_ports.py, ``OUTDIAL_RTP_PORTS``): parsed with clear errors,
split among workers without overlap, and kept to by real workers calling SIPp.

The SIPp tests read the worker processes' UDP sockets from /proc, so they check the ports
pjsua actually bound, not only what the pool meant to give it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from outdial import config
from outdial.errors import ConfigError
from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.errors import SipConfigError
from sip.pool import SipPool
from sip.rtp_ports import RtpPortRange, parse_rtp_ports

# --- the setting ------------------------------------------------------------------------------


def test_a_range_is_first_dash_last_both_included() -> None:
    assert parse_rtp_ports(" 30000-30999 ") == (30000, 30999)
    assert config.load({"OUTDIAL_RTP_PORTS": "40000-40999"}).rtp_ports == (40000, 40999)
    assert config.load({}).rtp_ports == (20000, 39999)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("30000", "must be FIRST-LAST"),
        ("thirty-forty", "must be FIRST-LAST"),
        ("30000-", "must be FIRST-LAST"),
        ("40000-30000", "first <= last"),
        ("80-2000", "within 1024-65535"),
        ("60000-70000", "within 1024-65535"),
        ("30000-30003", "has 4 ports; at least 8"),
    ],
)
def test_a_bad_range_is_refused_naming_the_setting(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load({"OUTDIAL_RTP_PORTS": text})
    assert "OUTDIAL_RTP_PORTS" in str(caught.value) and says in str(caught.value)
    assert caught.value.fields["field"] == "rtp_ports"


def test_a_toml_file_sets_the_range(tmp_path: Path) -> None:
    path = tmp_path / "outdial.toml"
    path.write_text('rtp_ports = "31000-31999"\n')
    assert config.load({"OUTDIAL_CONFIG": str(path)}).rtp_ports == (31000, 31999)


# --- splitting the range ----------------------------------------------------------------------


def test_workers_get_disjoint_blocks_and_a_freed_block_is_reused() -> None:
    ports = RtpPortRange(30000, 30399)
    a, b, c = ports.take(144), ports.take(144), ports.take(100)
    assert (a, b, c) == (30000, 30144, 30288)  # first fit, end to end, within the range
    with pytest.raises(SipConfigError, match="30000-30399 are used up: 3 worker"):
        ports.take(13)  # 388 taken, 12 left
    ports.give_back(b)
    assert ports.take(100) == 30144  # the lowest hole that fits
    assert ports.take(44) == 30244  # the rest of that hole, exactly
    assert ports.take(12) == 30388  # the end of the range, exactly
    ports.give_back(30144)
    ports.give_back(30144)  # twice: nothing more
    assert ports.in_use() == 4 and ports.blocks_of(144) == 2


def test_a_full_range_says_what_to_change() -> None:
    ports = RtpPortRange(30000, 30099)
    ports.take(60)
    with pytest.raises(SipConfigError) as caught:
        ports.take(60)
    assert "OUTDIAL_RTP_PORTS" in str(caught.value) and "sip_calls_per_worker" in str(caught.value)


def test_a_worker_block_outside_its_range_is_refused() -> None:
    sip = SipConfig(rtp_port_start=30000, rtp_port_end=30199, rtp_ports_per_worker=100)
    assert (sip.for_worker(1).rtp_port_start, sip.for_worker(1).rtp_port_end) == (30100, 30199)
    with pytest.raises(SipConfigError, match="outside the range 30000-30199"):
        sip.for_worker(2)


# --- real workers against SIPp ------------------------------------------------------------------


def udp_ports(pid: int) -> set[int]:
    """The local UDP ports process ``pid`` holds open (from /proc, IPv4)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    with open(f"/proc/{pid}/net/udp") as table:
        for line in list(table)[1:]:
            cols = line.split()
            if cols[9] in inodes:
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def originate(call_id: str, target: str) -> Originate:
    return Originate(call_id, target, "15550001", ring_timeout=15.0)


def pool_config(first: int, last: int, **kw: int) -> PoolConfig:
    sip = SipConfig(rtp_port_start=first, rtp_port_end=last)
    return PoolConfig(sip, customer_lines=1, warm_workers=0, **kw)  # type: ignore[arg-type]


async def answered(pool: SipPool, call_id: str) -> None:
    async with asyncio.timeout(20):
        while True:
            e = await pool.events.get()
            if isinstance(e, ev.CallEnded) and e.call_id == call_id:
                raise AssertionError(f"the call ended before its answer: {e}")
            if isinstance(e, ev.CallAnswered) and e.call_id == call_id:
                return


async def ended(pool: SipPool, call_id: str) -> ev.CallEnded:
    async with asyncio.timeout(20):
        while True:
            e = await pool.events.get()
            if isinstance(e, ev.CallEnded) and e.call_id == call_id:
                return e


@pytest.mark.sip
async def test_two_pools_with_their_own_ranges_call_inside_them(sipp) -> None:
    """Two outdial processes' pools on one machine: each call's RTP stays in its range."""
    ranges = {"a": (41000, 41079), "b": (41400, 41479)}
    pools = {k: SipPool(pool_config(*r, max_workers=2)) for k, r in ranges.items()}
    peers = {k: sipp("uas_answer.xml", timeout=40) for k in pools}
    try:
        for pool in pools.values():
            await pool.start()
        for k, pool in pools.items():
            await pool.originate(originate(f"call-{k}", peers[k].uri()))
        held: dict[str, set[int]] = {}
        for k, pool in pools.items():
            await answered(pool, f"call-{k}")
            held[k] = udp_ports(pool.worker_pid_of(f"call-{k}"))
        for k, (first, last) in ranges.items():
            inside = {p for p in held[k] if first <= p <= last}
            assert len(inside) >= 2, (k, held[k])  # the call's RTP and RTCP, in its range
            assert len(held[k] - inside) <= 1, (k, held[k])  # only its SIP port elsewhere
            other = ranges["b" if k == "a" else "a"]
            assert not {p for p in held[k] if other[0] <= p <= other[1]}
            assert pools[k].status()["rtp_ports"] == f"{first}-{last}"
        for k, pool in pools.items():
            await pool.hangup(f"call-{k}")
            assert (await ended(pool, f"call-{k}")).outcome is ev.Outcome.ANSWERED
        for peer in peers.values():
            result = peer.wait()
            assert (result.successful, result.failed) == (1, 0), result.stderr + result.errors
    finally:
        for pool in pools.values():
            await pool.close()


@pytest.mark.sip
async def test_pools_sharing_a_range_never_overlap_and_the_range_caps_the_workers() -> None:
    """The runtime's campaigns share one range: their workers get disjoint blocks; a range
    holding two workers' blocks stops the third with a clear error."""
    ports = RtpPortRange(42000, 42099)  # 40 ports per worker at 1 call: two fit
    first, second, third, fourth = (
        SipPool(pool_config(42000, 42099, min_workers=1, max_workers=4), rtp_ports=ports)
        for _ in range(4)
    )
    try:
        await first.start()
        await second.start()
        assert first.max_workers() == 2  # the range holds two blocks, not max_workers=4
        assert ports.in_use() == 2
        with pytest.raises(SipConfigError, match="42000-42099 are used up"):
            await third.start()
        await second.close()
        assert ports.in_use() == 1  # its block went back with its worker
        await fourth.start()  # and the next pool gets it
        assert ports.in_use() == 2 and fourth.status()["workers"] == 1
    finally:
        for pool in (first, second, third, fourth):
            await pool.close()
    assert ports.in_use() == 0


@pytest.mark.sip
async def test_a_range_too_small_for_one_worker_is_refused_at_start() -> None:
    pool = SipPool(pool_config(43000, 43031))  # 32 ports; a worker needs 40 at 1 call
    with pytest.raises(SipConfigError, match=r"\(32\) are too few: each SIP worker needs 40"):
        await pool.start()
