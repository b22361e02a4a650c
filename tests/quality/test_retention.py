"""The recording retention rule (quality/retention.py) on synthetic timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quality.retention import Recording, cutoff, plan

NOW = datetime(2026, 12, 7, 3, 37, tzinfo=UTC)


def rec(call_id: str, age_days: float) -> Recording:
    return Recording(call_id, NOW - timedelta(days=age_days), 1000)


def test_only_recordings_past_the_period_and_not_needed_for_review_are_deleted() -> None:
    recs = [rec("young", 89.9), rec("old", 90.1), rec("older", 400), rec("disputed", 120)]
    p = plan(recs, NOW, 90, protected={"disputed", "young"})
    assert [r.call_id for r in p.delete] == ["older", "old"]  # oldest first
    assert [r.call_id for r in p.protected] == ["disputed"]
    assert p.young == 1


def test_the_boundary_is_exactly_the_period() -> None:
    assert cutoff(NOW, 90) == NOW - timedelta(days=90)
    at_limit = Recording("edge", NOW - timedelta(days=90), 1)
    assert plan([at_limit], NOW, 90, set()).delete == ()  # not older than 90 days: kept
    later = NOW + timedelta(seconds=1)
    assert [r.call_id for r in plan([at_limit], later, 90, set()).delete] == ["edge"]


def test_zero_days_keeps_everything() -> None:
    assert cutoff(NOW, 0) is None
    p = plan([rec("a", 10_000), rec("b", 1)], NOW, 0, set())
    assert p.delete == () and p.protected == () and p.young == 2
