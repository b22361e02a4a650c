"""Live monitoring against SIPp (issue 19.1): customer, agent softphone and supervisor
softphone are three SIPp UAS, each leg's RTP a distinct tone from the test's own endpoint
(tests/support/rtppeer.py). What each leg receives is measured with the Goertzel recursion:

* listen: the supervisor hears customer and agent; neither hears the supervisor;
* whisper: the agent hears the supervisor, the customer does not;
* barge: both do; leaving: the customer and agent still hear each other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from rtppeer import RtpPeer

from sip import events as ev
from sip.commands import MonitorMode, Originate
from sip.config import PoolConfig, SipConfig
from sip.errors import InvalidTarget, NoMonitorSlot
from sip.pool import SipPool

pytestmark = pytest.mark.sip

CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ = 440.0, 1000.0, 1700.0
#: shares of a window's energy: a lone tone is ~1.0, two ~0.5 each, an absent one 0.0000
#: here; HEARD is low so a loaded machine's late RTP (a jitter buffer resetting) still passes
HEARD, SILENT = 0.02, 0.002


@pytest.fixture
async def pool():
    async with SipPool(PoolConfig(SipConfig(rtp_port_start=27400), max_workers=1)) as p:
        yield p


@pytest.fixture
def peers() -> Iterator[dict[str, RtpPeer]]:
    made = {
        "customer": RtpPeer(CUSTOMER_HZ),
        "agent": RtpPeer(AGENT_HZ),
        "supervisor": RtpPeer(SUPERVISOR_HZ),
    }
    yield made
    for peer in made.values():
        peer.close()


async def wait_for(pool: SipPool, kind: type, timeout: float = 10.0) -> object:
    async with asyncio.timeout(timeout):
        while True:
            event = await pool.events.get()
            if isinstance(event, kind):
                return event
            assert not isinstance(event, ev.CommandFailed | ev.CallEnded), event


async def window(seconds: float = 1.5, settle: float = 0.6) -> tuple[float, float]:
    """A measuring window after the bridge has settled (jitter buffers refill)."""
    await asyncio.sleep(settle)
    since = time.monotonic()
    await asyncio.sleep(seconds)
    return since, time.monotonic()


def shares(peers: dict[str, RtpPeer], since: float, until: float) -> dict[str, dict[str, float]]:
    hz = {"customer": CUSTOMER_HZ, "agent": AGENT_HZ, "supervisor": SUPERVISOR_HZ}
    return {
        who: {src: round(peer.heard(f, since, until), 4) for src, f in hz.items()}
        for who, peer in peers.items()
    }


async def answered(pool: SipPool, sipp, peers: dict[str, RtpPeer], call_id: str) -> dict:
    """Three SIPp legs, one per peer; the customer's call placed and answered."""
    legs = {
        who: sipp("uas_rtp_sink.xml", keys={"rtp_port": str(p.port)}) for who, p in peers.items()
    }
    target = legs["customer"].uri("cust")
    await pool.originate(
        Originate(
            call_id, target, "15550001", ring_timeout=5.0, allow_short_ring_timeout_for_tests=True
        )
    )
    await wait_for(pool, ev.CallAnswered)
    return legs


async def test_listen_whisper_barge_isolation(pool: SipPool, sipp, peers) -> None:
    legs = await answered(pool, sipp, peers, "m1")
    # nobody to supervise before the agent talks: refused inside the worker
    await pool.start_monitor("m1", legs["supervisor"].uri("sup"))
    failed = await pool.events.get()
    assert isinstance(failed, ev.CommandFailed) and failed.error_code == "not_connected"
    await pool.connect_agent("m1", legs["agent"].uri("agent"))
    await wait_for(pool, ev.AgentLegBridged)

    await pool.start_monitor("m1", legs["supervisor"].uri("sup"), MonitorMode.LISTEN)
    joined = await wait_for(pool, ev.MonitorJoined)
    assert joined == ev.MonitorJoined("m1", legs["supervisor"].uri("sup"), "listen")
    with pytest.raises(NoMonitorSlot):  # one supervisor per call
        await pool.start_monitor("m1", legs["supervisor"].uri("other"))
    heard = shares(peers, *await window())
    assert heard["supervisor"]["customer"] > HEARD, heard
    assert heard["supervisor"]["agent"] > HEARD, heard
    assert heard["agent"]["customer"] > HEARD and heard["customer"]["agent"] > HEARD, heard
    assert heard["agent"]["supervisor"] < SILENT, heard
    assert heard["customer"]["supervisor"] < SILENT, heard

    await pool.set_monitor_mode("m1", MonitorMode.WHISPER)
    assert await wait_for(pool, ev.MonitorModeSet) == ev.MonitorModeSet("m1", "whisper")
    heard = shares(peers, *await window())
    assert heard["agent"]["supervisor"] > HEARD, heard
    assert heard["customer"]["supervisor"] < SILENT, heard
    assert heard["supervisor"]["customer"] > HEARD and heard["customer"]["agent"] > HEARD, heard

    await pool.set_monitor_mode("m1", MonitorMode.BARGE)
    assert await wait_for(pool, ev.MonitorModeSet) == ev.MonitorModeSet("m1", "barge")
    heard = shares(peers, *await window())
    assert heard["agent"]["supervisor"] > HEARD, heard
    assert heard["customer"]["supervisor"] > HEARD, heard
    assert heard["agent"]["customer"] > HEARD and heard["customer"]["agent"] > HEARD, heard

    await pool.set_monitor_mode("m1", MonitorMode.LISTEN)  # and back: barge is undone
    await wait_for(pool, ev.MonitorModeSet)
    heard = shares(peers, *await window())
    assert heard["customer"]["supervisor"] < SILENT, heard
    assert heard["agent"]["supervisor"] < SILENT, heard

    await pool.stop_monitor("m1")  # leaving does not disturb the call
    ended = await wait_for(pool, ev.MonitorEnded)
    assert isinstance(ended, ev.MonitorEnded) and ended.joined
    heard = shares(peers, *await window())
    assert heard["agent"]["customer"] > HEARD and heard["customer"]["agent"] > HEARD, heard
    assert legs["supervisor"].wait(10).successful == 1

    await pool.hangup("m1")
    end: object = None
    async with asyncio.timeout(10):
        while not isinstance(end, ev.CallEnded):
            end = await pool.events.get()
    assert end.outcome is ev.Outcome.ANSWERED
    for who in ("customer", "agent"):
        result = legs[who].wait(10)
        assert (result.returncode, result.successful) == (0, 1), (who, result.stderr)


async def test_supervisor_leaves_with_the_call(pool: SipPool, sipp, peers) -> None:
    """We hang up the customer: the supervisor's leg ends too (MonitorEnded), every leg gets
    its BYE."""
    legs = await answered(pool, sipp, peers, "m2")
    await pool.connect_agent("m2", legs["agent"].uri("a"))
    await wait_for(pool, ev.AgentLegBridged)
    await pool.start_monitor("m2", legs["supervisor"].uri("s"), MonitorMode.BARGE)
    await wait_for(pool, ev.MonitorJoined)
    await pool.hangup("m2")
    seen: list[object] = []
    async with asyncio.timeout(10):
        while not any(isinstance(e, ev.MonitorEnded) for e in seen) or not any(
            isinstance(e, ev.CallEnded) for e in seen
        ):
            seen.append(await pool.events.get())
    for who, peer in legs.items():
        result = peer.wait(10)
        assert (result.returncode, result.successful) == (0, 1), (who, result.stderr)


def test_bad_supervisor_uri_is_refused() -> None:
    with pytest.raises(InvalidTarget):
        from sip.commands import StartMonitor

        StartMonitor("m3", "not a uri")
