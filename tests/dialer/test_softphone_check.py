"""The test call at sign-in, decided from SIP events on a hand-advanced clock (pure)."""

from __future__ import annotations

from dialer import actions as act
from dialer.softphone_check import ANSWER_WITHIN, PREFIX, SoftphoneChecks
from sip import events as ev

URI = "sip:li@127.0.0.1:5070"


def told(actions: list[act.Action]) -> list[str]:
    return [a.result for a in actions if isinstance(a, act.SoftphoneTested)]


def hung_up(actions: list[act.Action]) -> list[str]:
    return [a.call_id for a in actions if isinstance(a, act.Hangup)]


def ring(tests: SoftphoneChecks, now: float = 0.0) -> str:
    out = tests.start("7", URI, now)
    (call,) = [a for a in out if isinstance(a, act.TestSoftphone)]
    assert (call.agent_id, call.agent_uri) == ("7", URI) and tests.owns(call.call_id)
    assert told(out) == ["ringing"]
    return call.call_id


def test_an_answer_is_said_and_the_call_ends_at_once() -> None:
    tests = SoftphoneChecks()
    call = ring(tests)
    out = tests.on_event(ev.CallAnswered(call, 0.3, False), 0.3)
    assert told(out) == ["answered"] and hung_up(out) == [call]
    # our BYE's CallEnded changes nothing; no deadline is left
    assert tests.on_event(ev.CallEnded(call, ev.Outcome.ANSWERED, 200, "OK", ev.HungUpBy.US,
                                       0.1), 0.4) == []  # fmt: skip
    assert tests.latest["7"].result == "answered" and tests.next_deadline() is None
    assert tests.expire(100.0) == []


def test_a_refusal_is_no_answer_with_its_status() -> None:
    tests = SoftphoneChecks()
    call = ring(tests)
    end = ev.CallEnded(call, ev.Outcome.BUSY, 486, "Busy Here", ev.HungUpBy.NONE, 0.0)
    assert told(tests.on_event(end, 0.2)) == ["no_answer"]
    assert tests.latest["7"].as_dict() == {
        "call_id": call, "result": "no_answer", "sip_status": 486, "reason": "Busy Here"
    }  # fmt: skip


def test_a_phone_that_only_rings_is_cancelled_at_the_deadline() -> None:
    tests = SoftphoneChecks()
    call = ring(tests, now=10.0)
    assert tests.next_deadline() == 10.0 + ANSWER_WITHIN
    assert tests.expire(10.0 + ANSWER_WITHIN - 0.01) == []
    out = tests.expire(10.0 + ANSWER_WITHIN)
    assert told(out) == ["no_answer"] and hung_up(out) == [call]
    cancelled = ev.CallEnded(call, ev.Outcome.CANCELLED, 487, "", ev.HungUpBy.NONE, 0.0)
    assert tests.on_event(cancelled, 17.0) == []  # already said
    late = tests.on_event(ev.CallAnswered(call, 6.1, False), 16.2)  # raced our CANCEL
    assert told(late) == [] and hung_up(late) == [call]


def test_a_call_never_placed_is_no_answer_and_a_retry_replaces_the_last() -> None:
    tests = SoftphoneChecks()
    first = ring(tests)
    failed = ev.CommandFailed(first, "Originate", "pool_full", "no worker")
    assert told(tests.on_event(failed, 0.1)) == ["no_answer"]
    second = ring(tests, now=1.0)
    third_out = tests.start("7", URI, 1.5)  # asked again while ringing: the ringing one ends
    assert hung_up(third_out) == [second]
    assert second != first and all(c.startswith(PREFIX) for c in (first, second))
    assert not tests.owns("a-customer-call")
    tests.forget("7")
    assert "7" not in tests.latest
