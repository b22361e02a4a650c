"""campaigns/rules.py: definitions, retries, callbacks, verdicts, webhook schedule (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import rules
from campaigns.errors import CallbackRefused, CampaignInvalid, VerdictInvalid

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
BASE: dict[str, Any] = {"name": "Spring", "caller_id": "+861012345678"}


def test_defaults_match_issue_7() -> None:
    spec = rules.parse_campaign(BASE)
    assert spec.retry.delays == {"busy": 600, "no_answer": 3600, "machine": 14400, "failure": 1800}
    assert spec.retry.max_attempts == 5
    assert {d.code for d in spec.dispositions} >= {"success", "callback", "do_not_call"}
    assert rules.parse_campaign(rules.spec_to_dict(spec)) == spec


def test_every_problem_is_reported_at_once() -> None:
    bad = {
        "name": "",
        "kind": "cold_calls",
        "caller_id": "anonymous",
        "timezone": "Mars/Base",
        "schedule": {"mon": ["25:00-26:00"], "funday": []},
        "retry": {"busy": 0, "ringing": 5},
        "script": "Hello {name",
        "active_from": "2026-05-01",
        "active_until": "2026-04-01",
        "dispositions": [{"code": "cb", "callback": True, "final": True}, {"code": "X"}],
    }
    with pytest.raises(CampaignInvalid) as info:
        rules.parse_campaign(bad)
    problems: Any = info.value.fields["problems"]
    fields = {p["field"] for p in problems}
    assert {"name", "kind", "caller_id", "timezone", "schedule.mon", "schedule"} <= fields
    assert {"retry.busy", "retry.ringing", "script", "active_until"} <= fields
    assert {"dispositions[0]", "dispositions[1]"} <= fields


def test_agentless_only_for_surveys_and_dnc_codes_must_be_final() -> None:
    with pytest.raises(CampaignInvalid, match="agentless"):
        rules.parse_campaign({**BASE, "mode": "agentless"})
    ok = rules.parse_campaign({**BASE, "mode": "agentless", "kind": "satisfaction_survey"})
    assert ok.mode is rules.Mode.AGENTLESS
    with pytest.raises(CampaignInvalid, match="rule 9"):
        rules.parse_campaign(
            {**BASE, "dispositions": [{"code": "stop", "do_not_call": True, "final": False}]}
        )


def test_script_shows_missing_fields_clearly() -> None:
    text, missing = rules.render_script(
        "您好 {name}，订单 {order_id} 地址 {address}", {"name": "王", "address": ""}
    )
    assert text == "您好 王，订单 [missing: order_id] 地址 [missing: address]"
    assert missing == ["order_id", "address"]


def test_schedule_and_active_dates_in_campaign_zone() -> None:
    spec = rules.parse_campaign(
        {
            **BASE,
            "active_from": "2026-03-01",
            "active_until": "2026-03-31",
            "schedule": {"mon": ["09:00-12:00"]},
        }
    )
    assert rules.in_schedule(spec, T0)  # Mon 10:00 local
    assert not rules.in_schedule(spec, T0 + timedelta(hours=3))  # 13:00
    assert not rules.in_schedule(spec, T0 + timedelta(days=1))  # Tuesday: no spans
    assert not rules.in_schedule(spec, T0 + timedelta(days=35))  # after active_until


@pytest.mark.parametrize(
    ("outcome", "attempts", "delay", "reason"),
    [
        ("busy", 1, 600, "retry"),
        ("no_answer", 2, 3600, "retry"),
        ("machine", 4, 14400, "retry"),
        ("failure", 1, 1800, "retry"),
        ("busy", 5, None, "max_attempts"),
        ("answered", 1, None, "not_retryable"),
    ],
)
def test_retry_decision(outcome: str, attempts: int, delay: int | None, reason: str) -> None:
    d = rules.retry_decision(rules.RetryPolicy(), outcome, attempts, T0)
    assert d.reason == reason
    assert d.final is (delay is None)
    assert d.next_due_at == (T0 + timedelta(seconds=delay) if delay else None)


def test_callback_inside_hours_is_planned_in_utc() -> None:
    plan = rules.plan_callback(
        datetime(2026, 3, 3, 10, 30), "Asia/Shanghai", [], (9 * 3600, 20 * 3600), T0
    )
    assert plan.due_at == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    assert plan.local_time == "2026-03-03T10:30"


def test_callback_outside_hours_is_refused_with_next_legal_time() -> None:
    with pytest.raises(CallbackRefused) as info:
        rules.plan_callback(
            datetime(2026, 3, 3, 21, 0), "Asia/Shanghai", [], (9 * 3600, 20 * 3600), T0
        )
    assert info.value.fields["next_legal"] == "2026-03-04T09:00:00"


def test_callback_blocked_by_another_candidate_zone_rule_33() -> None:
    window = (8 * 3600, 21 * 3600)
    with pytest.raises(CallbackRefused) as info:  # 08:30 New York is 07:30 Chicago
        rules.plan_callback(
            datetime(2026, 3, 3, 8, 30), "America/New_York", ["America/Chicago"], window, T0
        )
    assert info.value.fields["next_legal"] == "2026-03-03T09:00:00"


def test_callback_in_the_past_or_a_dst_gap_is_refused() -> None:
    with pytest.raises(CallbackRefused, match="passed"):
        rules.plan_callback(datetime(2026, 3, 1, 10, 0), "Asia/Shanghai", [], (0, 86400), T0)
    with pytest.raises(CallbackRefused, match="does not exist"):
        rules.plan_callback(datetime(2026, 3, 8, 2, 30), "America/New_York", [], (0, 86400), T0)


def test_zones_without_a_common_window_have_no_legal_time() -> None:
    # after 8 March Chicago (UTC-5) 09-20 and Shanghai (UTC+8) 09-20 never overlap
    later = datetime(2026, 3, 10, tzinfo=UTC)
    assert (
        rules.next_legal_time(["Asia/Shanghai", "America/Chicago"], (9 * 3600, 20 * 3600), later)
        is None
    )


def test_unknown_zone_never_legal() -> None:
    assert rules.next_legal_time(["Etc/Unknown"], (0, 86400), T0) is None
    assert rules.next_legal_time([], (0, 86400), T0) is None


@given(
    st.integers(0, 86400 * 7),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]),
)
def test_next_legal_time_is_inside_the_window_and_not_before(offset: int, zone: str) -> None:
    at = T0 + timedelta(seconds=offset)
    got = rules.next_legal_time([zone, "Europe/Paris"], (9 * 3600, 20 * 3600), at)
    assert got is not None and at <= got <= at + timedelta(days=1)
    for z in (zone, "Europe/Paris"):
        local = got.astimezone(ZoneInfo(z))
        assert 9 <= local.hour < 20


def test_personal_callback_moves_to_team_after_delay() -> None:
    due = T0
    assert not rules.moves_to_team("agent", "pending", due, due + timedelta(minutes=14), 15)
    assert rules.moves_to_team("agent", "pending", due, due + timedelta(minutes=15), 15)
    assert not rules.moves_to_team("team", "pending", due, due + timedelta(hours=5), 15)
    assert not rules.moves_to_team("agent", "done", due, due + timedelta(hours=5), 15)


def test_verdicts() -> None:
    assert rules.parse_verdict({"verdict": "confirmed"}).verdict is rules.Verdict.CONFIRMED
    changed = rules.parse_verdict({"verdict": "changed", "changes": {"address": "上海市"}})
    assert changed.details() == {"changes": {"address": "上海市"}, "reason": ""}
    for bad in (
        {"verdict": "maybe"},
        {"verdict": "changed"},
        {"verdict": "changed", "changes": {"price": 1}},
        {"verdict": "cancelled"},
        {"verdict": "confirmed", "changes": {"address": "x"}},
    ):
        with pytest.raises(VerdictInvalid):
            rules.parse_verdict(bad)
    assert rules.overdue(T0, None, T0) and not rules.overdue(T0, "confirmed", T0)
    assert not rules.overdue(T0, None, T0 - timedelta(seconds=1))


@given(st.lists(st.floats(0, 1), min_size=1, max_size=200))
def test_webhook_schedule_backs_off_and_dies_within_24h(jitters: list[float]) -> None:
    now, last_gap = T0, 0.0
    for attempts, j in enumerate(jitters, start=1):
        nxt = rules.webhook_retry_at(attempts, T0, now, j)
        if nxt is None:
            assert now + timedelta(seconds=15) > T0 + rules.WEBHOOK_GIVE_UP - timedelta(hours=1)
            return
        gap = (nxt - now).total_seconds()
        assert 15 <= gap <= rules.WEBHOOK_CAP_SECONDS
        assert nxt <= T0 + rules.WEBHOOK_GIVE_UP
        last_gap, now = gap, nxt
    assert last_gap > 0


def test_ivr_transfer_needs_a_survey_to_transfer_to() -> None:
    base = {"name": "t", "caller_id": "+8610010000"}
    survey = rules.parse_campaign({**base, "kind": "satisfaction_survey"})
    visit = rules.parse_campaign({**base, "kind": "return_visit"})
    visit_with = rules.parse_campaign({**base, "kind": "return_visit", "survey": "after_visit"})
    orders = rules.parse_campaign({**base, "kind": "order_verification"})
    assert rules.ivr_transfer_allowed(survey)  # its own survey or the seeds' template
    assert rules.ivr_transfer_allowed(visit_with)
    assert not rules.ivr_transfer_allowed(visit) and not rules.ivr_transfer_allowed(orders)
