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
from dataclasses import dataclass
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
    """One rule that forbids the instant, with the zones where it does."""

    rule: str
    holiday: bool
    zones: tuple[str, ...]


@dataclass(frozen=True)
class WindowResult:
    allowed: bool
    blocks: tuple[HoursBlock, ...]


def local_times(zones: Sequence[str], at: datetime) -> tuple[tuple[str, str], ...]:
    """ISO local time of ``at`` in each zone ("" when the zone is unknown), for audit rows."""
    out: list[tuple[str, str]] = []
    for key in zones:
        tz = zone(key)
        out.append((key, at.astimezone(tz).isoformat() if tz is not None else ""))
    return tuple(out)


# Hot-path caches. Window tables are per (rule set, local day); UTC offsets per (zone, UTC
# hour), kept only for hours without a transition, so wall time = UTC + offset is exact.
_EPOCH = date(1970, 1, 1)
_OFFSETS: dict[tuple[str, int], int | None] = {}
_DAY_WINDOWS: dict[tuple[tuple[HoursRule, ...], int], Window | None] = {}
_CACHE_LIMIT = 500_000


def _hour_offset(tz: ZoneInfo, hour: int) -> int | None:
    a = datetime.fromtimestamp(hour * 3600, tz).utcoffset()
    b = datetime.fromtimestamp(hour * 3600 + 3599, tz).utcoffset()
    return int(a.total_seconds()) if a is not None and a == b else None


def _wall(key: str, tz: ZoneInfo, ts: float) -> tuple[int, int]:
    """(local day number since 1970-01-01, local second of day) of instant ``ts``."""
    hour = int(ts // 3600)
    k = (key, hour)
    try:
        off = _OFFSETS[k]
    except KeyError:
        if len(_OFFSETS) > _CACHE_LIMIT:
            _OFFSETS.clear()
        off = _OFFSETS[k] = _hour_offset(tz, hour)
    if off is None:  # a transition inside this hour: ask zoneinfo for this very instant
        delta = datetime.fromtimestamp(ts, tz).utcoffset()
        off = int(delta.total_seconds()) if delta is not None else 0
    return divmod(int(ts // 1) + off, 86_400)


def _day_window(rules: tuple[HoursRule, ...], day: int) -> Window | None:
    k = (rules, day)
    try:
        return _DAY_WINDOWS[k]
    except KeyError:
        if len(_DAY_WINDOWS) > _CACHE_LIMIT:
            _DAY_WINDOWS.clear()
        w = _DAY_WINDOWS[k] = combined_window(rules, _EPOCH + timedelta(days=day))
        return w


_RULE_WINDOWS: dict[tuple[tuple[HoursRule, ...], int], tuple[tuple[str, bool, Window | None], ...]]
_RULE_WINDOWS = {}


def _rule_windows(
    rules: tuple[HoursRule, ...], day: int
) -> tuple[tuple[str, bool, Window | None], ...]:
    """(code, decided by a holiday, window) per rule on a local day; for naming blockers."""
    k = (rules, day)
    out = _RULE_WINDOWS.get(k)
    if out is None:
        if len(_RULE_WINDOWS) > _CACHE_LIMIT:
            _RULE_WINDOWS.clear()
        local_day = _EPOCH + timedelta(days=day)
        rows = []
        for r in rules:
            w, by_holiday = r.window_on(local_day)
            code = r.holidays.rule if by_holiday and r.holidays else r.rule
            rows.append((code, by_holiday, w))
        out = _RULE_WINDOWS[k] = tuple(rows)
    return out


@lru_cache(maxsize=4096)
def _zone_list(zones: tuple[str, ...]) -> tuple[tuple[str, ZoneInfo | None], ...]:
    return tuple((key, zone(key)) for key in zones)


def evaluate(rules: tuple[HoursRule, ...], zones: Sequence[str], at: datetime) -> WindowResult:
    """Is ``at`` inside every rule's window in every zone? Reasons per rule, with zones."""
    if not zones:
        return WindowResult(False, (HoursBlock("rule-33", False, ()),))
    found: dict[tuple[str, bool], list[str]] = {}
    ts = at.timestamp()
    for key, tz in _zone_list(zones if isinstance(zones, tuple) else tuple(zones)):
        if tz is None:
            found.setdefault(("rule-32", False), []).append(key)
            continue
        day, tod = _wall(key, tz, ts)
        w = _day_window(rules, day)
        if w is not None and w[0] <= tod < w[1]:
            continue
        for code, by_holiday, rw in _rule_windows(rules, day):  # name every rule that objects
            if rw is None or not rw[0] <= tod < rw[1]:
                found.setdefault((code, by_holiday), []).append(key)
    if not found:
        return WindowResult(True, ())
    blocks = [HoursBlock(code, hol, tuple(zs)) for (code, hol), zs in found.items()]
    if len(zones) > 1 or ("rule-32", False) in found:
        blocks.append(HoursBlock("rule-33", False, ()))
    return WindowResult(False, tuple(blocks))


def _allowed_at(rules: tuple[HoursRule, ...], key: str, tz: ZoneInfo, ts: float) -> bool:
    day, tod = _wall(key, tz, ts)
    w = _day_window(rules, day)
    return w is not None and w[0] <= tod < w[1]


_OPENINGS: dict[tuple[tuple[HoursRule, ...], str, int], tuple[float, ...]] = {}


def _openings(rules: tuple[HoursRule, ...], key: str, tz: ZoneInfo, day: int) -> tuple[float, ...]:
    """Instants (UTC seconds) on local ``day`` at which the zone's window opens; cached.

    Usually one; two when the start wall time repeats at a fall-back; a start inside a
    spring-forward gap opens at the transition itself (first instant with wall >= start).
    """
    k = (rules, key, day)
    cached = _OPENINGS.get(k)
    if cached is not None:
        return cached
    if len(_OPENINGS) > _CACHE_LIMIT:
        _OPENINGS.clear()
    w = _day_window(rules, day)
    out: tuple[float, ...] = ()
    if w is not None:
        local_day = _EPOCH + timedelta(days=day)
        wall = datetime.combine(local_day, time(w[0] // 3600, w[0] % 3600 // 60, w[0] % 60))
        u0 = wall.replace(tzinfo=tz, fold=0).timestamp()
        u1 = wall.replace(tzinfo=tz, fold=1).timestamp()
        if u0 > u1:  # in a gap: bisect for the transition
            lo, hi = int(u1), int(u0)
            while lo < hi:
                mid = (lo + hi) // 2
                if _allowed_at(rules, key, tz, mid):
                    hi = mid
                else:
                    lo = mid + 1
            u0 = u1 = float(lo)
        out = tuple(sorted({u for u in (u0, u1) if _allowed_at(rules, key, tz, u)}))
    _OPENINGS[k] = out
    return out


def next_opening(
    rules: tuple[HoursRule, ...], key: str, tz: ZoneInfo, after: float, horizon_days: int
) -> float | None:
    """Earliest instant > ``after`` (UTC seconds) at which this zone allows a call."""
    first, _ = _wall(key, tz, after)
    for day in range(first, first + horizon_days + 1):
        for cand in _openings(rules, key, tz, day):
            if cand > after:
                return cand
    return None


#: per (rules, zones): spans [u, v) known to be blocked everywhere up to v, the answer for
#: any start inside. Exact: next_allowed only ever skips instants some zone blocks.
_BLOCKED: dict[tuple[tuple[HoursRule, ...], tuple[str, ...]], list[tuple[float, float]]] = {}
_SPANS_PER_KEY = 32


def next_allowed(
    rules: tuple[HoursRule, ...], zones: Iterable[str], start: datetime, horizon_days: int = 400
) -> datetime | None:
    """First instant >= ``start`` allowed in every zone, or ``None`` (unknown zone, none soon).

    Each step jumps to the latest of the blocking zones' next openings: every zone that
    blocks at ``u`` blocks until its own next opening, so no common instant is passed over.
    """
    zone_keys = tuple(zones)
    tzs = _zone_list(zone_keys)
    if not tzs or any(tz is None for _, tz in tzs):
        return None
    u = start.timestamp()
    cache_key = (rules, zone_keys)
    spans = _BLOCKED.get(cache_key)
    if spans:
        for a, b in spans:
            if a <= u < b:
                return datetime.fromtimestamp(b, UTC)
    first, limit, moved = u, u + horizon_days * 86_400, False
    while u <= limit:
        jump = u
        for key, tz in tzs:
            if tz is not None and not _allowed_at(rules, key, tz, u):
                nxt = next_opening(rules, key, tz, u, horizon_days)
                if nxt is None:
                    return None
                jump = max(jump, nxt)
        if jump == u:
            if not moved:
                return start.astimezone(UTC)
            if len(_BLOCKED) > _CACHE_LIMIT // _SPANS_PER_KEY:
                _BLOCKED.clear()
            spans = _BLOCKED.setdefault(cache_key, [])
            spans.append((first, u))
            del spans[:-_SPANS_PER_KEY]
            return datetime.fromtimestamp(u, UTC)
        u, moved = jump, True
    return None
