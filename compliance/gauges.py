"""Abandon-rate gauges per campaign (rules 2, 18, 19).

US (rule 2): rate = abandoned / live-answered, over successive 30-day buckets counted from
campaign start (the legal measure) and over a rolling 30 days (stricter). UK (rules 18, 19):
per calendar day in Europe/London, with the AMD false-positive estimate added to the
abandoned count: ``abandoned + round(fp_rate * machines)``. Ofcom's published formula may
also add the estimate to the denominator, which can only lower the rate; we take the
stricter numerator-only reading of rule 19.

Machines, no-answers, busies and SIT tones count in neither term (rule 2). An abandoned call
was answered by a live person, so it counts in both terms. Never pool campaigns: feed one
campaign's events (or, for rule 18's second view, one call centre's) per gauge.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

US_BUCKET = "us-30d-bucket"
US_ROLLING = "us-rolling-30d"
UK_DAY = "uk-day"
LONDON = ZoneInfo("Europe/London")
THIRTY_DAYS = timedelta(days=30)


class CallResult(StrEnum):
    LIVE = "live"  # live person, bridged to an agent in time
    ABANDONED = "abandoned"  # live person, no agent within 2 s (rule 3)
    MACHINE = "machine"  # AMD said machine
    OTHER = "other"  # no answer, busy, SIT, failed


@dataclass(frozen=True)
class CallEvent:
    at: datetime
    result: CallResult


@dataclass(frozen=True)
class AbandonReading:
    """One gauge's figures; ``rate`` is 0.0 when nothing was answered yet."""

    gauge: str
    abandoned: int
    live: int
    start: datetime
    end: datetime

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0


def _counts(events: Iterable[CallEvent]) -> tuple[int, int, int]:
    ab = live = machines = 0
    for e in events:
        if e.result is CallResult.ABANDONED:
            ab += 1
            live += 1
        elif e.result is CallResult.LIVE:
            live += 1
        elif e.result is CallResult.MACHINE:
            machines += 1
    return ab, live, machines


def us_bucket_bounds(campaign_start: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The successive 30-day period (from campaign start) that contains ``now``."""
    n = max(0, (now - campaign_start) // THIRTY_DAYS)
    start = campaign_start + n * THIRTY_DAYS
    return start, start + THIRTY_DAYS


def us_readings(
    events: Iterable[CallEvent], campaign_start: datetime, now: datetime
) -> tuple[AbandonReading, AbandonReading]:
    """(current 30-day bucket, rolling 30 days ending at ``now``) for one campaign."""
    evs = [e for e in events if e.at <= now]
    b0, b1 = us_bucket_bounds(campaign_start, now)
    ab, live, _ = _counts(e for e in evs if b0 <= e.at < b1)
    r0 = now - THIRTY_DAYS
    rab, rlive, _ = _counts(e for e in evs if r0 < e.at)
    return (
        AbandonReading(US_BUCKET, ab, live, b0, b1),
        AbandonReading(US_ROLLING, rab, rlive, r0, now),
    )


def amd_estimate(fp_rate: float, machines: int) -> int:
    """Rule 19 estimate of live people classed as machines, rounded half up (not to even)."""
    return math.floor(fp_rate * machines + 0.5)


def uk_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight in Europe/London (23 or 25 hours on clock-change days)."""
    start = datetime(day.year, day.month, day.day, tzinfo=LONDON)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=LONDON)
    # in UTC: arithmetic between two London datetimes would be wall-clock (24 h every day)
    return start.astimezone(UTC), end.astimezone(UTC)


def uk_reading(
    events: Iterable[CallEvent], now: datetime, amd_false_positive_rate: float = 0.0
) -> AbandonReading:
    """Today's (Europe/London) gauge with the rule 19 AMD false-positive estimate added."""
    start, end = uk_day_bounds(now.astimezone(LONDON).date())
    ab, live, machines = _counts(e for e in events if start <= e.at < end)
    return AbandonReading(
        UK_DAY, ab + amd_estimate(amd_false_positive_rate, machines), live, start, end
    )


class UsGauge:
    """Incremental form of ``us_readings``: add events as they happen, read at any instant.

    Keeps answered-live and abandoned instants sorted (appends when events arrive in
    order); ``readings`` drops what no gauge can see any more, so memory stays bounded by
    about a month of answered calls.
    """

    def __init__(self, campaign_start: datetime) -> None:
        self.campaign_start = campaign_start
        self._live: list[float] = []
        self._abandoned: list[float] = []

    def add(self, event: CallEvent) -> None:
        if event.result not in (CallResult.LIVE, CallResult.ABANDONED):
            return
        t = event.at.timestamp()
        bisect.insort(self._live, t)
        if event.result is CallResult.ABANDONED:
            bisect.insort(self._abandoned, t)

    @staticmethod
    def _count(xs: list[float], lo: float, hi: float, lo_open: bool) -> int:
        left = bisect.bisect_right(xs, lo) if lo_open else bisect.bisect_left(xs, lo)
        return max(0, bisect.bisect_right(xs, hi) - left)

    def readings(self, now: datetime) -> tuple[AbandonReading, AbandonReading]:
        b0, b1 = us_bucket_bounds(self.campaign_start, now)
        r0 = now - THIRTY_DAYS
        n, lo, hi = now.timestamp(), b0.timestamp(), b1.timestamp()
        end = n if n < hi else hi - 1e-6  # bucket is [b0, b1), never past now
        bucket = AbandonReading(
            US_BUCKET,
            self._count(self._abandoned, lo, end, False),
            self._count(self._live, lo, end, False),
            b0,
            b1,
        )
        r = r0.timestamp()
        rolling = AbandonReading(
            US_ROLLING,
            self._count(self._abandoned, r, n, True),
            self._count(self._live, r, n, True),
            r0,
            now,
        )
        keep = min(lo, r)
        for xs in (self._live, self._abandoned):
            del xs[: bisect.bisect_left(xs, keep)]
        return bucket, rolling


class UkGauge:
    """Incremental form of ``uk_reading``: per Europe/London day (abandoned, live, machines)."""

    def __init__(self, amd_false_positive_rate: float = 0.0) -> None:
        self.amd_false_positive_rate = amd_false_positive_rate
        self._days: dict[date, list[int]] = {}

    def add(self, event: CallEvent) -> None:
        c = self._days.setdefault(event.at.astimezone(LONDON).date(), [0, 0, 0])
        if event.result is CallResult.ABANDONED:
            c[0] += 1
            c[1] += 1
        elif event.result is CallResult.LIVE:
            c[1] += 1
        elif event.result is CallResult.MACHINE:
            c[2] += 1

    def reading(self, now: datetime) -> AbandonReading:
        day = now.astimezone(LONDON).date()
        ab, live, machines = self._days.get(day, [0, 0, 0])
        start, end = uk_day_bounds(day)
        fp = amd_estimate(self.amd_false_positive_rate, machines)
        return AbandonReading(UK_DAY, ab + fp, live, start, end)
