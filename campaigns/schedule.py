"""When a campaign's weekly schedule next opens, pure ("why is it not dialing?", issue 16).

:func:`campaigns.rules.in_schedule` says whether a campaign may dial at an instant; this
module says when it next may, so a manager reads "outside the schedule — next window Mon
09:00 Asia/Shanghai" instead of silence. Every instant is an aware datetime passed in; the
answer is an aware datetime in the campaign's zone (``spec.timezone``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.rules import CampaignSpec, in_schedule

#: a weekly schedule repeats; past the active start date one week (and a day for spans
#: that already began today) is enough to find the next opening
_LOOKAHEAD_DAYS = 8


def _at(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    """Local wall time ``seconds`` after midnight of ``day`` (24:00 is the next midnight)."""
    if seconds >= 24 * 3600:
        return datetime.combine(day + timedelta(days=1), time(), zone)
    return datetime.combine(day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60), zone)


def next_window(spec: CampaignSpec, now: datetime) -> datetime | None:
    """The start of the campaign's next dialing window after ``now``, in its zone.

    ``now`` itself when the campaign is inside its schedule; None when it never opens again
    (past ``active_until``, or a schedule with no span on any active day).
    """
    if in_schedule(spec, now):
        return now.astimezone(ZoneInfo(spec.timezone))
    zone = ZoneInfo(spec.timezone)
    local = now.astimezone(zone)
    first = local.date()
    if spec.active_from is not None and spec.active_from > first:
        first = spec.active_from
    weekly = any(spec.schedule)
    for offset in range(_LOOKAHEAD_DAYS):
        day = first + timedelta(days=offset)
        if spec.active_until is not None and day > spec.active_until:
            return None
        starts = (
            [start for start, _ in spec.schedule[day.weekday()]] if weekly else [0]  # all day
        )
        for start in sorted(starts):
            candidate = _at(day, start, zone)
            if candidate > local and in_schedule(spec, candidate):
                return candidate
    return None


def describe_instant(at: datetime, now: datetime, zone: str) -> str:
    """``Mon 09:00 Asia/Shanghai`` within the coming week, else with the date."""
    local, today = at.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone)).date()
    day = local.strftime("%a")
    if (local.date() - today).days >= 6:
        day = f"{day} {local.date().isoformat()}"
    return f"{day} {local:%H:%M} {zone}"
