"""Rule 19 sampling: which machine verdicts go to agents, and the estimate their marks give."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.amd_sampling import FpEstimate, sampled, wilson
from compliance.gauges import amd_estimate


def test_sampling_takes_about_the_share_and_is_repeatable() -> None:
    ids = [f"call-{i}" for i in range(20_000)]
    share = sum(sampled(i, 0.02) for i in ids) / len(ids)
    assert 0.017 <= share <= 0.023
    assert [sampled(i, 0.02) for i in ids[:500]] == [sampled(i, 0.02) for i in ids[:500]]
    assert not any(sampled(i, 0.0) for i in ids[:500])
    assert all(sampled(i, 1.0) for i in ids[:500])


def test_wilson_interval_known_values() -> None:
    low, high = wilson(2, 100)
    assert (low, high) == (pytest.approx(0.0055, abs=1e-4), pytest.approx(0.0700, abs=1e-4))
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 50)[0] == 0.0 and wilson(50, 50)[1] == 1.0


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500))
def test_the_interval_holds_the_point_estimate(persons: int, machines: int) -> None:
    est = FpEstimate(persons, machines)
    low, high = est.interval
    assert 0.0 <= low <= est.rate <= high <= 1.0


def test_gauge_rate_starts_at_the_lab_rate_then_follows_the_marks() -> None:
    est = FpEstimate()
    assert est.gauge_rate(lab_rate=0.02) == 0.02
    est = est.mark(True).mark(False).mark(False)  # 1 person in 3 marks: above the lab rate
    assert est.gauge_rate(lab_rate=0.02) == pytest.approx(1 / 3)
    for _ in range(97):
        est = est.mark(False)
    assert (est.persons, est.marks) == (1, 100)
    assert est.gauge_rate(lab_rate=0.02) == pytest.approx(wilson(1, 100)[1])
    assert est.gauge_rate(lab_rate=0.02) > est.rate  # the conservative side of the interval


def test_a_person_marked_moves_the_uk_abandon_estimate() -> None:
    """Machine verdict -> sampled -> agent marks -> estimate moves -> gauge's abandons move."""
    machines_today = 400
    est = FpEstimate(0, 60)
    before = amd_estimate(est.gauge_rate(lab_rate=0.02), machines_today)
    after = amd_estimate(est.mark(True).mark(True).gauge_rate(lab_rate=0.02), machines_today)
    assert after > before > 0
