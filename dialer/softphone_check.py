"""The test call at sign-in (issue 14, desk item 1): does the agent's softphone answer? Pure.

When an agent signs in at the desk, the runner rings their softphone once, asking it to answer
by itself (the same auto-answer hints as an agent leg), and hangs up as soon as it answers.
The agent's page then says "softphone answered" or "your softphone did not answer". This
module decides, from the SIP events of that call and the clock the caller passes in, what
happened; it does no I/O. The call is not a customer's: it has no attempt row, no lead and
no compliance gate, and the dialing core never sees it.

Its call ids start with ``softphone-test-`` so the runner knows whose event it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialer import actions as act
from sip import events as sipev

PREFIX = "softphone-test-"
#: seconds the softphone has to answer before the page says it did not (an auto-answering
#: phone answers in well under a second; the INVITE's own ring timeout is longer: rule 5's
#: 15 s floor is the SIP layer's, and the core cancels the call at this deadline instead)
ANSWER_WITHIN = 6.0


class Result(StrEnum):
    RINGING = "ringing"  # the test call is out; no answer yet
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # refused, unreachable, or not answered in time


@dataclass(frozen=True)
class Outcome:
    """What the agent's page shows: the latest test of their softphone."""

    call_id: str
    result: Result
    sip_status: int = 0
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "result": self.result.value,
            "sip_status": self.sip_status,
            "reason": self.reason,
        }


@dataclass
class _Test:
    agent_id: str
    deadline: float
    answered: bool = False


class SoftphoneChecks:
    """The test calls in flight and each agent's latest outcome."""

    def __init__(self, answer_within: float = ANSWER_WITHIN) -> None:
        self.answer_within = answer_within
        self.latest: dict[str, Outcome] = {}  # agent id -> their latest test
        self._live: dict[str, _Test] = {}  # call id -> test
        self._serial = 0

    def owns(self, call_id: str) -> bool:
        return call_id.startswith(PREFIX)

    def start(self, agent_id: str, uri: str, now: float) -> list[act.Action]:
        """Ring ``uri`` for ``agent_id``; an earlier test of theirs still ringing is cancelled."""
        out: list[act.Action] = []
        for call_id, test in list(self._live.items()):
            if test.agent_id == agent_id:
                out.append(act.Hangup(call_id, "softphone_test"))
                del self._live[call_id]
        self._serial += 1
        call_id = f"{PREFIX}{agent_id}-{self._serial}"
        self._live[call_id] = _Test(agent_id, now + self.answer_within)
        self.latest[agent_id] = Outcome(call_id, Result.RINGING)
        out += [act.TestSoftphone(call_id, agent_id, uri), self._said(agent_id)]
        return out

    def on_event(self, e: sipev.SipEvent, now: float) -> list[act.Action]:
        """One SIP event of a test call (the caller checked :meth:`owns`)."""
        if isinstance(e, sipev.CallAnswered):
            return self.on_answered(e.call_id, now)
        if isinstance(e, sipev.CallEnded):
            return self.on_ended(e.call_id, e.sip_status, e.reason, now)
        if isinstance(e, sipev.CommandFailed) and e.command == "Originate":  # never placed
            return self.on_ended(e.call_id, 0, e.message, now)
        return []

    def on_answered(self, call_id: str, now: float) -> list[act.Action]:
        """It answered: said so, and the call ends at once (nothing to hear)."""
        test = self._live.get(call_id)
        if test is None or test.answered:
            return [act.Hangup(call_id, "softphone_test")] if test is None else []
        test.answered = True
        self.latest[test.agent_id] = Outcome(call_id, Result.ANSWERED, 200)
        return [act.Hangup(call_id, "softphone_test"), self._said(test.agent_id)]

    def on_ended(self, call_id: str, sip_status: int, reason: str, now: float) -> list[act.Action]:
        """The call's one final event: before an answer it means the phone did not answer."""
        test = self._live.pop(call_id, None)
        if test is None or test.answered:
            return []
        self.latest[test.agent_id] = Outcome(call_id, Result.NO_ANSWER, sip_status, reason)
        return [self._said(test.agent_id)]

    def expire(self, now: float) -> list[act.Action]:
        """Tests not answered by their deadline: not answered, and cancelled."""
        out: list[act.Action] = []
        for call_id, test in list(self._live.items()):
            if not test.answered and now >= test.deadline:
                del self._live[call_id]
                reason = f"not answered within {self.answer_within:g} s"
                self.latest[test.agent_id] = Outcome(call_id, Result.NO_ANSWER, 0, reason)
                out += [act.Hangup(call_id, "softphone_test"), self._said(test.agent_id)]
        return out

    def next_deadline(self) -> float | None:
        waiting = [t.deadline for t in self._live.values() if not t.answered]
        return min(waiting) if waiting else None

    def forget(self, agent_id: str) -> None:
        """The agent logged out: their outcome goes (a test still ringing ends by itself)."""
        self.latest.pop(agent_id, None)

    def _said(self, agent_id: str) -> act.SoftphoneTested:
        o = self.latest[agent_id]
        return act.SoftphoneTested(agent_id, o.call_id, o.result.value, o.sip_status, o.reason)
