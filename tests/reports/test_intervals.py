"""Intervals in a time zone: DST days, Monday weeks, months, half-hour offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from reports import intervals


def _day(y: int, m: int, d: int, zone: str) -> tuple[datetime, datetime]:
    return intervals.day_span(datetime(y, m, d, 12, tzinfo=UTC), zone)


def test_dst_days_have_46_and_50_half_hours() -> None:
    zone = "America/New_York"
    assert len(intervals.all_buckets(*_day(2026, 3, 8, zone), "30m", zone)) == 46
    assert len(intervals.all_buckets(*_day(2026, 11, 1, zone), "30m", zone)) == 50
    assert len(intervals.all_buckets(*_day(2026, 11, 2, zone), "30m", zone)) == 48
    assert len(intervals.all_buckets(*_day(2026, 11, 1, zone), "1h", zone)) == 25


def test_fall_back_half_hours_stay_apart_and_are_labelled_with_offsets() -> None:
    zone = "America/New_York"
    starts = intervals.all_buckets(*_day(2026, 11, 1, zone), "30m", zone)
    labels = [intervals.label(s, "30m", zone) for s in starts]
    assert "2026-11-01T01:30-04:00" in labels and "2026-11-01T01:30-05:00" in labels


def test_weeks_start_monday_and_months_in_local_time() -> None:
    ts = pd.Series(pd.to_datetime(["2026-12-06T17:00:00Z", "2026-11-30T15:59:00Z"], utc=True))
    week = intervals.bucket_of(ts, "week", "Asia/Shanghai")
    # 2026-12-07 01:00 in Shanghai is a Monday: its own week; 11-30 23:59 is Monday too
    assert [intervals.label(t, "week", "Asia/Shanghai") for t in week] == [
        "2026-12-07",
        "2026-11-30",
    ]
    month = intervals.bucket_of(ts, "month", "Asia/Shanghai")
    assert [intervals.label(t, "month", "Asia/Shanghai") for t in month] == ["2026-12", "2026-11"]


def test_half_hour_offset_zone() -> None:
    ts = pd.Series(pd.to_datetime(["2026-12-01T04:20:00Z"], utc=True))  # 09:50 in Kolkata
    b = intervals.bucket_of(ts, "30m", "Asia/Kolkata")
    assert intervals.label(b.iloc[0], "30m", "Asia/Kolkata") == "2026-12-01T09:30+05:30"
    hour = intervals.bucket_of(ts, "1h", "Asia/Kolkata")
    assert intervals.label(hour.iloc[0], "1h", "Asia/Kolkata") == "2026-12-01T09:00+05:30"
