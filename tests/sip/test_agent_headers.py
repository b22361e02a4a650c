"""Agent-leg identity and auto-answer hints (sip/agent_headers.py)."""

from __future__ import annotations

import pytest

from sip.agent_headers import agent_from, auto_answer_headers, mask_number
from sip.commands import ConnectAgent
from sip.errors import InvalidTarget


def test_auto_answer_hints_carry_a_uri() -> None:
    hdrs = dict(auto_answer_headers(("call-info", "alert-info", "answer-mode"), "10.0.0.1:5070"))
    assert hdrs["Call-Info"] == "<sip:10.0.0.1:5070>;answer-after=0"
    assert hdrs["Alert-Info"].startswith("<") and hdrs["Alert-Info"].endswith(
        ";info=alert-autoanswer"
    )
    assert hdrs["Answer-Mode"] == "Auto"
    assert auto_answer_headers((), "h") == ()


def test_each_agent_leg_has_its_own_from() -> None:
    a = agent_from("c-1", "+8613800138000", "回访 Acme", "127.0.0.1")
    b = agent_from("c-2", "+8613800138000", "回访 Acme", "127.0.0.1")
    assert a != b
    assert a.startswith('"回访 Acme …8000" <sip:outdial-c-1@127.0.0.1>')
    assert "13800138000" not in a  # the number is masked


def test_from_survives_odd_call_ids_and_names() -> None:
    got = agent_from('x y@z"<', "sip:svc@127.0.0.1:5060", 'a"b<c>', "h")
    user = got.split("<sip:", 1)[1].split("@", 1)[0]
    assert user == "outdial-x-y-z--"
    assert got.count('"') == 2
    assert mask_number("+15551234567") == "…4567"


def test_per_agent_forms_are_checked() -> None:
    assert ConnectAgent("c", "sip:a@h", ("answer-mode",)).auto_answer == ("answer-mode",)
    with pytest.raises(InvalidTarget):
        ConnectAgent("c", "sip:a@h", ("ring-twice",))
