"""Commands validate themselves; events and commands are frozen and picklable."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sip import events as ev
from sip.commands import MIN_RING_TIMEOUT, ConnectAgent, Originate, is_e164
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.errors import InvalidTarget, RingTimeoutTooShort, SipConfigError
from sip.legs import Leg, classify_end


@given(st.floats(min_value=0, max_value=14.999))
def test_ring_timeout_below_15s_is_refused(ring: float) -> None:
    with pytest.raises(RingTimeoutTooShort) as err:
        Originate("a", "+15551234567", "15550000", ring_timeout=ring)
    assert err.value.fields["minimum"] == MIN_RING_TIMEOUT


@given(st.floats(min_value=15, max_value=600))
def test_ring_timeout_of_15s_or_more_is_accepted(ring: float) -> None:
    assert Originate("a", "+15551234567", "15550000", ring_timeout=ring).ring_timeout == ring


def test_test_override_still_has_a_floor() -> None:
    ok = Originate("a", "sip:x@h", "1", ring_timeout=1.0, allow_short_ring_timeout_for_tests=True)
    assert ok.ring_timeout == 1.0
    with pytest.raises(RingTimeoutTooShort):
        Originate("a", "sip:x@h", "1", ring_timeout=0.1, allow_short_ring_timeout_for_tests=True)


@pytest.mark.parametrize("target", ["5551234", "+0123", "tel:+1555", "sip:", "http://x", ""])
def test_bad_targets(target: str) -> None:
    with pytest.raises(InvalidTarget):
        Originate("a", target, "1")


def test_targets_and_headers() -> None:
    assert is_e164("+442071234567") and not is_e164("442071234567")
    Originate("a", "sips:bob@example.com;transport=tls", "1", headers=(("X-Attempt", "42"),))
    with pytest.raises(InvalidTarget):
        Originate("a", "sip:b@h", "1", headers=(("X-Bad", "a\r\nVia: evil"),))
    with pytest.raises(InvalidTarget):
        ConnectAgent("a", "agent7")


def test_messages_are_frozen_and_pickle() -> None:
    end = ev.CallEnded("a", ev.Outcome.BUSY, 486, "Busy Here", ev.HungUpBy.NONE, 0.0)
    assert pickle.loads(pickle.dumps(end)) == end
    with pytest.raises(dataclasses.FrozenInstanceError):
        end.sip_status = 200  # type: ignore[misc]
    cmd = Originate("a", "+15551234567", "1")
    assert pickle.loads(pickle.dumps(cmd)) == cmd


def test_config_bounds() -> None:
    with pytest.raises(SipConfigError):
        PoolConfig(customer_lines=0)
    with pytest.raises(SipConfigError):
        SipConfig(auto_answer=("ring-twice",))
    with pytest.raises(SipConfigError):
        SipConfig(codecs=("G729/8000",))
    with pytest.raises(SipConfigError):
        SipConfig(trunk=TrunkConfig("h", transport="sctp"))
    assert PoolConfig(customer_lines=3, agent_legs=0).customer_lines == 3
    # two answers on one worker must both find an agent leg
    with pytest.raises(SipConfigError, match="agent_legs >= customer_lines"):
        PoolConfig(customer_lines=2, agent_legs=1)
    default = PoolConfig()
    assert default.agent_legs is None  # derived: every line's agent leg reserved (test_limits)
    assert default.customer_lines == 32
    assert SipConfig(rtp_port_start=20000).for_worker(2).rtp_port_start == 20080


def _leg(**kw: object) -> Leg:
    leg = Leg("a", "a", "customer", "sip:x@h", 0.0, 30.0)
    for k, v in kw.items():
        setattr(leg, k, v)
    return leg


@pytest.mark.parametrize(
    ("kw", "status", "expected"),
    [
        ({}, 486, (ev.Outcome.BUSY, ev.HungUpBy.NONE)),
        ({}, 600, (ev.Outcome.BUSY, ev.HungUpBy.NONE)),
        ({}, 404, (ev.Outcome.FAILED, ev.HungUpBy.NONE)),
        ({}, 480, (ev.Outcome.FAILED, ev.HungUpBy.NONE)),
        ({"provisional": True}, 408, (ev.Outcome.NO_ANSWER, ev.HungUpBy.NONE)),
        ({}, 408, (ev.Outcome.FAILED, ev.HungUpBy.NONE)),
        ({"timed_out": True, "provisional": True}, 487, (ev.Outcome.NO_ANSWER, ev.HungUpBy.NONE)),
        ({"cancel_requested": True}, 487, (ev.Outcome.CANCELLED, ev.HungUpBy.NONE)),
        ({"answered_at": 1.0}, 200, (ev.Outcome.ANSWERED, ev.HungUpBy.REMOTE)),
        ({"answered_at": 1.0, "hangup_by_us": True}, 200, (ev.Outcome.ANSWERED, ev.HungUpBy.US)),
        ({"answered_at": 1.0}, 415, (ev.Outcome.FAILED, ev.HungUpBy.US)),
    ],
)
def test_classify_end(
    kw: dict[str, object], status: int, expected: tuple[ev.Outcome, ev.HungUpBy]
) -> None:
    assert classify_end(_leg(**kw), status) == expected
