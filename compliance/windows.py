"""Calling windows at the dial instant, in every candidate zone (rules 1, 14-17, 28, 32, 33, 35).

Pure: the instant comes in as an aware datetime, nothing reads the clock. A call is allowed
only if every candidate zone's local wall time lies inside every applicable window for that
zone's local date (rule 33); an unknown zone, ``Etc/Unknown`` or an empty zone set blocks
(rule 32). Windows are half-open ``[start, end)`` in seconds of the local day, so 20:59:59 is
inside a 21:00 end and 21:00:00 is not (rule 1).

Holidays (rule 35) come from the ``holidays`` package (pure data) plus explicit dates held
in the profile; a holiday either closes the day or replaces its window.

Known limit: an allowed period that *reopens* because the wall clock jumps back at a
fall-back transition (only possible for windows ending between 01:00 and 02:00) is not
found by ``next_allowed``; it then answers a later opening, which is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg

#: ``(start, end)`` seconds of the local day, half-open.
Window = tuple[int, int]
#: Monday..Sunday; ``None`` means closed all day.
WeeklyWindows = tuple[
    Window | None,
    Window | None,
    Window | None,
    Window | None,
    Window | None,
    Window | None,
    Window | None,
]

UNKNOWN_ZONE = "Etc/Unknown"
DAY = 86_400


def daily(start: int, end: int) -> WeeklyWindows:
    """The same window every day of the week."""
    w: Window = (start, end)
    return (w, w, w, w, w, w, w)


def hhmm(text: str) -> int:
    """``"08:00"`` -> seconds of day; ``"24:00"`` is allowed as an end."""
    hours, _, minutes = text.partition(":")
    return int(hours) * 3600 + int(minutes) * 60


@dataclass(frozen=True)
class HolidayCalendar:
    """Quiet days of one jurisdiction (rule 35).

    ``country``/``subdiv`` select a ``holidays`` calendar (``observed`` applies its
    weekend-shift rule); ``extra`` adds dates by hand. On a holiday the day's window is
    ``window`` (``None`` = closed).
    """

    rule: str
    country: str | None
    subdiv: str | None = None
    observed: bool = True
    window: Window | None = None
    extra: tuple[tuple[date, Window | None], ...] = ()

    def on(self, day: date) -> tuple[bool, Window | None]:
        """(is a holiday, the window that replaces the normal one)."""
        for d, w in self.extra:
            if d == day:
                return True, w
        if self.country and day in _holiday_dates(
            self.country, self.subdiv, day.year, self.observed
        ):
            return True, self.window
        return False, None


@lru_cache(maxsize=512)
def _holiday_dates(country: str, subdiv: str | None, year: int, observed: bool) -> frozenset[date]:
    cal = holidays_pkg.country_holidays(country, subdiv=subdiv, years=year, observed=observed)
    return frozenset(cal.keys())


@dataclass(frozen=True, eq=False)  # identity hash: cheap cache keys on the hot path
class HoursRule:
    """One source of hours: a profile's window (``rule``) and its quiet days."""

    rule: str
    weekly: WeeklyWindows
    holidays: HolidayCalendar | None = None

    def window_on(self, day: date) -> tuple[Window | None, bool]:
        """(window for that local date, whether a holiday decided it)."""
        if self.holidays is not None:
            is_holiday, w = self.holidays.on(day)
            if is_holiday:
                return _clip(w, self.weekly[day.weekday()]), True
        return self.weekly[day.weekday()], False


def _clip(a: Window | None, b: Window | None) -> Window | None:
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def intersect(a: WeeklyWindows, b: WeeklyWindows) -> WeeklyWindows:
    """Day-by-day intersection: never wider than either input."""
    d = [_clip(x, y) for x, y in zip(a, b, strict=True)]
    return (d[0], d[1], d[2], d[3], d[4], d[5], d[6])


def within(inner: WeeklyWindows, outer: WeeklyWindows) -> bool:
    """True if ``inner`` allows nothing ``outer`` forbids."""
    for i, o in zip(inner, outer, strict=True):
        if i is None:
            continue
        if o is None or i[0] < o[0] or i[1] > o[1]:
            return False
    return True


@lru_cache(maxsize=1024)
def zone(key: str) -> ZoneInfo | None:
    """The ZoneInfo for an IANA key, or ``None`` when unknown (which blocks, rule 32)."""
    if not key or key == UNKNOWN_ZONE:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65_536)
def combined_window(rules: tuple[HoursRule, ...], day: date) -> Window | None:
    """Intersection of every rule's window on a local date (cached per rule set and day)."""
    out: Window | None = (0, DAY)
    for r in rules:
        out = _clip(out, r.window_on(day)[0])
    return out


@dataclass(frozen=True)
class HoursBlock:
    rule: str
    holiday: bool
    zone: str


@dataclass(frozen=True)
class WindowResult:
    allowed: bool
    blocks: tuple[HoursBlock, ...]
    local_times: tuple[tuple[str, str], ...] = field(default=())


def _tod(local: datetime) -> int:
    return local.hour * 3600 + local.minute * 60 + local.second


def evaluate(rules: tuple[HoursRule, ...], zones: Sequence[str], at: datetime) -> WindowResult:
    """Is ``at`` inside every rule's window in every zone? Reasons per rule and zone."""
    if not zones:
        return WindowResult(False, (HoursBlock("rule-33", False, ""),))
    blocks: list[HoursBlock] = []
    local_times: list[tuple[str, str]] = []
    for key in zones:
        tz = zone(key)
        if tz is None:
            blocks.append(HoursBlock("rule-32", False, key))
            local_times.append((key, ""))
            continue
        local = at.astimezone(tz)
        local_times.append((key, local.isoformat()))
        day, tod = local.date(), _tod(local)
        w = combined_window(rules, day)
        if w is not None and w[0] <= tod < w[1]:
            continue
        for r in rules:  # slow path only when blocked: name every rule that objects
            rw, by_holiday = r.window_on(day)
            if rw is None or not rw[0] <= tod < rw[1]:
                code = r.holidays.rule if by_holiday and r.holidays else r.rule
                blocks.append(HoursBlock(code, by_holiday, key))
    if blocks and (len(zones) > 1 or any(b.rule == "rule-32" for b in blocks)):
        blocks.append(HoursBlock("rule-33", False, ""))
    return WindowResult(not blocks, tuple(blocks), tuple(local_times))


def _allowed_in(rules: tuple[HoursRule, ...], tz: ZoneInfo, u: datetime) -> bool:
    local = u.astimezone(tz)
    w = combined_window(rules, local.date())
    return w is not None and w[0] <= _tod(local) < w[1]


def _opening_on(
    rules: tuple[HoursRule, ...], tz: ZoneInfo, day: date, start: int, after: datetime
) -> datetime | None:
    """Earliest instant > ``after`` on local ``day`` when the wall clock reaches ``start``."""
    wall = datetime.combine(day, time(start // 3600, start % 3600 // 60, start % 60))
    u0 = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    u1 = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if u0 > u1:  # start falls in a spring-forward gap: opening is the transition itself
        lo, hi = int(u1.timestamp()), int(u0.timestamp())
        while lo < hi:
            mid = (lo + hi) // 2
            if _allowed_in(rules, tz, datetime.fromtimestamp(mid, UTC)):
                hi = mid
            else:
                lo = mid + 1
        u0 = u1 = datetime.fromtimestamp(lo, UTC)
    for cand in sorted((u0, u1)):
        if cand > after and _allowed_in(rules, tz, cand):
            return cand
    return None


def next_opening(
    rules: tuple[HoursRule, ...], tz: ZoneInfo, after: datetime, horizon_days: int
) -> datetime | None:
    """Earliest instant > ``after`` at which this zone allows a call."""
    first = after.astimezone(tz).date()
    for i in range(horizon_days + 1):
        day = first + timedelta(days=i)
        w = combined_window(rules, day)
        if w is None:
            continue
        cand = _opening_on(rules, tz, day, w[0], after)
        if cand is not None:
            return cand
    return None


def next_allowed(
    rules: tuple[HoursRule, ...], zones: Iterable[str], start: datetime, horizon_days: int = 400
) -> datetime | None:
    """First instant >= ``start`` allowed in every zone, or ``None`` (unknown zone, none soon).

    Each step jumps to the next opening of a zone that blocks; everything skipped was
    blocked by that zone, so the first instant every zone allows is never passed over.
    """
    tzs: list[ZoneInfo] = []
    for key in zones:
        tz = zone(key)
        if tz is None:
            return None
        tzs.append(tz)
    if not tzs:
        return None
    u = start.astimezone(UTC)
    limit = u + timedelta(days=horizon_days)
    while u <= limit:
        blocker = next((tz for tz in tzs if not _allowed_in(rules, tz, u)), None)
        if blocker is None:
            return u
        nxt = next_opening(rules, blocker, u, horizon_days)
        if nxt is None:
            return None
        u = nxt
    return None
