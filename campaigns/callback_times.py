"""When a requested callback may ring, and when a missed one moves to the team, pure.

Nothing here reads the clock, sleeps or touches storage: instants come in as aware datetimes
(issue 7). campaigns/callbacks.py (and dialer/agent_ops.py) persist what these decide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.errors import CallbackRefused
from campaigns.rules import Span, format_span, zone_ok

#: given candidate zones, a local window and an instant: the first legal instant >= it, or None
NextLegal = Callable[[Sequence[str], Span, datetime], datetime | None]


def next_legal_time(zones: Sequence[str], window: Span, at: datetime) -> datetime | None:
    """First instant >= ``at`` inside ``window`` local time in every zone (rule 33).

    An empty zone set or an unknown zone answers None (rule 32: block). Implemented here with
    zoneinfo until compliance/windows.py settles its API; same half-open window convention.
    """
    tzs: list[ZoneInfo] = []
    for key in zones:
        if not zone_ok(key) or key == "Etc/Unknown":
            return None
        tzs.append(ZoneInfo(key))
    if not tzs:
        return None
    u = at.astimezone(UTC)
    limit = u + timedelta(days=8)
    while u <= limit:
        blocker = next((tz for tz in tzs if not _inside(window, u.astimezone(tz))), None)
        if blocker is None:
            return u
        u = _next_opening(window, blocker, u)
    return None


def _inside(window: Span, local: datetime) -> bool:
    tod = local.hour * 3600 + local.minute * 60 + local.second
    return window[0] <= tod < window[1]


def _next_opening(window: Span, tz: ZoneInfo, after: datetime) -> datetime:
    day = after.astimezone(tz).date()
    for i in range(3):
        start = time(window[0] // 3600, window[0] % 3600 // 60)
        cand = datetime.combine(day + timedelta(days=i), start, tzinfo=tz).astimezone(UTC)
        if cand > after:
            return cand
    return after + timedelta(days=1)  # unreachable for a valid span; keeps the loop finite


@dataclass(frozen=True)
class CallbackPlan:
    due_at: datetime  # UTC
    customer_zone: str
    local_time: str  # as the customer asked, ISO without offset


def plan_callback(
    local_time: datetime,
    customer_zone: str,
    candidate_zones: Sequence[str],
    window: Span,
    now: datetime,
    legal: NextLegal = next_legal_time,
) -> CallbackPlan:
    """Turn a customer-local time into a due instant, or refuse with the next legal time.

    Requested callbacks still obey the hour rules (rules 1, 14-16, 35); every candidate zone of
    the number counts (rule 33), the customer's own zone among them.
    """
    if not zone_ok(customer_zone):
        raise CallbackRefused(f"unknown time zone {customer_zone!r}", field="zone")
    tz = ZoneInfo(customer_zone)
    naive = local_time.replace(tzinfo=None)
    due = naive.replace(tzinfo=tz).astimezone(UTC)
    if due.astimezone(tz).replace(tzinfo=None) != naive:
        raise CallbackRefused(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {customer_zone} (DST)", field="local_time"
        )
    if due <= now:
        raise CallbackRefused(
            "that time has already passed",
            field="local_time",
            due_at=due.isoformat(),
            reason="past",
        )
    zones = list(dict.fromkeys([customer_zone, *candidate_zones]))
    ok = legal(zones, window, due)
    if ok != due:
        nxt = ok.astimezone(tz).replace(tzinfo=None).isoformat() if ok else None
        hint = f"; the next legal time is {nxt} ({customer_zone})" if nxt else ""
        raise CallbackRefused(
            f"{naive:%Y-%m-%d %H:%M} is outside legal calling hours "
            f"{format_span(window)} in {', '.join(zones)}{hint}",
            next_legal=nxt,
            next_legal_utc=ok.isoformat() if ok else None,
            reason="hours",
            field="local_time",
        )
    return CallbackPlan(due, customer_zone, naive.isoformat(timespec="minutes"))


def moves_to_team(
    owner_kind: str, status: str, due_at: datetime, now: datetime, delay_min: int
) -> bool:
    """A personal callback still open ``delay_min`` minutes after it fell due goes to the team."""
    return (
        owner_kind == "agent"
        and status == "pending"
        and now >= due_at + timedelta(minutes=delay_min)
    )


@dataclass(frozen=True)
class TeamsOnline:
    """Who may take a team callback's record now, as one dialer sees its campaign: the teams
    (users.team) with an agent signed in, those with an agent ready, and the grace (minutes
    after the callback's time) the record waits for its team's agents to come free."""

    signed_in: frozenset[str] = frozenset()
    ready: frozenset[str] = frozenset()
    grace_min: int = 15


def team_callback_holder(
    team: str | None, due_at: datetime, now: datetime, online: TeamsOnline
) -> str | None:
    """The team a due team callback's record is held for now; None: any agent of the campaign.

    A team callback (班组回呼) was promised by an agent of ``team``: while an agent of that
    team is signed in to the campaign, only that team's agents are offered the record (the
    dialer waits for one of them to be ready). What a professional dialer does otherwise
    (chosen here): the customer was promised a time, so when no agent of the team is signed
    in, or the team's agents are all still busy ``grace_min`` minutes after the callback's
    time, any agent of the campaign takes it rather than leaving the promise unkept. A
    callback of no team ("": made by a manager, the CLI, the IVR, an agent in no team) is
    anyone's."""
    if not team or team not in online.signed_in:
        return None
    if now >= due_at + timedelta(minutes=online.grace_min):
        return None
    return team


def team_callback_offered(
    team: str | None, due_at: datetime, now: datetime, online: TeamsOnline
) -> bool:
    """May a dialer hand the record to one of its ready agents now: nobody holds it, or its
    holder (:func:`team_callback_holder`) has an agent ready."""
    holder = team_callback_holder(team, due_at, now, online)
    return holder is None or holder in online.ready
