"""KPI thresholds (quality/alerts.py)."""

from __future__ import annotations

import pytest

from quality import alerts
from quality.alerts import Metric, Reading, Scope, Threshold


def test_high_and_low_sides() -> None:
    ts = [
        Threshold(1, Metric.ABANDON_RATE, Scope.CAMPAIGN, "", 0.025),
        Threshold(2, Metric.CONNECT_RATE, Scope.CAMPAIGN, "Spring", 0.2),
        Threshold(3, Metric.QA_SCORE, Scope.AGENT, "", 75.0),
    ]
    rs = [
        Reading(Metric.ABANDON_RATE, Scope.CAMPAIGN, "Spring", 0.028),
        Reading(Metric.ABANDON_RATE, Scope.CAMPAIGN, "Autumn", 0.01),
        Reading(Metric.CONNECT_RATE, Scope.CAMPAIGN, "Spring", 0.15),
        Reading(Metric.CONNECT_RATE, Scope.CAMPAIGN, "Autumn", 0.10),  # not Spring: not watched
        Reading(Metric.QA_SCORE, Scope.AGENT, "li.na", 70.0),
        Reading(Metric.QA_SCORE, Scope.AGENT, "wang", 75.0),  # at the floor is fine
    ]
    got = [(a.threshold_id, a.subject) for a in alerts.evaluate(ts, rs)]
    assert got == [(1, "Spring"), (2, "Spring"), (3, "li.na")]


def test_min_volume_and_scope() -> None:
    t = Threshold(1, Metric.AHT, Scope.AGENT, "", 300.0, min_volume=5)
    assert alerts.evaluate([t], [Reading(Metric.AHT, Scope.AGENT, "a", 900.0, volume=2)]) == []
    assert alerts.evaluate([t], [Reading(Metric.AHT, Scope.CAMPAIGN, "a", 900.0, volume=9)]) == []
    assert len(alerts.evaluate([t], [Reading(Metric.AHT, Scope.AGENT, "a", 301.0, volume=5)])) == 1


@pytest.mark.parametrize(
    ("current", "previous", "drop"),
    [(0.3, 0.4, 0.25), (0.5, 0.4, 0.0), (0.3, 0.0, None), (None, 0.4, None)],
)
def test_connect_drop(current: float | None, previous: float | None, drop: float | None) -> None:
    got = alerts.connect_drop(current, previous)
    if drop is None:
        assert got is None
    else:
        assert got == pytest.approx(drop)
