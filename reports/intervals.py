"""Report intervals in a time zone: half-hour, hour, day, week (from Monday), month.

Everything is vectorised over UTC *slots* of 15 minutes: every zone offset in use is a
multiple of 15 minutes, so one UTC slot lies inside exactly one local half-hour (and one local
hour, day, week, month). Storage aggregates by slot (reports/store.py); this module maps slots
onto the local intervals. A half-hour is found by flooring the local wall time and subtracting
the offset in force, so the two 01:30 half-hours of a fall-back night stay apart and a DST day
has 46 or 50 half-hours. Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from reports.errors import ReportInvalid

SLOT_SECONDS = 900
INTERVALS = ("30m", "1h", "day", "week", "month")
_FLOOR = {"30m": "30min", "1h": "1h"}


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise ReportInvalid(
            f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}", field="interval"
        )
    return interval


_SIZE = {"30m": 1800, "1h": 3600, "day": 86400, "week": 86400, "month": 86400}


def storage_slots(start: datetime, end: datetime, interval: str, zone: str) -> tuple[int, int]:
    """(size, off): how storage may cut time for this report. With one UTC offset over the
    whole range (no DST change; the usual case in China) a slot counted from ``-off`` is a
    whole local half-hour, hour or day, so the database sums far fewer rows; otherwise 15-minute
    UTC slots, which fit inside every local interval of every zone."""
    z = ZoneInfo(zone)
    t = start - timedelta(days=1)
    first = t.astimezone(z).utcoffset()
    while t <= end:
        if t.astimezone(z).utcoffset() != first:
            return SLOT_SECONDS, 0
        t += timedelta(hours=1)
    assert first is not None
    return _SIZE[check_interval(interval)], int(first.total_seconds())


def slot_starts(slots: pd.Series, size: int = SLOT_SECONDS, off: int = 0) -> pd.Series:
    """Slot numbers (floor((epoch + off) / size)) as the aware UTC instants they start at."""
    return pd.to_datetime(slots.astype("int64") * size - off, unit="s", utc=True)


def bucket_of(ts: pd.Series, interval: str, zone: str) -> pd.Series:
    """The UTC start of the local interval each aware timestamp falls in."""
    check_interval(interval)
    utc = ts.dt.tz_convert("UTC")
    naive_local = utc.dt.tz_convert(zone).dt.tz_localize(None)
    if interval in _FLOOR:
        offset = naive_local - utc.dt.tz_localize(None)
        return (naive_local.dt.floor(_FLOOR[interval]) - offset).dt.tz_localize("UTC")
    day = naive_local.dt.normalize()
    if interval == "week":
        day = day - pd.to_timedelta(day.dt.day_of_week, unit="D")  # weeks start on Monday
    elif interval == "month":
        day = day.dt.to_period("M").dt.to_timestamp()
    first = np.ones(len(day), dtype=bool)  # an ambiguous local midnight: its first instant
    local = day.dt.tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def buckets_of_slots(
    slots: pd.Series, interval: str, zone: str, size: int = SLOT_SECONDS, off: int = 0
) -> pd.Series:
    """Bucket starts (UTC) of many slots, computed once per distinct slot (and looked up as
    datetime64 values: a lookup through tz-aware objects walked every Timestamp)."""
    keys = slots.astype("int64").to_numpy()
    uniq = pd.unique(keys)
    starts = bucket_of(slot_starts(pd.Series(uniq), size, off), interval, zone)
    naive = starts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    picked = naive[pd.Index(uniq).get_indexer(keys)]
    return pd.Series(pd.DatetimeIndex(picked).tz_localize("UTC"), index=slots.index)


def all_buckets(start: datetime, end: datetime, interval: str, zone: str) -> list[datetime]:
    """Every interval start (UTC) that overlaps [start, end): the report's full time axis."""
    first = int(start.timestamp()) // SLOT_SECONDS
    last = -(-int(end.timestamp()) // SLOT_SECONDS)
    slots = pd.Series(np.arange(first, max(last, first + 1), dtype="int64"))
    uniq = pd.unique(bucket_of(slot_starts(slots), interval, zone))
    return [pd.Timestamp(t).to_pydatetime() for t in sorted(uniq)]


def label(start: datetime, interval: str, zone: str) -> str:
    """A bucket's name in the report zone: ISO time with offset, or the date / month."""
    local = start.astimezone(ZoneInfo(zone))
    if interval in _FLOOR:
        return local.isoformat(timespec="minutes")
    if interval == "month":
        return local.strftime("%Y-%m")
    return local.date().isoformat()


def day_span(day: datetime, zone: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local calendar day holding ``day``."""
    z = ZoneInfo(zone)
    local = day.astimezone(z).replace(hour=0, minute=0, second=0, microsecond=0)
    nxt = (local + timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=z)
    return local.astimezone(ZoneInfo("UTC")), nxt.astimezone(ZoneInfo("UTC"))
