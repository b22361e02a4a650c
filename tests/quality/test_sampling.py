"""The weekly review sample as a pure function of time (quality/sampling.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quality import sampling
from quality.sampling import AgentFact, CallFact, Reason, Rule

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # a Thursday
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
OLD = datetime(2025, 1, 1, tzinfo=UTC)


def calls(agent: int, n: int, first_id: int, **flags: bool) -> list[CallFact]:
    return [
        CallFact(first_id + i, agent, MONDAY + timedelta(hours=9, minutes=i), **flags)
        for i in range(n)
    ]


def test_week_starts_monday_in_the_zone() -> None:
    start, end = sampling.week_of(NOW, "UTC")
    assert (start, end - start) == (MONDAY, timedelta(days=7))
    # Monday 07:00 in Shanghai is Sunday 23:00 UTC: already the new week there
    sunday_late = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert sampling.week_of(sunday_late, "Asia/Shanghai")[0].date().isoformat() == "2026-12-07"
    assert sampling.week_of(sunday_late, "UTC")[0].date().isoformat() == "2026-11-30"


def test_quota_new_agents_and_low_scores_get_more() -> None:
    rule = Rule(per_agent=3, new_agent_extra=2, new_agent_days=30, low_score_extra=1)
    assert sampling.quota(AgentFact(1, OLD, 90.0), rule, NOW) == 3
    assert sampling.quota(AgentFact(1, NOW - timedelta(days=5), None), rule, NOW) == 5
    assert sampling.quota(AgentFact(1, OLD, 60.0), rule, NOW) == 4
    assert sampling.quota(AgentFact(1, NOW - timedelta(days=5), 60.0), rule, NOW) == 6


def test_every_complaint_and_low_survey_plus_the_quota() -> None:
    facts = [
        *calls(1, 10, 100),
        *calls(1, 2, 200, complaint=True),
        *calls(2, 1, 300, low_survey=True),
        *calls(2, 1, 400),
    ]
    agents = {1: AgentFact(1, OLD), 2: AgentFact(2, OLD)}
    picks = sampling.sample(facts, agents, {}, Rule(per_agent=3), NOW)
    reasons = [(p.agent_id, p.reason) for p in picks]
    assert reasons.count((1, Reason.COMPLAINT)) == 2
    assert reasons.count((2, Reason.LOW_SURVEY)) == 1
    assert reasons.count((1, Reason.ROUTINE)) == 3
    assert reasons.count((2, Reason.ROUTINE)) == 1  # only one ordinary call to pick


def test_same_answer_every_time_and_taken_counts_towards_the_quota() -> None:
    facts = calls(1, 20, 100)
    agents = {1: AgentFact(1, OLD)}
    first = sampling.sample(facts, agents, {}, Rule(per_agent=3), NOW)
    assert first == sampling.sample(list(reversed(facts)), agents, {}, Rule(per_agent=3), NOW)
    taken = {first[0].attempt_id: Reason.ROUTINE}
    again = sampling.sample(facts, agents, taken, Rule(per_agent=3), NOW)
    assert len(again) == 2
    assert first[0].attempt_id not in {p.attempt_id for p in again}
    full = {p.attempt_id: Reason.ROUTINE for p in first}
    assert sampling.sample(facts, agents, full, Rule(per_agent=3), NOW) == []


def test_only_this_weeks_ended_calls() -> None:
    last_week = [CallFact(1, 1, MONDAY - timedelta(hours=1), complaint=True)]
    later_today = [CallFact(2, 1, NOW + timedelta(hours=1), complaint=True)]
    agents = {1: AgentFact(1, OLD)}
    assert sampling.sample(last_week + later_today, agents, {}, Rule(), NOW) == []
