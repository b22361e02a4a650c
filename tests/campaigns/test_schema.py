"""The published JSON Schema agrees with the parser (issue 16.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import dialing, rules, schema
from campaigns.errors import CampaignInvalid

BASE: dict[str, Any] = {"name": "回访", "caller_id": "+861012345678"}
SCHEMA = schema.campaign_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def parser_ok(data: dict[str, Any]) -> bool:
    try:
        rules.parse_campaign(data)
    except CampaignInvalid:
        return False
    return True


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_and_parser_know_the_same_keys() -> None:
    assert set(SCHEMA["properties"]) == set(rules.TOP_KEYS) | set(schema.SECRET_FIELDS)
    assert set(SCHEMA["properties"]["dialing"]["properties"]) == set(dialing.BY_KEY)
    disp = SCHEMA["properties"]["dispositions"]["items"]["properties"]
    assert set(disp) == set(rules.DISPOSITION_KEYS)


def test_a_stored_definition_validates() -> None:
    spec = rules.parse_campaign({**BASE, "dialing": {"max_lines": 50, "amd": True}})
    VALIDATOR.validate(rules.spec_to_dict(spec))


@pytest.mark.parametrize(
    "extra",
    [
        {"colour": "red"},
        {"dialing": {"ratio": 2}},
        {"retry": {"ringing": 3}},
        {"schedule": {"funday": "09:00-10:00"}},
        {"dispositions": [{"code": "ok", "colour": "red"}]},
        {"caller_id": "anonymous"},
        {"kind": "cold_calls"},
        {"dialing": {"ring_timeout": 14}},
        {"callback_team_delay_minutes": 10_081},
        {"retry": {"max_attempts": 0}},
    ],
)
def test_both_refuse_the_same_bad_definitions(extra: dict[str, Any]) -> None:
    data = {**BASE, **extra}
    assert not VALIDATOR.is_valid(data)
    assert not parser_ok(data)


def _value(f: dialing.Field) -> st.SearchStrategy[object]:
    if f.type == "boolean":
        return st.one_of(st.booleans(), st.sampled_from(["true", 1]))
    if f.type == "string":
        return st.one_of(st.sampled_from([*f.choices, "other"]), st.integers())
    lo, hi = (f.minimum or 0) - 5, (f.maximum or 100) * 2
    ints = st.integers(int(lo), int(hi))
    if f.type == "integer":  # a float with a fraction is not a whole number to either side
        return st.one_of(ints, st.floats(lo, hi).filter(lambda x: not x.is_integer()))
    return st.one_of(ints, st.floats(lo, hi, allow_nan=False), st.sampled_from(["1", None]))


@given(st.data())
def test_schema_and_parser_agree_on_every_dialing_value(data: st.DataObject) -> None:
    f = data.draw(st.sampled_from(dialing.FIELDS))
    value = data.draw(_value(f))
    body = {**BASE, "dialing": {f.key: value}}
    if f.key == "abandon_target" and isinstance(value, float | int) and value > 0.03:
        return  # target > default cap: a cross-field rule the schema describes in words
    if f.key == "abandon_cap" and isinstance(value, float | int) and 0 < value < 0.02:
        return  # cap below the default target: the same cross-field rule
    if f.key == "machine_action" and value == "leave_message":
        return  # needs amd and machine_prompt: cross-field
    assert VALIDATOR.is_valid(body) == parser_ok(body), (f.key, value)


def test_the_published_file_is_current() -> None:
    path = Path(__file__).parents[2] / "docs" / "campaign.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == SCHEMA, (
        "regenerate: outdial campaigns schema > docs/campaign.schema.json"
    )
