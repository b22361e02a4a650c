"""What real agent phones showed (issue 12), against SIPp agents on loopback."""

from __future__ import annotations

import asyncio

import pytest

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.pool import SipPool

pytestmark = pytest.mark.sip


def originate(call_id: str, target: str) -> Originate:
    return Originate(
        call_id,
        target,
        "15550001",
        "Acme",
        ring_timeout=5.0,
        allow_short_ring_timeout_for_tests=True,
    )


async def collect(pool: SipPool, done, timeout: float = 20.0) -> list[ev.SipEvent]:
    seen: list[ev.SipEvent] = []
    async with asyncio.timeout(timeout):
        while not done(seen):
            seen.append(await pool.events.get())
    return seen


def of(seen: list[ev.SipEvent], kind: type) -> list:
    return [e for e in seen if isinstance(e, kind)]


@pytest.fixture
async def pool():
    cfg = PoolConfig(SipConfig(rtp_port_start=39000), min_workers=1, max_workers=2)
    async with SipPool(cfg) as p:
        yield p


async def test_agent_hanging_up_ends_the_customer_leg_at_once(pool: SipPool, sipp) -> None:
    """No engine here to send Hangup: the worker itself ends the bridged customer call."""
    customer, agent = sipp("uas_answer.xml"), sipp("uas_bye.xml")  # the agent BYEs after 1.5 s
    await pool.originate(originate("h1", customer.uri()))
    await collect(pool, lambda s: bool(of(s, ev.CallAnswered)))
    await pool.connect_agent("h1", agent.uri("agent1"))
    seen = await collect(pool, lambda s: bool(of(s, ev.CallEnded)))
    [leg_end] = of(seen, ev.AgentLegEnded)
    assert leg_end.bridged
    [end] = of(seen, ev.CallEnded)
    assert (end.outcome, end.who_hung_up) == (ev.Outcome.ANSWERED, ev.HungUpBy.US)
    assert seen.index(leg_end) < seen.index(end)
    for peer in (customer, agent):  # the customer got our BYE
        result = peer.wait()
        assert (result.returncode, result.successful) == (0, 1), result.stderr + result.errors


async def test_no_codec_locking_reoffer_to_the_agent(pool: SipPool, sipp) -> None:
    """The agent answers with PCMU and PCMA; it must see no re-INVITE or UPDATE after."""
    customer, agent = sipp("uas_answer.xml"), sipp("agent_two_codecs.xml")
    await pool.originate(originate("c1", customer.uri()))
    await collect(pool, lambda s: bool(of(s, ev.CallAnswered)))
    await pool.connect_agent("c1", agent.uri("agent2"))
    await collect(pool, lambda s: bool(of(s, ev.AgentLegBridged)))
    await asyncio.sleep(1.0)  # a locking re-offer goes out right after the answer
    await pool.hangup("c1")
    await collect(pool, lambda s: bool(of(s, ev.CallEnded)))
    result = agent.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr + result.errors
    assert customer.wait().returncode == 0
