"""Which recorded calls a reviewer scores each week (抽检) — the pure core.

The rule (issue 19): every agent gets ``per_agent`` calls a week, ``new_agent_extra`` more
while they are new (their account is younger than ``new_agent_days``), ``low_score_extra``
more when their last average score is under ``low_score_floor``; and *every* call with a
complaint or a survey score of 1–2 is reviewed, on top of the quota.

The choice among an agent's calls is a hash of the week and the call, so it is the same
however often it is computed (the queue fills once and stays put) and it does not favour
early or late calls. Weeks start on Monday 00:00 in the zone the caller gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Reason(StrEnum):
    COMPLAINT = "complaint"
    LOW_SURVEY = "low_survey"
    ROUTINE = "routine"
    DISPUTE = "dispute"  # not chosen by the rule: an agent disputed an evaluation


@dataclass(frozen=True)
class Rule:
    per_agent: int = 3
    new_agent_extra: int = 2
    new_agent_days: int = 30
    low_score_extra: int = 2
    low_score_floor: float = 80.0

    def problem(self) -> str | None:
        """What is wrong with the rule as a user typed it (None: nothing)."""
        counts = (self.per_agent, self.new_agent_extra, self.low_score_extra)
        if any(not 0 <= n <= 100 for n in counts):
            return "calls per agent are whole numbers from 0 to 100"
        if not 0 <= self.new_agent_days <= 365:
            return "an agent is new for 0 to 365 days"
        if not 0 <= self.low_score_floor <= 100:
            return "the low-score floor is a score from 0 to 100"
        return None


@dataclass(frozen=True)
class CallFact:
    attempt_id: int
    agent_id: int
    ended_at: datetime  # aware
    complaint: bool = False
    low_survey: bool = False  # a survey answer of 1–2 on a 1–5 scale (bottom quarter)


@dataclass(frozen=True)
class AgentFact:
    agent_id: int
    since: datetime  # aware: when the account was made
    last_score: float | None = None  # their average composite over the last weeks


@dataclass(frozen=True)
class Pick:
    attempt_id: int
    agent_id: int
    reason: Reason


def week_of(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The [Monday 00:00, next Monday 00:00) around ``now`` in ``zone``, aware."""
    local = now.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0), ZoneInfo(zone))
    return start, start + timedelta(days=7)


def quota(agent: AgentFact | None, rule: Rule, now: datetime) -> int:
    """Routine calls to review for this agent this week."""
    n = rule.per_agent
    if agent is None:
        return n
    if now - agent.since < timedelta(days=rule.new_agent_days):
        n += rule.new_agent_extra
    if agent.last_score is not None and agent.last_score < rule.low_score_floor:
        n += rule.low_score_extra
    return n


def _order(week: datetime, attempt_id: int) -> str:
    return hashlib.sha256(f"{week.isoformat()}|{attempt_id}".encode()).hexdigest()


def sample(
    calls: Iterable[CallFact],
    agents: Mapping[int, AgentFact],
    taken: Mapping[int, Reason],
    rule: Rule,
    now: datetime,
    zone: str = "UTC",
) -> list[Pick]:
    """New picks for the week around ``now``: calls ended in that week and before ``now``.

    ``taken``: attempt id -> reason of calls already in the queue (any week); they are not
    picked again, and routine ones count towards their agent's quota.
    """
    start, end = week_of(now, zone)
    week_calls = [c for c in calls if start <= c.ended_at < end and c.ended_at <= now]
    picks: list[Pick] = []
    by_agent: dict[int, list[CallFact]] = {}
    for c in week_calls:
        if c.attempt_id in taken:
            continue
        if c.complaint or c.low_survey:
            reason = Reason.COMPLAINT if c.complaint else Reason.LOW_SURVEY
            picks.append(Pick(c.attempt_id, c.agent_id, reason))
        else:
            by_agent.setdefault(c.agent_id, []).append(c)
    done: dict[int, int] = {}
    for c in week_calls:
        if taken.get(c.attempt_id) is Reason.ROUTINE:
            done[c.agent_id] = done.get(c.agent_id, 0) + 1
    for agent_id in sorted(by_agent):
        left = quota(agents.get(agent_id), rule, now) - done.get(agent_id, 0)
        if left <= 0:
            continue
        ranked = sorted(by_agent[agent_id], key=lambda c: _order(start, c.attempt_id))
        picks += [Pick(c.attempt_id, agent_id, Reason.ROUTINE) for c in ranked[:left]]
    return picks
