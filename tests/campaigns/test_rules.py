"""campaigns/rules.py: definitions, schedules, scripts, retries, IVR transfer (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns import rules
from campaigns.errors import CampaignInvalid

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
    assert {"name", "kind", "caller_id", "timezone", "schedule.mon", "schedule.funday"} <= fields
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
        ("bad_number", 1, None, "not_retryable"),  # a carrier said "not in service"
    ],
)
def test_retry_decision(outcome: str, attempts: int, delay: int | None, reason: str) -> None:
    d = rules.retry_decision(rules.RetryPolicy(), outcome, attempts, T0)
    assert d.reason == reason
    assert d.final is (delay is None)
    assert d.next_due_at == (T0 + timedelta(seconds=delay) if delay else None)


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("sit_vacant: carrier announcement", "bad_number"),
        ("sit_intercept: carrier announcement", "bad_number"),
        ("sit_reorder: carrier announcement", "failure"),
        ("sit_no_circuit", "failure"),
        ("sit_other: carrier announcement", "failure"),
        ("recorded_vacant: carrier announcement", "bad_number"),
        ("recorded_suspended: carrier announcement", "bad_number"),
        ("recorded_switched_off: carrier announcement", "failure"),
        ("recorded_unreachable: carrier announcement", "failure"),
        ("", "failure"),
    ],
)
def test_announcement_outcome(reason: str, outcome: str) -> None:
    assert rules.announcement_outcome(reason) == outcome


def test_ivr_transfer_needs_a_survey_to_transfer_to() -> None:
    base = {"name": "t", "caller_id": "+8610010000"}
    survey = rules.parse_campaign({**base, "kind": "satisfaction_survey"})
    visit = rules.parse_campaign({**base, "kind": "return_visit"})
    visit_with = rules.parse_campaign({**base, "kind": "return_visit", "survey": "after_visit"})
    orders = rules.parse_campaign({**base, "kind": "order_verification"})
    assert rules.ivr_transfer_allowed(survey)  # its own survey or the seeds' template
    assert rules.ivr_transfer_allowed(visit_with)
    assert not rules.ivr_transfer_allowed(visit) and not rules.ivr_transfer_allowed(orders)


def test_safe_harbor_prompt_is_a_name() -> None:
    """Issue 16 item 4: prompts by name; an old definition's path gives its prompt's name."""
    base = {"name": "x", "caller_id": "+8610010000"}
    spec = rules.parse_campaign({**base, "safe_harbor_prompt": "safe_harbor"})
    assert spec.safe_harbor_prompt == "safe_harbor"
    assert rules.spec_to_dict(spec)["safe_harbor_prompt"] == "safe_harbor"
    assert "safe_harbor_wav" not in rules.spec_to_dict(spec)
    assert rules.parse_campaign(rules.spec_to_dict(spec)) == spec
    old = rules.parse_campaign({**base, "safe_harbor_wav": "/srv/var/prompts/campaign.3/sh.wav"})
    assert old.safe_harbor_prompt == "sh"
    with pytest.raises(CampaignInvalid) as err:
        rules.parse_campaign({**base, "safe_harbor_prompt": "/tmp/a b.wav"})
    assert err.value.fields["problems"][0]["field"] == "safe_harbor_prompt"
    assert "outdial prompts add FILE" in err.value.message


def test_pause_reasons_default_listed_and_checked() -> None:
    base = {"name": "p", "caller_id": "+8610010000"}
    assert [r.code for r in rules.parse_campaign(base).pause_reasons] == [
        "break", "lunch", "training", "meeting", "coaching"
    ]  # fmt: skip
    own = rules.parse_campaign({**base, "pause_reasons": [{"code": "qa", "label": "质检"}]})
    assert own.pause_reason("qa") == rules.PauseReason("qa", "质检")
    assert own.pause_reason("lunch") is None
    assert rules.parse_campaign(rules.spec_to_dict(own)) == own
    for bad, words in (
        ([], "non-empty list"),
        ([{"code": "Bad Code"}], "lower-case letters"),
        ([{"code": "a"}, {"code": "a"}], "duplicate pause reason"),
        ([{"code": "a", "colour": "red"}], "unknown pause reason key"),
    ):
        with pytest.raises(CampaignInvalid, match=words):
            rules.parse_campaign({**base, "pause_reasons": bad})
