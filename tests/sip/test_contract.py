"""One contract suite, run over the fake SIP port and the real pool (against SIPp).

The engine's fast tests use ``FakeSipPort``; this suite is what keeps the fake
honest: every promise checked here holds for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.errors import PortClosed, RingTimeoutTooShort, UnknownCall
from sip.fake import FakeSipPort
from sip.pool import SipPool

_SCENARIOS = {
    "answer": "uas_answer.xml",
    "busy": "uas_486.xml",
    "failure": "uas_503.xml",
    "ring": "uas_ring.xml",
    "bye": "uas_bye.xml",
    "agent": "agent_answer.xml",
}


@dataclass
class Harness:
    port: FakeSipPort | SipPool
    peer: Callable[[str], str]  # scripted behaviour name -> target URI


@pytest.fixture(params=["fake", pytest.param("pool", marks=pytest.mark.sip)])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "fake":
        async with FakeSipPort() as fake:
            yield Harness(fake, lambda kind: f"sip:{kind}@fake.invalid")
        return
    sipp = request.getfixturevalue("sipp")
    async with SipPool(PoolConfig(SipConfig(rtp_port_start=26000), max_workers=2)) as pool:
        yield Harness(pool, lambda kind: sipp(_SCENARIOS[kind]).uri(kind))


def call(call_id: str, target: str, ring: float = 5.0) -> Originate:
    return Originate(
        call_id, target, "15550001", ring_timeout=ring, allow_short_ring_timeout_for_tests=True
    )


async def events_until_end(
    port: FakeSipPort | SipPool, call_id: str, hangup_on_answer: bool = False
) -> list[ev.SipEvent]:
    seen: list[ev.SipEvent] = []
    async with asyncio.timeout(20):
        while True:
            event = await port.events.get()
            if getattr(event, "call_id", None) != call_id:
                continue
            seen.append(event)
            if isinstance(event, ev.CallAnswered) and hangup_on_answer:
                await port.hangup(call_id)
            if isinstance(event, ev.CallEnded):
                break
    await asyncio.sleep(0.3)  # nothing more may follow for this call...
    while not port.events.empty():
        event = port.events.get_nowait()
        if getattr(event, "call_id", None) == call_id:
            seen.append(event)
    return seen


def finals(seen: list[ev.SipEvent]) -> list[ev.CallEnded]:
    return [e for e in seen if isinstance(e, ev.CallEnded)]


async def test_answer_then_we_hang_up(harness: Harness) -> None:
    await harness.port.originate(call("c1", harness.peer("answer")))
    seen = await events_until_end(harness.port, "c1", hangup_on_answer=True)
    kinds = [type(e) for e in seen]
    assert kinds.index(ev.CallAnswered) < kinds.index(ev.CallEnded)
    [end] = finals(seen)  # ...so exactly one final event
    assert (end.outcome, end.who_hung_up) == (ev.Outcome.ANSWERED, ev.HungUpBy.US)
    assert harness.port.active_calls() == 0


@pytest.mark.parametrize(
    ("kind", "outcome", "status"),
    [("busy", ev.Outcome.BUSY, 486), ("failure", ev.Outcome.FAILED, 503)],
)
async def test_rejections(harness: Harness, kind: str, outcome: ev.Outcome, status: int) -> None:
    await harness.port.originate(call("c2", harness.peer(kind)))
    [end] = finals(await events_until_end(harness.port, "c2"))
    assert (end.outcome, end.sip_status, end.duration) == (outcome, status, 0.0)


async def test_ring_timeout_is_no_answer(harness: Harness) -> None:
    await harness.port.originate(call("c3", harness.peer("ring"), ring=1.0))
    seen = await events_until_end(harness.port, "c3")
    assert any(isinstance(e, ev.CallProgress) for e in seen)
    [end] = finals(seen)
    assert end.outcome is ev.Outcome.NO_ANSWER


async def test_remote_hangup(harness: Harness) -> None:
    await harness.port.originate(call("c4", harness.peer("bye")))
    [end] = finals(await events_until_end(harness.port, "c4"))
    assert (end.outcome, end.who_hung_up) == (ev.Outcome.ANSWERED, ev.HungUpBy.REMOTE)
    assert end.duration > 0


async def test_drop_agent_then_the_customer_hangs_on(harness: Harness) -> None:
    """Transfer to the IVR: the agent leg ends (bridged), the customer's call does not."""
    port = harness.port
    await port.originate(call("c8", harness.peer("answer")))
    seen: list[ev.SipEvent] = []
    async with asyncio.timeout(15):
        while not any(isinstance(e, ev.AgentLegEnded) for e in seen):
            event = await port.events.get()
            if getattr(event, "call_id", None) != "c8":
                continue
            seen.append(event)
            if isinstance(event, ev.CallAnswered):
                await port.connect_agent("c8", harness.peer("agent"))
            elif isinstance(event, ev.AgentLegBridged):
                await port.drop_agent("c8")
    [leg_end] = [e for e in seen if isinstance(e, ev.AgentLegEnded)]
    assert leg_end.bridged
    assert not finals(seen) and port.active_calls() == 1
    await port.hangup("c8")
    [end] = finals(await events_until_end(port, "c8"))
    assert (end.outcome, end.who_hung_up) == (ev.Outcome.ANSWERED, ev.HungUpBy.US)


async def test_typed_errors(harness: Harness) -> None:
    with pytest.raises(UnknownCall):
        await harness.port.hangup("nope")
    with pytest.raises(UnknownCall):
        await harness.port.connect_agent("nope", "sip:agent@127.0.0.1")
    with pytest.raises(RingTimeoutTooShort):  # rules 5/22: no override, no short ring
        Originate("c5", "+15551234567", "1555", ring_timeout=14.9)
    await harness.port.originate(call("c6", harness.peer("ring"), ring=1.0))
    with pytest.raises(UnknownCall):
        await harness.port.originate(call("c6", "sip:x@127.0.0.1"))
    await events_until_end(harness.port, "c6")


async def test_closed_port_refuses_commands(harness: Harness) -> None:
    await harness.port.close()
    with pytest.raises(PortClosed):
        await harness.port.originate(call("c7", "sip:x@127.0.0.1"))
