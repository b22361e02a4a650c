"""campaigns/callback_times.py: legal callback instants, refusals, moving to the team (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import callback_times
from campaigns.errors import CallbackRefused

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def test_callback_inside_hours_is_planned_in_utc() -> None:
    plan = callback_times.plan_callback(
        datetime(2026, 3, 3, 10, 30), "Asia/Shanghai", [], (9 * 3600, 20 * 3600), T0
    )
    assert plan.due_at == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    assert plan.local_time == "2026-03-03T10:30"


def test_callback_outside_hours_is_refused_with_next_legal_time() -> None:
    with pytest.raises(CallbackRefused) as info:
        callback_times.plan_callback(
            datetime(2026, 3, 3, 21, 0), "Asia/Shanghai", [], (9 * 3600, 20 * 3600), T0
        )
    assert info.value.fields["next_legal"] == "2026-03-04T09:00:00"


def test_callback_blocked_by_another_candidate_zone_rule_33() -> None:
    window = (8 * 3600, 21 * 3600)
    with pytest.raises(CallbackRefused) as info:  # 08:30 New York is 07:30 Chicago
        callback_times.plan_callback(
            datetime(2026, 3, 3, 8, 30), "America/New_York", ["America/Chicago"], window, T0
        )
    assert info.value.fields["next_legal"] == "2026-03-03T09:00:00"


def test_callback_in_the_past_or_a_dst_gap_is_refused() -> None:
    with pytest.raises(CallbackRefused, match="passed"):
        callback_times.plan_callback(
            datetime(2026, 3, 1, 10, 0), "Asia/Shanghai", [], (0, 86400), T0
        )
    with pytest.raises(CallbackRefused, match="does not exist"):
        callback_times.plan_callback(
            datetime(2026, 3, 8, 2, 30), "America/New_York", [], (0, 86400), T0
        )


def test_zones_without_a_common_window_have_no_legal_time() -> None:
    # after 8 March Chicago (UTC-5) 09-20 and Shanghai (UTC+8) 09-20 never overlap
    later = datetime(2026, 3, 10, tzinfo=UTC)
    assert (
        callback_times.next_legal_time(
            ["Asia/Shanghai", "America/Chicago"], (9 * 3600, 20 * 3600), later
        )
        is None
    )


def test_unknown_zone_never_legal() -> None:
    assert callback_times.next_legal_time(["Etc/Unknown"], (0, 86400), T0) is None
    assert callback_times.next_legal_time([], (0, 86400), T0) is None


@given(
    st.integers(0, 86400 * 7),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]),
)
def test_next_legal_time_is_inside_the_window_and_not_before(offset: int, zone: str) -> None:
    at = T0 + timedelta(seconds=offset)
    got = callback_times.next_legal_time([zone, "Europe/Paris"], (9 * 3600, 20 * 3600), at)
    assert got is not None and at <= got <= at + timedelta(days=1)
    for z in (zone, "Europe/Paris"):
        local = got.astimezone(ZoneInfo(z))
        assert 9 <= local.hour < 20


def test_personal_callback_moves_to_team_after_delay() -> None:
    due = T0
    assert not callback_times.moves_to_team(
        "agent", "pending", due, due + timedelta(minutes=14), 15
    )
    assert callback_times.moves_to_team("agent", "pending", due, due + timedelta(minutes=15), 15)
    assert not callback_times.moves_to_team("team", "pending", due, due + timedelta(hours=5), 15)
    assert not callback_times.moves_to_team("agent", "done", due, due + timedelta(hours=5), 15)


def test_a_team_callback_is_held_for_its_team_while_one_of_it_is_signed_in() -> None:
    """campaigns/callback_times.py team_callback_holder: team A holds its callback while an
    A agent is signed in, until the grace after its time; with none signed in, or a callback
    of no team, any agent of the campaign takes it."""
    from campaigns.callback_times import TeamsOnline, team_callback_holder, team_callback_offered

    due = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    a_busy = TeamsOnline(signed_in=frozenset({"A", "B"}), ready=frozenset({"B"}), grace_min=15)
    a_ready = TeamsOnline(signed_in=frozenset({"A", "B"}), ready=frozenset({"A"}), grace_min=15)
    no_a = TeamsOnline(signed_in=frozenset({"B"}), ready=frozenset({"B"}), grace_min=15)
    at = due + timedelta(minutes=5)
    assert team_callback_holder("A", due, at, a_busy) == "A"
    assert not team_callback_offered("A", due, at, a_busy)  # B is ready but must not take it
    assert team_callback_offered("A", due, at, a_ready)
    assert team_callback_holder("A", due, at, no_a) is None  # nobody of A signed in: anyone
    assert team_callback_offered("A", due, at, no_a)
    later = due + timedelta(minutes=15)  # the grace is over: the promise beats the team
    assert team_callback_holder("A", due, later - timedelta(seconds=1), a_busy) == "A"
    assert team_callback_holder("A", due, later, a_busy) is None
    assert team_callback_holder("", due, at, a_busy) is None
    assert team_callback_holder(None, due, at, a_busy) is None
