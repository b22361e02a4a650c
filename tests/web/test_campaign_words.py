"""The editor's field problems in the user's language: every problem the form can cause, as
campaigns/rules.py words it, is re-said in Chinese with its values; unknown ones are kept."""

from __future__ import annotations

import re

import pytest

from campaigns import rules
from campaigns.errors import CampaignInvalid
from web import campaign_words, i18n

CJK = re.compile(r"[\u4e00-\u9fff]")
BAD = {
    "name": "",
    "kind": "nope",
    "mode": "agentless",
    "timezone": "Mars/Base",
    "active_from": "2026-05-01",
    "active_until": "2026-04-01",
    "caller_id": "123",
    "schedule": {"tue": ["9-5"]},
    "callback_hours": "soon",
    "callback_team_delay_minutes": -3,
    "script": "{name",
    "webhook_url": "ftp://x",
    "safe_harbor_prompt": "../etc",
    "colour": "red",
}


def problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(CampaignInvalid) as caught:
        rules.parse_campaign(data)
    return [str(p["message"]) for p in caught.value.fields["problems"]]


def test_every_problem_the_form_can_cause_is_said_in_chinese() -> None:
    zh = i18n.lang("zh_CN")
    found = problems(BAD) + problems({**BAD, "active_from": "May", "name": "x\u202e"})
    assert len(found) >= 15
    for message in found:
        said = campaign_words.say(message, zh)
        assert CJK.search(said), message
        assert "must" not in said and "unknown" not in said.lower(), said


def test_values_are_kept_and_english_reads_as_english() -> None:
    zh, en = i18n.lang("zh_CN"), i18n.lang("en")
    span = "'9-5' is not a span like 09:00-12:00"
    assert campaign_words.say(span, zh) == "'9-5' 不是有效的时段，请写成 09:00-12:00 这样的格式。"
    assert campaign_words.say(span, en) == "'9-5' is not a span like 09:00-12:00."
    whole = campaign_words.say("return_visit_delay_days must be a whole number from 0 to 90", zh)
    assert "0" in whole and "90" in whole


def test_an_unknown_problem_is_never_hidden() -> None:
    assert campaign_words.say("Something new.", i18n.lang("zh_CN")) == "Something new."
