"""KPI alerts (预警) — thresholds over KPI values, the pure core.

A threshold watches one metric for a campaign or an agent (or every campaign / agent when
its subject is empty) and fires when the value is on the bad side of its limit. The
metrics and which side is bad (KPI definitions in shared/domain.md, reports/kpis.py):

* ``abandon_rate``   above: set the limit a little under the legal cap (e.g. 2.5 % for a
  3 % cap) to be warned *before* the cap is reached;
* ``connect_rate``   below;
* ``connect_drop``   above: the relative fall of the connect rate, last hour against the
  hour before (0.3 = fell by 30 %);
* ``aht``, ``avg_wrap_time``  above, in seconds;
* ``paused_seconds`` above: an agent paused this long without a break (agent scope only);
* ``qa_score``       below: the week's average composite score (0–100).

Readings with too little traffic behind them (``volume`` under the threshold's
``min_volume``) are skipped: one abandoned call out of two is not an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Metric(StrEnum):
    ABANDON_RATE = "abandon_rate"
    CONNECT_RATE = "connect_rate"
    CONNECT_DROP = "connect_drop"
    AHT = "aht"
    AVG_WRAP_TIME = "avg_wrap_time"
    PAUSED_SECONDS = "paused_seconds"
    QA_SCORE = "qa_score"


class Scope(StrEnum):
    CAMPAIGN = "campaign"
    AGENT = "agent"


#: metrics whose high values are bad (the rest: low values are bad)
HIGH_IS_BAD = frozenset(
    {
        Metric.ABANDON_RATE,
        Metric.CONNECT_DROP,
        Metric.AHT,
        Metric.AVG_WRAP_TIME,
        Metric.PAUSED_SECONDS,
    }
)
#: which scopes a metric can be watched at
SCOPES: dict[Metric, frozenset[Scope]] = {
    Metric.ABANDON_RATE: frozenset({Scope.CAMPAIGN}),
    Metric.CONNECT_RATE: frozenset({Scope.CAMPAIGN}),
    Metric.CONNECT_DROP: frozenset({Scope.CAMPAIGN}),
    Metric.AHT: frozenset({Scope.CAMPAIGN, Scope.AGENT}),
    Metric.AVG_WRAP_TIME: frozenset({Scope.CAMPAIGN, Scope.AGENT}),
    Metric.PAUSED_SECONDS: frozenset({Scope.AGENT}),
    Metric.QA_SCORE: frozenset({Scope.AGENT, Scope.CAMPAIGN}),
}


@dataclass(frozen=True)
class Threshold:
    id: int
    metric: Metric
    scope: Scope
    subject: str  # campaign or agent name; "" = every one
    limit: float
    min_volume: int = 0


@dataclass(frozen=True)
class Reading:
    """One KPI value for one campaign or agent, with the count it rests on."""

    metric: Metric
    scope: Scope
    subject: str
    value: float
    volume: int = 0


@dataclass(frozen=True)
class Alert:
    threshold_id: int
    metric: Metric
    scope: Scope
    subject: str
    value: float
    limit: float


def connect_drop(current: float | None, previous: float | None) -> float | None:
    """Relative fall of the connect rate (0.25 = a quarter lower); None when undefined."""
    if current is None or previous is None or previous <= 0:
        return None
    return max(0.0, (previous - current) / previous)


def breached(metric: Metric, value: float, limit: float) -> bool:
    return value > limit if metric in HIGH_IS_BAD else value < limit


def evaluate(thresholds: Iterable[Threshold], readings: Iterable[Reading]) -> list[Alert]:
    """Every (threshold, reading) pair on the bad side of the limit, in threshold order."""
    readings = list(readings)
    out: list[Alert] = []
    for t in thresholds:
        for r in readings:
            if r.metric is not t.metric or r.scope is not t.scope:
                continue
            if t.subject and r.subject != t.subject:
                continue
            if r.volume < t.min_volume:
                continue
            if breached(t.metric, r.value, t.limit):
                out.append(Alert(t.id, t.metric, t.scope, r.subject, r.value, t.limit))
    return out
