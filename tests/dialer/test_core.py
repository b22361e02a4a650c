"""The engine core: the connect rule (rule 3), agent selection, modes; fake clock only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer import actions as act
from dialer.core import CoreConfig, DialerCore
from dialer.errors import DispositionOwed, IllegalTransition
from dialer.states import AgentState, CallState


def lead(i: int = 1) -> act.Lead:
    return act.Lead(contact_id=i, number=f"+861380000{i:04d}")


def of(kind: type, actions: list[act.Action]) -> list[act.Action]:
    return [a for a in actions if isinstance(a, kind)]


def core(**kw: object) -> DialerCore:
    c = DialerCore(CoreConfig(**kw))  # type: ignore[arg-type]
    c.agent_login("a1", "sip:a1@127.0.0.1", 0.0)
    c.agent_login("a2", "sip:a2@127.0.0.1", 1.0)
    return c


def test_no_agents_no_calls() -> None:
    c = DialerCore(CoreConfig(mode="predictive"))
    assert c.calls_wanted(10.0) == 0
    c.agent_login("a1", "sip:a1@x", 10.0)
    c.agent_pause("a1", "lunch", 11.0)
    assert c.calls_wanted(12.0) == 0


def test_progressive_places_one_line_per_ready_agent() -> None:
    c = core(mode="progressive")
    assert c.calls_wanted(5.0) == 2
    c.place("c1", lead(1), 5.0)
    assert c.calls_wanted(5.5) == 1
    assert c.calls_wanted(5.5, dialable=0) == 0


def test_answer_goes_to_the_longest_idle_agent_and_bridges() -> None:
    c = core()
    out = c.place("c1", lead(), 5.0)
    assert of(act.Originate, out) == [act.Originate("c1", lead())]
    c.on_progress("c1", False, 6.0)
    out = c.on_answered("c1", 9.0)
    (connect,) = of(act.ConnectAgent, out)
    assert connect.agent_id == "a1"  # ready since 0.0, before a2
    out = c.on_agent_bridged("c1", 9.4)
    (pushed,) = of(act.AgentConnected, out)
    assert pushed.agent_id == "a1" and abs(pushed.answer_to_bridge - 0.4) < 1e-9
    assert c.agents["a1"].machine.state is AgentState.TALK
    out = c.on_ended("c1", "answered", 100.0, 200, "bye")
    (done,) = of(act.CallFinished, out)
    assert done.state == "completed" and not done.abandoned and done.agent_id == "a1"
    assert c.agents["a1"].machine.state is AgentState.WRAP
    c.agent_disposition("a1", 110.0)
    assert c.agents["a1"].machine.state is AgentState.READY


def _in_wrap_up(c: DialerCore) -> None:
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    c.on_agent_bridged("c1", 9.4)
    c.on_ended("c1", "answered", 100.0, 200, "bye")
    assert c.agents["a1"].machine.state is AgentState.WRAP


def test_wrap_up_ends_with_the_disposition_not_a_pause_or_a_logout() -> None:
    """After-call work is finished first (Genesys, Amazon Connect): an agent in wrap-up who
    owes the last call's disposition cannot pause or log out; the error names the call."""
    c = core()
    _in_wrap_up(c)
    for attempt in (
        lambda: c.agent_pause("a1", "lunch", 101.0),
        lambda: c.agent_logout("a1", 102.0),
    ):
        with pytest.raises(DispositionOwed) as err:
            attempt()
        assert err.value.fields["call_id"] == "c1" and err.value.http_status == 409
        assert "c1" in str(err.value)
        assert c.agents["a1"].machine.state is AgentState.WRAP  # nothing moved
    c.agent_disposition("a1", 110.0, pause_reason="lunch")  # "pause after this call": allowed
    assert c.agents["a1"].machine.state is AgentState.PAUSED
    c.agent_logout("a1", 111.0)
    assert c.agents["a1"].machine.state is AgentState.LOGGED_OUT


def test_back_after_a_dropped_session_in_wrap_up_with_the_call_owed() -> None:
    c = core()
    out = c.agent_login("a3", "sip:a3@127.0.0.1", 50.0, owed_call="c9")
    assert c.agents["a3"].machine.state is AgentState.WRAP and c.agents["a3"].call_id == "c9"
    assert of(act.AgentState, out) == [act.AgentState("a3", "wrap", None)]
    c.place("c1", lead(), 51.0)
    (connect,) = of(act.ConnectAgent, c.on_answered("c1", 55.0))
    assert connect.agent_id != "a3"  # owes a disposition: offered no call
    with pytest.raises(DispositionOwed):
        c.agent_pause("a3", "break", 56.0)
    c.agent_disposition("a3", 60.0)
    assert c.agents["a3"].machine.state is AgentState.READY and c.agents["a3"].call_id is None


def test_rule3_abandon_after_the_connect_limit_with_the_message() -> None:
    c = core()
    c.agent_pause("a1", "break", 2.0)
    c.agent_pause("a2", "break", 2.0)
    c.place("c1", lead(), 5.0)
    assert not of(act.ConnectAgent, c.on_answered("c1", 10.0))
    assert c.next_deadline() == 12.0
    assert c.expire(11.99) == []
    out = c.expire(12.0)
    assert of(act.PlaySafeHarbor, out) == [act.PlaySafeHarbor("c1")]
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 20.0))
    assert done.abandoned and done.state == "abandoned"
    assert c.pacer.gauge == (1, 1)


def test_waiting_call_is_served_when_an_agent_frees_in_time() -> None:
    c = core()
    c.agent_pause("a1", "break", 2.0)
    c.agent_pause("a2", "break", 2.0)
    c.place("c1", lead(1), 5.0)
    c.on_answered("c1", 10.0)
    out = c.agent_ready("a2", 11.5)
    (connect,) = of(act.ConnectAgent, out)
    assert connect.agent_id == "a2"
    c.on_agent_bridged("c1", 11.7)
    assert c.expire(12.5) == []  # bridged: the timer no longer applies


def test_connect_limit_is_capped_at_two_seconds() -> None:
    import pytest

    with pytest.raises(ValueError, match="rule 3"):
        CoreConfig(connect_limit=2.5)


def test_customer_hanging_up_while_waiting_counts_as_abandoned() -> None:
    c = core()
    for a in ("a1", "a2"):
        c.agent_pause(a, "break", 2.0)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 11.0))
    assert done.abandoned


def test_softphone_failure_pauses_agent_and_tries_the_next() -> None:
    c = core()
    c.place("c1", lead(), 5.0)
    out = c.on_answered("c1", 9.0)
    assert of(act.ConnectAgent, out)[0].agent_id == "a1"
    out = c.on_agent_failed("c1", 9.3)
    assert of(act.ConnectAgent, out)[0].agent_id == "a2"
    assert c.agents["a1"].machine.state is AgentState.PAUSED
    assert c.agents["a1"].machine.pause_reason == "softphone_unreachable"


def test_connect_command_failure_frees_the_agent_and_tries_the_next() -> None:
    """No agent leg could be made (issue 11.4): not the agent's fault, so they stay ready,
    and the call goes to the next free agent within the connect limit."""
    c = core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    out = c.on_command_failed("c1", "ConnectAgent", 9.1, "sip_no_agent_slot")
    assert of(act.ConnectAgent, out)[0].agent_id == "a2"
    assert c.agents["a1"].machine.state is AgentState.READY
    assert c.calls["c1"].machine.state is CallState.BRIDGING


def test_connect_command_failure_with_nobody_else_abandons_at_the_limit() -> None:
    c = core()
    c.agent_pause("a2", "break", 2.0)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    c.on_command_failed("c1", "ConnectAgent", 9.1, "sip_no_agent_slot")
    assert c.calls["c1"].machine.state is CallState.WAITING_FOR_AGENT
    assert not c.expire(10.9)
    out = c.expire(11.0)  # rule 3: the message plays at the 2 s limit, counted abandoned
    assert of(act.PlaySafeHarbor, out)
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 12.0))
    assert done.abandoned


def test_rejected_preview_agent_leaves_the_call_to_the_connect_rule() -> None:
    c = core()
    c.place("c1", lead(), 5.0, preview_agent="a1")
    c.on_answered("c1", 9.0)
    out = c.on_agent_failed("c1", 9.4)  # a1's softphone rejected
    assert of(act.ConnectAgent, out)[0].agent_id == "a2"
    c.on_agent_failed("c1", 9.6)  # a2's too: nobody left, the limit applies
    assert of(act.PlaySafeHarbor, c.expire(11.0))


def test_deadline_drops_an_agent_leg_still_ringing() -> None:
    c = core()
    c.agent_pause("a2", "break", 2.0)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)  # offered to a1, whose phone rings on
    out = c.expire(11.0)
    assert of(act.DropAgentLeg, out) and of(act.PlaySafeHarbor, out)
    assert c.agents["a1"].machine.state is AgentState.READY
    assert c.on_agent_failed("c1", 11.5) == []  # the dropped leg's end changes nothing


def test_failed_originate_finishes_the_attempt_with_its_reason() -> None:
    c = core()
    c.place("c1", lead(), 5.0)
    (done,) = of(act.CallFinished, c.on_command_failed("c1", "Originate", 5.1, "pool full"))
    assert (done.state, done.reason) == ("failed", "not placed: pool full")
    assert "c1" not in c.calls
    assert c.on_command_failed("c1", "Originate", 5.2, "again") == []


def test_amd_machine_hangs_up_without_an_agent() -> None:
    c = core(amd=True)
    c.place("c1", lead(), 5.0)
    assert not of(act.ConnectAgent, c.on_answered("c1", 9.0))
    out = c.on_amd("c1", "machine", 11.0)
    assert of(act.Hangup, out) == [act.Hangup("c1", "machine")]
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 11.2))
    assert done.state == "completed" and not done.abandoned
    assert all(a.machine.state is AgentState.READY for a in c.agents.values())


def test_amd_human_then_agent() -> None:
    c = core(amd=True)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    assert of(act.ConnectAgent, c.on_amd("c1", "human", 10.0))[0].agent_id == "a1"


def test_agentless_hands_answers_to_the_ivr_and_never_abandons() -> None:
    c = DialerCore(CoreConfig(mode="agentless", max_lines=3, max_cps=2))
    assert c.calls_wanted(0.0) == 2  # the calls-per-second cap
    c.place("c1", lead(1), 0.0)
    c.place("c2", lead(2), 0.1)
    assert c.calls_wanted(0.5) == 0
    assert c.calls_wanted(1.0) == 1  # the lines cap
    out = c.on_answered("c1", 5.0)
    assert of(act.StartIvr, out) == [act.StartIvr("c1", lead(1))]
    assert c.expire(60.0) == []
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 70.0))
    assert done.state == "completed" and not done.abandoned


def test_agent_transfers_a_bridged_customer_to_the_ivr() -> None:
    c = core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    c.on_agent_bridged("c1", 9.4)
    with pytest.raises(IllegalTransition):  # only the agent on the call may transfer it
        c.transfer_to_ivr("a2", "c1", 20.0)
    out = c.transfer_to_ivr("a1", "c1", 20.0)
    kinds = [type(a) for a in out if not isinstance(a, act.Persist | act.AgentState)]
    assert kinds == [act.DropAgentLeg, act.StartIvr]  # the leg goes before the IVR starts
    (start,) = of(act.StartIvr, out)
    assert (start.call_id, start.lead, start.agent_id) == ("c1", lead(), "a1")
    assert c.calls["c1"].machine.state is CallState.IVR
    assert c.agents["a1"].machine.state is AgentState.WRAP  # wrap-up starts now
    assert c.on_agent_failed("c1", 20.1) == []  # the dropped leg's end changes nothing
    assert c.next_deadline() is None  # an IVR call is never abandoned
    c.agent_disposition("a1", 25.0)  # the agent may finish before the survey does
    assert c.agents["a1"].machine.state is AgentState.READY
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 90.0, 200, "bye"))
    assert (done.state, done.agent_id, done.abandoned) == ("completed", "a1", False)
    assert c.agents["a1"].machine.state is AgentState.READY  # not moved to wrap twice


def test_transfer_needs_a_bridged_call() -> None:
    c = core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)  # a1 reserved, the leg not answered yet
    with pytest.raises(IllegalTransition) as exc:
        c.transfer_to_ivr("a1", "c1", 9.1)
    assert exc.value.fields["state"] == "bridging"
    assert c.calls["c1"].machine.state is CallState.BRIDGING


def test_preview_reserves_the_agent_before_dialing() -> None:
    c = core(mode="preview")
    assert c.calls_wanted(3.0) == 0
    c.place("c1", lead(), 3.0, preview_agent="a2")
    assert c.agents["a2"].machine.state is AgentState.RESERVED
    out = c.on_answered("c1", 20.0)
    assert of(act.ConnectAgent, out)[0].agent_id == "a2"
    assert c.expire(30.0) == []  # an agent is guaranteed: never abandoned
    c.on_agent_bridged("c1", 31.0)
    assert c.calls["c1"].machine.state is CallState.BRIDGED


def test_unanswered_outcomes_release_nothing_and_finish_once() -> None:
    c = core()
    for i, outcome in enumerate(["busy", "no_answer", "failed", "worker_lost"]):
        c.place(f"c{i}", lead(i), 5.0)
        (done,) = of(act.CallFinished, c.on_ended(f"c{i}", outcome, 9.0, 486, "x"))
        assert done.state in {"busy", "no_answer", "failed"}
    assert c.calls == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4)), max_size=60))
def test_every_call_finishes_once_and_no_agent_is_double_booked(
    steps: list[tuple[int, int]],
) -> None:
    c = core(mode="predictive")
    finished: list[str] = []
    placed: list[str] = []
    now = 10.0
    for op, k in steps:
        now += 0.7
        live = sorted(c.calls)
        target = live[k % len(live)] if live else None
        if op == 0:
            cid = f"c{len(placed)}"
            placed.append(cid)
            c.place(cid, lead(len(placed)), now)
            continue
        if target is None:
            continue
        call = c.calls[target]
        if op == 1 and call.machine.state in (CallState.DIALING, CallState.RINGING):
            c.on_answered(target, now)
        elif op == 2 and call.machine.state is CallState.BRIDGING:
            c.on_agent_bridged(target, now)
        elif op == 3 and call.machine.state is CallState.BRIDGING:
            c.on_agent_failed(target, now)
        elif op in (4, 5):
            finished += [
                a.call_id for a in of(act.CallFinished, c.on_ended(target, "answered", now))
            ]
        elif op == 6:
            c.expire(now)
        elif op == 7:
            for a in list(c.agents.values()):
                if a.machine.state is AgentState.WRAP:
                    c.agent_disposition(a.agent_id, now)
                elif a.machine.state is AgentState.PAUSED:
                    c.agent_ready(a.agent_id, now)
        elif op == 8 and call.machine.state is CallState.BRIDGED and call.agent_id:
            c.transfer_to_ivr(call.agent_id, target, now)
            c.on_agent_failed(target, now)  # the dropped leg's end follows
        elif op == 9 and call.agent_id and call.machine.state is CallState.BRIDGED:
            c.on_agent_failed(target, now)  # the agent hung up: the customer's leg ends next
        booked = [a.call_id for a in c.agents.values() if a.call_id is not None]
        assert len(booked) == len(set(booked))
        for call in c.calls.values():  # a connected call and its agent point at each other
            if call.machine.state in (CallState.BRIDGING, CallState.BRIDGED):
                assert call.agent_id and c.agents[call.agent_id].call_id == call.call_id
    for cid in list(c.calls):
        finished += [a.call_id for a in of(act.CallFinished, c.on_ended(cid, "answered", now + 1))]
    assert sorted(finished) == sorted(placed)


# --- AMD and the two-second rule (rules 3, 20): the timer starts at the greeting ------------


def busy_core(**kw: object) -> DialerCore:
    """AMD on, both agents on calls: a person judged human must wait for an agent."""
    c = core(amd=True, **kw)
    for i, agent in ((8, "a1"), (9, "a2")):
        c.place(f"busy{i}", lead(i), 0.0)
        c.on_answered(f"busy{i}", 1.0)
        c.on_amd(f"busy{i}", "human", 2.0, (0.2, 0.6))
        c.on_agent_bridged(f"busy{i}", 2.1)
        assert c.agents[agent].machine.state is AgentState.TALK
    return c


def test_amd_pending_is_not_abandoned_two_seconds_after_the_answer() -> None:
    c = busy_core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    assert c.next_deadline() == pytest.approx(10.0 + 6.0 + 0.5)  # amd_deadline + grace
    assert c.expire(12.5) == []  # 2.5 s after the answer, the verdict is still coming
    assert c.calls["c1"].machine.state is CallState.ANSWERED
    # "Hello?" from 0.4 s to 0.9 s, then silence: judged human at 1.8 s after answer... and
    # the verdict reached us at 12.6 s; the 2 s run from the greeting's end (10.9 s).
    c.on_amd("c1", "human", 12.6, (0.4, 0.9))
    assert c.next_deadline() == pytest.approx(12.9)
    assert c.expire(12.89) == []
    out = c.expire(12.9)
    assert of(act.PlaySafeHarbor, out) == [act.PlaySafeHarbor("c1")]
    assert c.calls["c1"].machine.state is CallState.ABANDONED


def test_amd_human_reaches_an_agent_freed_after_two_seconds_from_answer() -> None:
    c = busy_core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    c.on_amd("c1", "human", 12.4, (0.3, 1.5))  # greeting ended at 11.5
    assert c.expire(13.0) == []  # 3 s after the answer: not abandoned
    c.on_ended("busy8", "answered", 13.1)  # a1 goes to wrap-up, then is ready again
    out = c.agent_disposition("a1", 13.2)
    assert of(act.ConnectAgent, out)[0].call_id == "c1"
    assert c.calls["c1"].agent_id == "a1"
    c.on_agent_bridged("c1", 13.3)
    assert c.expire(14.0) == []
    assert c.calls["c1"].machine.state is CallState.BRIDGED


def test_uk_timer_starts_when_the_person_starts_speaking() -> None:
    c = busy_core(connect_from="speech_start")
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    c.on_amd("c1", "human", 12.4, (0.3, 1.5))
    assert c.next_deadline() == pytest.approx(12.3)  # 10.3 + 2: already due
    assert of(act.PlaySafeHarbor, c.expire(12.4)) == [act.PlaySafeHarbor("c1")]


def test_greeting_times_are_bounded_by_the_answer_and_the_verdict() -> None:
    c = busy_core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    c.on_amd("c1", "human", 11.0, (0.2, 9.0))  # a clock that ran ahead: capped at the verdict
    assert c.next_deadline() == pytest.approx(13.0)
    c.place("c2", lead(2), 5.0)
    c.on_answered("c2", 20.0)
    c.on_amd("c2", "unknown", 23.0, None)  # nobody spoke: from the verdict
    assert c.calls["c2"].connect_from == pytest.approx(23.0)


def test_overdue_verdict_is_a_person_timed_from_the_deadline() -> None:
    c = busy_core(amd_deadline=2.0)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    assert c.expire(12.49) == []
    out = c.expire(12.5)
    assert not of(act.PlaySafeHarbor, out)
    assert c.calls["c1"].machine.state is CallState.WAITING_FOR_AGENT
    assert c.next_deadline() == pytest.approx(14.5)
    assert of(act.PlaySafeHarbor, c.expire(14.5)) == [act.PlaySafeHarbor("c1")]
    assert c.on_amd("c1", "machine", 14.6) == []  # too late to matter


def test_amd_machine_verdict_late_is_still_a_machine_not_an_abandon() -> None:
    c = busy_core()
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 10.0)
    assert c.expire(12.9) == []
    out = c.on_amd("c1", "machine", 12.95)
    assert of(act.Hangup, out) == [act.Hangup("c1", "machine")]
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 13.0))
    assert not done.abandoned


def test_amd_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="amd_deadline"):
        CoreConfig(amd=True, amd_deadline=0)
    with pytest.raises(ValueError, match="amd_deadline"):
        CoreConfig(amd=True, amd_deadline=11)
    with pytest.raises(ValueError, match="connect_from"):
        CoreConfig(connect_from="answer_plus_one")


def test_a_sampled_machine_verdict_goes_to_an_agent_as_a_person() -> None:
    c = core(amd=True, amd_sample_share=1.0)  # rule 19: every machine verdict sampled
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    assert c.amd_label("c1", "machine") == "machine_sampled"
    out = c.on_amd("c1", "machine", 11.0, (0.3, 2.0))
    assert not of(act.Hangup, out)
    assert of(act.ConnectAgent, out)[0].agent_id == "a1"
    c.on_agent_bridged("c1", 11.2)
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 30.0))
    assert done.state == "completed" and done.agent_id == "a1"


def test_sampling_follows_the_share_and_the_call_id() -> None:
    c = core(amd=True, amd_sample_share=0.02)
    labels = [c.amd_label(f"call-{i}", "machine") for i in range(2000)]
    assert 20 <= labels.count("machine_sampled") <= 60  # ~2 %
    assert labels == [c.amd_label(f"call-{i}", "machine") for i in range(2000)]  # replayable
    assert c.amd_label("call-1", "human") == "human"
    assert core(amd=True).amd_label("call-1", "machine") == "machine"  # share 0: never


def test_amd_announcement_after_answer_is_a_failed_call_not_an_answer() -> None:
    """Issue 20: a carrier's "not in service" after the 200 OK reaches no agent and the
    attempt carries the SIT code the retry rules read (dialer/hopper.py)."""
    c = core(amd=True)
    c.place("c1", lead(), 5.0)
    c.on_answered("c1", 9.0)
    out = c.on_amd("c1", "announcement", 10.4, None, "sit_vacant")
    assert of(act.Hangup, out) == [act.Hangup("c1", "announcement")]
    assert not of(act.ConnectAgent, out)
    (done,) = of(act.CallFinished, c.on_ended("c1", "answered", 10.6, 200, "Normal"))
    assert done.state == "failed" and not done.abandoned
    assert done.reason.startswith("sit_vacant")
    assert all(a.machine.state is AgentState.READY for a in c.agents.values())


def test_amd_announcement_on_early_media_ends_the_call_before_any_answer() -> None:
    c = core(amd=True)
    c.place("c1", lead(), 5.0)
    c.on_progress("c1", True, 5.5)
    out = c.on_amd("c1", "announcement", 6.8, None, "sit_intercept")
    assert of(act.Hangup, out) == [act.Hangup("c1", "announcement")]
    (done,) = of(act.CallFinished, c.on_ended("c1", "cancelled", 7.0, 487))
    assert (done.state, done.answered) == ("failed", False)
    assert done.reason.startswith("sit_intercept")


def test_a_person_verdict_before_the_answer_changes_nothing() -> None:
    c = core(amd=True)
    c.place("c1", lead(), 5.0)
    c.on_progress("c1", True, 5.5)
    assert c.on_amd("c1", "human", 6.0) == []
