"""dialer/why.py: "why is it not dialing?" in a manager's words (pure, a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns import rules
from dialer.why import NextDue, idle_reason

SH = ZoneInfo("Asia/Shanghai")
SPEC = rules.parse_campaign(
    {
        "name": "weekdays",
        "caller_id": "+861012345678",
        "timezone": "Asia/Shanghai",
        "schedule": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
)
SATURDAY = datetime(2026, 12, 5, 11, 0, tzinfo=SH)
TUESDAY = datetime(2026, 12, 8, 10, 0, tzinfo=SH)


def test_outside_the_schedule_names_the_next_window_and_zone() -> None:
    idle = idle_reason(SPEC, SATURDAY.astimezone(UTC), due_now=5, remaining=5, next_due=None)
    assert idle is not None and idle.code == "outside_schedule"
    assert idle.message == "outside the schedule — next window Mon 09:00 Asia/Shanghai"
    assert idle.until == datetime(2026, 12, 7, 9, 0, tzinfo=SH)


def test_nothing_due_names_the_next_record_in_the_campaign_zone() -> None:
    due = NextDue(datetime(2026, 12, 8, 1, 0, tzinfo=UTC), "callback")  # 09:00 in Shanghai
    idle = idle_reason(
        SPEC, datetime(2026, 12, 7, 9, 30, tzinfo=SH), due_now=0, remaining=3, next_due=due
    )
    assert idle is not None and idle.code == "nothing_due"
    assert idle.message == "nothing due — next record due 2026-12-08 09:00 Asia/Shanghai (callback)"


def test_dialing_when_inside_with_records_due() -> None:
    assert idle_reason(SPEC, TUESDAY, due_now=1, remaining=4, next_due=None) is None


def test_nothing_due_and_nothing_waiting_says_so() -> None:
    idle = idle_reason(SPEC, TUESDAY, due_now=0, remaining=2, next_due=None)
    assert idle is not None and "waiting for a disposition" in idle.message
    done = idle_reason(SPEC, SATURDAY, due_now=0, remaining=0, next_due=None)
    assert done is not None and done.code == "finished"
