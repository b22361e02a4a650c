"""Abandon gauges: rule 2 (US buckets and rolling 30 days), rules 18-19 (UK day, AMD)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.gauges import (
    US_BUCKET,
    US_ROLLING,
    CallEvent,
    CallResult,
    UkGauge,
    UsGauge,
    amd_estimate,
    uk_reading,
    us_readings,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def ev(days: float, result: CallResult) -> CallEvent:
    return CallEvent(START + timedelta(days=days), result)


def test_rule_2_rate_is_abandoned_over_live_and_machines_count_in_neither() -> None:
    events = [ev(1, CallResult.LIVE)] * 97 + [ev(1, CallResult.ABANDONED)] * 3
    events += [ev(1, CallResult.MACHINE)] * 500 + [ev(1, CallResult.OTHER)] * 500
    bucket, rolling = us_readings(events, START, START + timedelta(days=2))
    assert (bucket.abandoned, bucket.live) == (3, 100)
    assert bucket.rate == 0.03 and rolling.rate == 0.03
    assert (bucket.gauge, rolling.gauge) == (US_BUCKET, US_ROLLING)


def test_rule_2_successive_buckets_restart_every_30_days_from_campaign_start() -> None:
    events = [ev(5, CallResult.ABANDONED), ev(5, CallResult.LIVE), ev(31, CallResult.LIVE)]
    bucket, rolling = us_readings(events, START, START + timedelta(days=32))
    assert bucket.start == START + timedelta(days=30)
    assert (bucket.abandoned, bucket.live) == (0, 1)
    assert (rolling.abandoned, rolling.live) == (1, 3)  # day 5 is within 30 days of day 32
    bucket, rolling = us_readings(events, START, START + timedelta(days=36))
    assert (rolling.abandoned, rolling.live) == (0, 1)


def test_rule_2_no_answered_calls_reads_zero() -> None:
    bucket, _ = us_readings([], START, START)
    assert bucket.rate == 0.0


def test_rule_19_amd_estimate_rounds_half_up() -> None:
    assert amd_estimate(0.05, 50) == 3  # 2.5 -> 3, not banker's 2
    assert amd_estimate(0.0, 1000) == 0


def test_rule_18_uk_day_is_midnight_to_midnight_london_with_rule_19_estimate() -> None:
    summer = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 BST on 1 July
    events = [
        CallEvent(summer, CallResult.ABANDONED),
        CallEvent(summer + timedelta(hours=1), CallResult.ABANDONED),  # 00:30 BST on 2 July
        *[CallEvent(summer, CallResult.LIVE)] * 99,
        *[CallEvent(summer, CallResult.MACHINE)] * 40,
    ]
    r = uk_reading(events, summer, amd_false_positive_rate=0.05)
    assert (r.abandoned, r.live) == (1 + 2, 100)
    assert r.start == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    nxt = uk_reading(events, summer + timedelta(hours=1))
    assert (nxt.abandoned, nxt.live) == (1, 1)


def test_rule_18_clock_change_day_is_25_hours_long() -> None:
    r = uk_reading([], datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert r.end - r.start == timedelta(hours=25)


results = st.sampled_from(list(CallResult))
events_st = st.lists(
    st.tuples(st.integers(0, 90 * 24 * 60), results).map(
        lambda p: CallEvent(START + timedelta(minutes=p[0]), p[1])
    ),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(events_st, st.integers(0, 90 * 24 * 60))
def test_rule_2_incremental_gauge_matches_the_pure_function(
    events: list[CallEvent], now_min: int
) -> None:
    now = START + timedelta(minutes=now_min)
    g = UsGauge(START)
    for e in sorted(events, key=lambda e: e.at):
        if e.at <= now:
            g.add(e)
    assert g.readings(now) == us_readings(events, START, now)


@settings(max_examples=100, deadline=None)
@given(events_st, st.integers(0, 90 * 24 * 60), st.floats(0, 0.2))
def test_rule_18_incremental_uk_gauge_matches_the_pure_function(
    events: list[CallEvent], now_min: int, fp: float
) -> None:
    now = START + timedelta(minutes=now_min)
    g = UkGauge(fp)
    for e in events:
        g.add(e)
    assert g.reading(now) == uk_reading(events, now, fp)
