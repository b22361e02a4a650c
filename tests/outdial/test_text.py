"""Issue 18 finding 12: long and bidi-control names are refused where they come in."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns.errors import CampaignInvalid
from outdial import auth
from outdial.errors import InvalidInput
from outdial.text import name_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [("x" * 100_000, "characters"), ("invoice\u202egnp.exe", "bidirectional"),
     ("a\x07b", "control"), ("张三 O'Neil", "")],
)  # fmt: skip
def test_name_problem(value: str, problem: str) -> None:
    assert (problem in name_problem(value)) if problem else name_problem(value) == ""


def test_campaign_and_user_names_are_checked(sqlite_engine: Engine) -> None:
    with pytest.raises(CampaignInvalid) as err:
        rules.parse_campaign({"name": "x" * 100_000, "caller_id": "+861012345678"})
    assert err.value.fields["problems"][0]["field"] == "name"  # type: ignore[index]
    with pytest.raises(InvalidInput) as bad:
        auth.create_user(sqlite_engine, "wang", "password-1", "agent", display_name="\u202eabc")
    assert bad.value.fields["field"] == "display_name"
