"""campaigns/schedule.py: when a campaign's weekly schedule next opens (pure, a fake clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from campaigns import rules
from campaigns.schedule import describe_instant, next_window

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS: dict[str, Any] = {
    "name": "weekdays",
    "caller_id": "+861012345678",
    "timezone": "Asia/Shanghai",
    "schedule": {d: ["09:00-12:00", "13:30-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def spec(**over: Any) -> rules.CampaignSpec:
    return rules.parse_campaign({**WEEKDAYS, **over})


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_friday_evening_opens_monday_morning() -> None:
    friday_evening = local(2026, 12, 4, 19, 0)  # a Friday
    opens = next_window(spec(), friday_evening.astimezone(UTC))
    assert opens == local(2026, 12, 7, 9, 0)
    assert opens is not None and opens.tzinfo is not None
    assert describe_instant(opens, friday_evening, "Asia/Shanghai") == "Mon 09:00 Asia/Shanghai"


def test_lunch_break_opens_the_afternoon_span() -> None:
    assert next_window(spec(), local(2026, 12, 8, 12, 0)) == local(2026, 12, 8, 13, 30)
    assert next_window(spec(), local(2026, 12, 8, 8, 59)) == local(2026, 12, 8, 9, 0)


def test_inside_the_schedule_is_now() -> None:
    now = local(2026, 12, 8, 10, 15)
    assert next_window(spec(), now) == now


def test_active_dates_bound_the_window() -> None:
    later = spec(active_from="2027-01-06")  # a Wednesday
    assert next_window(later, local(2026, 12, 8, 10, 0)) == local(2027, 1, 6, 9, 0)
    text = describe_instant(local(2027, 1, 6, 9, 0), local(2026, 12, 8, 10, 0), "Asia/Shanghai")
    assert text == "Wed 2027-01-06 09:00 Asia/Shanghai"
    over = spec(active_until="2026-12-04")
    assert next_window(over, local(2026, 12, 4, 19, 0)) is None


def test_no_weekly_schedule_opens_at_the_start_date() -> None:
    s = rules.parse_campaign({**WEEKDAYS, "schedule": {}, "active_from": "2026-12-10"})
    assert next_window(s, local(2026, 12, 8, 10, 0)) == local(2026, 12, 10, 0, 0)


def test_zone_of_the_campaign_not_of_the_caller() -> None:
    s = spec(timezone="Europe/London")
    # Monday 08:00 in London is 16:00 in Shanghai: London's window opens at 09:00 London
    now = datetime(2026, 12, 7, 8, 0, tzinfo=ZoneInfo("Europe/London"))
    opens = next_window(s, now.astimezone(SH))
    assert opens == datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert opens is not None and describe_instant(opens, now, "Europe/London").endswith(
        "09:00 Europe/London"
    )


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    )
)
def test_the_next_window_is_inside_and_nothing_earlier_is(now: datetime) -> None:
    s = spec(active_from=date(2026, 6, 1).isoformat())
    opens = next_window(s, now)
    assert opens is not None and opens >= now and rules.in_schedule(s, opens)
    probe = now  # every quarter hour before the opening is outside (spans are on :00/:30)
    while probe + timedelta(minutes=15) < opens:
        probe += timedelta(minutes=15)
        assert not rules.in_schedule(s, probe)
