"""Staffing forecast (排班预测), pure: agents needed per half hour, and Erlang C for callbacks.

A list finishes when its records left have had their contacts. One logged-in agent makes
contacts at ``talk_share / talk_seconds`` per second: the talk share the predictive pacer
achieves at the campaign's abandon target (measured: talk seconds / logged-in seconds) spread
over the mean talk of a contact. The contacts are planned into the half hours before the
deadline in proportion to the share of the numbers left that may be called then (their
calling windows), so no agent is planned where no number may be dialed. Dials per half hour
follow from the answer rate of that hour of day. Agents are whole: the plan rounds so the
agent-half-hours add up to the exact need (largest remainders), never a ceiling per half
hour (which would finish early and overstaff).

The talk share is measured at the team size the campaign ran with; a much larger team pools
better and the pacer reaches a higher share, so for a team far above the measured one the plan
is conservative (finishes early: ~10 % at 5 measured vs 8 planned agents in the simulator).

Erlang C (callback queues with arrival times): the closed form, computed through the Erlang B
recursion so large teams do not overflow; tested against published tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from reports.errors import ReportInvalid

HALF_HOUR = 1800.0


@dataclass(frozen=True)
class Rates:
    """What outdial measured for a campaign (reports/forecast_store.py)."""

    talk_share: float  # talk seconds / logged-in seconds, under the pacer at its abandon target
    talk_seconds: float  # mean talk per contact
    aht: float  # talk + wrap-up per contact
    answer_rate: float  # live answers / dials, overall
    answer_rate_by_hour: dict[int, float] = field(default_factory=dict)  # local hour -> rate
    reach: float = 1.0  # contacts per finished record

    def contacts_per_agent_second(self) -> float:
        if self.talk_seconds <= 0 or self.talk_share <= 0:
            raise ReportInvalid("no measured talk time for this campaign yet", field="campaign")
        return self.talk_share / self.talk_seconds

    def answer_at(self, hour: int) -> float:
        return self.answer_rate_by_hour.get(hour, self.answer_rate)


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware
    local_hour: int
    open_share: float  # share of the numbers left that may be called in this half hour, 0..1


@dataclass(frozen=True)
class PlanRow:
    start: datetime
    open_share: float
    contacts: float
    dials: float
    agents_exact: float
    agents: int

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "open_share": round(self.open_share, 4),
            "contacts": round(self.contacts, 2),
            "dials": round(self.dials, 1),
            "agents_exact": round(self.agents_exact, 3),
            "agents": self.agents,
        }


def whole_agents(exact: list[float]) -> list[int]:
    """Round per half hour so the total is the exact total rounded up (largest remainders)."""
    total = math.ceil(sum(exact) - 1e-9)
    base = [math.floor(x) for x in exact]
    rest = total - sum(base)
    order = sorted(range(len(exact)), key=lambda i: exact[i] - base[i], reverse=True)
    for i in order[: max(rest, 0)]:
        base[i] += 1
    return base


def _row(slot: Slot, contacts: float, rates: Rates, agent_contacts: float) -> tuple[float, float]:
    answer = rates.answer_at(slot.local_hour)
    dials = contacts / answer if answer > 0 else math.inf
    return dials, contacts / agent_contacts


def to_finish(records_left: int, rates: Rates, slots: list[Slot]) -> list[PlanRow]:
    """Agents per half hour to finish ``records_left`` by the end of the last slot."""
    if records_left < 0:
        raise ReportInvalid("records left cannot be negative", field="records")
    weight = sum(s.open_share for s in slots)
    if records_left and weight <= 0:
        raise ReportInvalid("no calling window before the deadline", field="deadline")
    need = records_left * rates.reach
    per_agent = rates.contacts_per_agent_second() * HALF_HOUR
    contacts = [need * s.open_share / weight if weight else 0.0 for s in slots]
    return _plan(slots, contacts, rates, per_agent)


def for_contacts(contacts: list[float], rates: Rates, slots: list[Slot]) -> list[PlanRow]:
    """Agents per half hour to reach a number of contacts in each."""
    if len(contacts) != len(slots):
        raise ReportInvalid("one contact target per half hour", field="contacts")
    per_agent = rates.contacts_per_agent_second() * HALF_HOUR
    return _plan(slots, contacts, rates, per_agent)


def _plan(
    slots: list[Slot], contacts: list[float], rates: Rates, per_agent: float
) -> list[PlanRow]:
    rows = [_row(s, c, rates, per_agent) for s, c in zip(slots, contacts, strict=True)]
    whole = whole_agents([a for _d, a in rows])
    return [
        PlanRow(s.start, s.open_share, c, d, a, w)
        for s, c, (d, a), w in zip(slots, contacts, rows, whole, strict=True)
    ]


# --- Erlang C ------------------------------------------------------------------------------


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the stable recursion B(n) = A·B(n-1) / (n + A·B(n-1))."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call waits (traffic in Erlangs); 1 when agents <= traffic."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(traffic: float, agents: int, aht: float, target_seconds: float) -> float:
    """Share of calls answered within ``target_seconds``."""
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * target_seconds / aht)


def agents_for(
    calls: float, interval_seconds: float, aht: float, target_seconds: float, level: float
) -> int:
    """Fewest agents answering ``level`` of ``calls`` (per interval) within the target."""
    if calls <= 0:
        return 0
    if not 0 < level < 1 or aht <= 0:
        raise ReportInvalid("service level must be between 0 and 1, AHT positive", field="level")
    traffic = calls * aht / interval_seconds
    n = max(1, math.floor(traffic) + 1)
    while service_level(traffic, n, aht, target_seconds) < level:
        n += 1
    return n
