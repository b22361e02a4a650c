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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


def uk_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight in Europe/London (23 or 25 hours on clock-change days)."""
    start = datetime(day.year, day.month, day.day, tzinfo=LONDON)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=LONDON)


def uk_reading(
    events: Iterable[CallEvent], now: datetime, amd_false_positive_rate: float = 0.0
) -> AbandonReading:
    """Today's (Europe/London) gauge with the rule 19 AMD false-positive estimate added."""
    start, end = uk_day_bounds(now.astimezone(LONDON).date())
    ab, live, machines = _counts(e for e in events if start <= e.at < end)
    return AbandonReading(UK_DAY, ab + round(amd_false_positive_rate * machines), live, start, end)


class UsGauge:
    """Incremental form of ``us_readings``: add events as they happen, read at any instant.

    Keeps the last 30 days of answered calls sorted, plus running totals for the current
    bucket; memory is bounded by one month of answered calls.
    """

    def __init__(self, campaign_start: datetime) -> None:
        self.campaign_start = campaign_start
        self._times: list[float] = []  # answered-live instants, sorted
        self._abandoned: list[int] = []  # prefix sums of abandoned flags, aligned with _times
        self._bucket_start = campaign_start
        self._bucket: list[tuple[float, bool]] = []

    def add(self, event: CallEvent) -> None:
        if event.result not in (CallResult.LIVE, CallResult.ABANDONED):
            return
        t = event.at.timestamp()
        i = bisect.bisect_right(self._times, t)
        self._times.insert(i, t)
        flag = 1 if event.result is CallResult.ABANDONED else 0
        before = self._abandoned[i - 1] if i else 0
        self._abandoned.insert(i, before + flag)
        for j in range(i + 1, len(self._abandoned)):
            self._abandoned[j] += flag

    def _range(self, lo: float, hi: float, lo_open: bool) -> tuple[int, int]:
        a = (bisect.bisect_right if lo_open else bisect.bisect_left)(self._times, lo)
        b = bisect.bisect_right(self._times, hi)
        if b <= a:
            return 0, 0
        ab = self._abandoned[b - 1] - (self._abandoned[a - 1] if a else 0)
        return ab, b - a

    def readings(self, now: datetime) -> tuple[AbandonReading, AbandonReading]:
        b0, b1 = us_bucket_bounds(self.campaign_start, now)
        n = now.timestamp()
        ab, live = self._range(b0.timestamp(), min(n, b1.timestamp() - 1e-6), lo_open=False)
        r0 = now - THIRTY_DAYS
        rab, rlive = self._range(r0.timestamp(), n, lo_open=True)
        self._prune(min(b0, r0).timestamp())
        return (
            AbandonReading(US_BUCKET, ab, live, b0, b1),
            AbandonReading(US_ROLLING, rab, rlive, r0, now),
        )

    def _prune(self, before: float) -> None:
        k = bisect.bisect_left(self._times, before)
        if k:
            drop = self._abandoned[k - 1]
            del self._times[:k]
            del self._abandoned[:k]
            self._abandoned = [x - drop for x in self._abandoned]
