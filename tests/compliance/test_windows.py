"""Calling windows: rules 1, 14-17, 28, 32, 33 (hours and zones) and rule 35 (holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.windows import (
    HolidayCalendar,
    HoursRule,
    daily,
    evaluate,
    hhmm,
    local_times,
    next_allowed,
)

NY, CHI, LA, LON = "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"
US = HoursRule("rule-1", daily(hhmm("08:00"), hhmm("21:00")))
FL = HoursRule("rule-14", daily(hhmm("08:00"), hhmm("20:00")))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_rule_1_call_may_start_at_205959_but_not_at_210000() -> None:
    # 2026-11-23 is EST (UTC-5): 21:00 local = 02:00Z next day
    assert evaluate((US,), [NY], utc("2026-11-24T01:59:59")).allowed
    res = evaluate((US,), [NY], utc("2026-11-24T02:00:00"))
    assert not res.allowed
    assert [b.rule for b in res.blocks] == ["rule-1"]


def test_rule_1_window_opens_at_0800_not_075959() -> None:
    assert not evaluate((US,), [NY], utc("2026-11-23T12:59:59")).allowed
    assert evaluate((US,), [NY], utc("2026-11-23T13:00:00")).allowed


def test_rule_33_example_new_york_and_chicago_at_0830_eastern_is_blocked() -> None:
    at = utc("2026-11-23T13:30:00")  # 08:30 ET, 07:30 CT
    res = evaluate((US,), [NY, CHI], at)
    assert not res.allowed
    assert {(b.rule, b.zones) for b in res.blocks} == {("rule-1", (CHI,)), ("rule-33", ())}
    assert dict(local_times([NY, CHI], at))[CHI].startswith("2026-11-23T07:30")
    # both allow from 08:00 CT = 09:00 ET
    assert next_allowed((US,), [NY, CHI], at) == utc("2026-11-23T14:00:00")


def test_rule_32_unknown_or_empty_zone_set_blocks_and_never_opens() -> None:
    at = utc("2026-11-23T16:00:00")
    for zones in (["Etc/Unknown"], [], ["Mars/Olympus_Mons"], [NY, "Etc/Unknown"]):
        assert not evaluate((US,), zones, at).allowed
        assert next_allowed((US,), zones, at) is None


def test_rules_14_to_16_state_window_ends_at_2000() -> None:
    at = utc("2026-11-24T01:30:00")  # 20:30 ET
    res = evaluate((US, FL), [NY], at)
    assert [b.rule for b in res.blocks] == ["rule-14"]
    assert next_allowed((US, FL), [NY], at) == utc("2026-11-24T13:00:00")


def test_dst_spring_forward_day_opens_at_0800_edt() -> None:
    # 2026-03-08: clocks jump 02:00 EST -> 03:00 EDT; 08:00 EDT = 12:00Z, not 13:00Z
    start = utc("2026-03-08T06:00:00")  # 01:00 EST
    assert next_allowed((US,), [NY], start) == utc("2026-03-08T12:00:00")
    assert not evaluate((US,), [NY], utc("2026-03-08T11:59:59")).allowed


def test_dst_window_starting_inside_the_gap_opens_at_the_transition() -> None:
    # a 02:30 start does not exist on 2026-03-08; the first wall time >= 02:30 is 03:00 EDT
    rule = HoursRule("rule-x", daily(hhmm("02:30"), hhmm("21:00")))
    assert next_allowed((rule,), [NY], utc("2026-03-08T06:00:00")) == utc("2026-03-08T07:00:00")
    assert not evaluate((rule,), [NY], utc("2026-03-08T06:59:59")).allowed


def test_dst_fall_back_hour_uses_the_offset_in_force() -> None:
    # 2026-11-01: 02:00 EDT -> 01:00 EST. 12:30Z is 07:30 EST (blocked); under EDT it
    # would have been 08:30.
    assert not evaluate((US,), [NY], utc("2026-11-01T12:30:00")).allowed
    assert next_allowed((US,), [NY], utc("2026-11-01T05:30:00")) == utc("2026-11-01T13:00:00")


def test_dst_fall_back_repeated_hour_is_judged_by_wall_clock() -> None:
    rule = HoursRule("rule-x", daily(0, hhmm("01:30")))
    assert evaluate((rule,), [NY], utc("2026-11-01T05:10:00")).allowed  # 01:10 EDT
    assert not evaluate((rule,), [NY], utc("2026-11-01T05:45:00")).allowed  # 01:45 EDT
    assert evaluate((rule,), [NY], utc("2026-11-01T06:10:00")).allowed  # 01:10 EST again


def test_dst_london_spring_forward() -> None:
    rule = HoursRule("default-hours-uk", daily(hhmm("08:00"), hhmm("21:00")))
    # 2026-03-29 London goes to BST: 08:00 BST = 07:00Z
    assert next_allowed((rule,), [LON], utc("2026-03-29T00:30:00")) == utc("2026-03-29T07:00:00")


def test_rule_35_holiday_closes_the_day_by_the_zone_local_date() -> None:
    cal = HolidayCalendar("rule-35", "US", "AL")
    al = HoursRule("rule-17", daily(hhmm("08:00"), hhmm("21:00")), cal)
    xmas = utc("2026-12-25T16:00:00")  # 10:00 CT on Christmas Day
    res = evaluate((US, al), [CHI], xmas)
    assert not res.allowed
    assert [(b.rule, b.holiday) for b in res.blocks] == [("rule-35", True)]
    assert next_allowed((US, al), [CHI], xmas) == utc("2026-12-26T14:00:00")


def test_rule_35_observed_holiday_moves_off_the_weekend() -> None:
    cal = HolidayCalendar("rule-35", "US", None, observed=True)
    rule = HoursRule("rule-17", daily(hhmm("08:00"), hhmm("21:00")), cal)
    # 2027-12-25 is a Saturday; observed on Friday 2027-12-24
    assert not evaluate((rule,), [NY], utc("2027-12-24T16:00:00")).allowed
    no_shift = HoursRule("rule-17", rule.weekly, HolidayCalendar("rule-35", "US", observed=False))
    assert evaluate((no_shift,), [NY], utc("2027-12-24T16:00:00")).allowed


def test_rule_35_extra_date_with_reduced_window() -> None:
    cal = HolidayCalendar("rule-35", None, extra=((date(2026, 12, 24), (hhmm("10:00"), 43200)),))
    rule = HoursRule("rule-17", daily(hhmm("08:00"), hhmm("21:00")), cal)
    assert not evaluate((rule,), [NY], utc("2026-12-24T14:30:00")).allowed  # 09:30
    assert evaluate((rule,), [NY], utc("2026-12-24T15:30:00")).allowed  # 10:30
    assert not evaluate((rule,), [NY], utc("2026-12-24T17:00:00")).allowed  # 12:00


def test_rule_17_closed_sunday() -> None:
    days = list(daily(hhmm("08:00"), hhmm("21:00")))
    days[6] = None
    rule = HoursRule("rule-17", (days[0], days[1], days[2], days[3], days[4], days[5], days[6]))
    sunday_noon = utc("2026-11-29T17:00:00")
    assert not evaluate((rule,), [NY], sunday_noon).allowed
    assert next_allowed((rule,), [NY], sunday_noon) == utc("2026-11-30T13:00:00")


ZONES = [NY, CHI, LA, LON, "Asia/Shanghai", "Pacific/Honolulu", "Australia/Lord_Howe"]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
windows = st.tuples(st.integers(0, 86_399), st.integers(1, 86_400)).filter(lambda w: w[0] < w[1])


@settings(max_examples=150, deadline=None)
@given(instants, st.lists(st.sampled_from(ZONES), min_size=1, max_size=3), windows, windows)
def test_rule_33_adding_a_rule_or_zone_never_turns_a_block_into_an_allow(
    at: datetime, zones: list[str], w1: tuple[int, int], w2: tuple[int, int]
) -> None:
    base = (HoursRule("rule-a", daily(*w1)),)
    more = (*base, HoursRule("rule-b", daily(*w2)))
    if not evaluate(base, zones, at).allowed:
        assert not evaluate(more, zones, at).allowed
        assert not evaluate(base, [*zones, NY], at).allowed


@settings(max_examples=100, deadline=None)
@given(instants, st.lists(st.sampled_from(ZONES), min_size=1, max_size=3), windows)
def test_next_allowed_is_allowed_and_nothing_earlier_on_the_minute_grid_is(
    at: datetime, zones: list[str], w: tuple[int, int]
) -> None:
    rules = (HoursRule("rule-a", daily(*w)),)
    nxt = next_allowed(rules, zones, at, horizon_days=3)
    if nxt is None:
        return
    assert nxt >= at
    assert evaluate(rules, zones, nxt).allowed
    probe = at
    while probe < nxt and probe < at + timedelta(hours=30):
        assert not evaluate(rules, zones, probe).allowed
        probe += timedelta(minutes=7)
