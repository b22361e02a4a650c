"""Why a campaign is not dialing, in a manager's words (issue 16 item 6). Pure.

The pacer explains its own decisions ("place 0: no agent is ready"); before the pacer is
even asked, two plain facts stop a campaign and used to go unsaid: it is outside its weekly
schedule, or no record is due yet. Times are shown in the campaign's zone, with the zone
named, as a manager in that zone reads a wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.rules import CampaignSpec, in_schedule
from campaigns.schedule import describe_instant, next_window


@dataclass(frozen=True)
class NextDue:
    """The earliest record waiting for its time: ``kind`` is callback, retry or new."""

    at: datetime
    kind: str


@dataclass(frozen=True)
class Idle:
    """Why nothing is dialed now; ``until`` is when that changes (None: never by itself)."""

    code: str  # outside_schedule, nothing_due, finished
    message: str
    until: datetime | None = None


def idle_reason(
    spec: CampaignSpec,
    now: datetime,
    *,
    due_now: int,
    remaining: int,
    next_due: NextDue | None,
) -> Idle | None:
    """None when the campaign has records it may dial now (the pacer decides how many)."""
    zone = spec.timezone
    if remaining == 0:
        return Idle("finished", "nothing left to call — every record is finished")
    if not in_schedule(spec, now):
        opens = next_window(spec, now)
        if opens is None:
            return Idle("outside_schedule", "outside the schedule — it does not open again")
        when = describe_instant(opens, now, zone)
        return Idle("outside_schedule", f"outside the schedule — next window {when}", opens)
    if due_now > 0:
        return None
    if next_due is None:
        return Idle(
            "nothing_due",
            "nothing due — every remaining record is in a call or waiting for a disposition",
        )
    local = next_due.at.astimezone(ZoneInfo(zone))
    return Idle(
        "nothing_due",
        f"nothing due — next record due {local:%Y-%m-%d %H:%M} {zone} ({next_due.kind})",
        local,
    )


def idle_json(idle: Idle | None) -> dict[str, object] | None:
    if idle is None:
        return None
    return {
        "code": idle.code,
        "message": idle.message,
        "until": idle.until.isoformat() if idle.until else None,
    }
