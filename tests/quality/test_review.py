"""The review queue and an evaluation's life on SQLite and PostgreSQL (quality/review.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import qcdata
from sqlalchemy.engine import Engine

from quality import review, sampling, store
from quality.errors import AnswersInvalid, EvaluationClosed, NotYourEvaluation, RuleInvalid

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
OLD = datetime(2025, 1, 1, tzinfo=UTC)
GOOD = {"greeting": "yes", "identity": "yes", "clarity": "5", "recap": "yes"}


def setup(engine: Engine) -> tuple[dict[str, int], dict[str, list[int]], int]:
    agents = {
        "li": qcdata.agent(engine, "li", OLD),
        "wang": qcdata.agent(engine, "wang", NOW - timedelta(days=3)),  # new this week
    }
    ids = qcdata.floor(engine, MONDAY, agents, calls_each=6)
    card = store.save_card(engine, qcdata.card_definition(), None, NOW)
    return agents, ids["calls"], card.id or 0


def test_fill_queue_by_the_rule_once(engine: Engine) -> None:
    _, calls, _ = setup(engine)
    rule = sampling.Rule(per_agent=2, new_agent_extra=1)
    assert review.fill_queue(engine, NOW, rule) == 2 + 2 + 3  # li: complaint + low survey
    assert review.fill_queue(engine, NOW, rule) == 0  # the week's sample is kept, not redrawn
    q = review.queue(engine)
    reasons = [(r["agent"], r["reason"]) for r in q]
    assert reasons[:2] == [("li", "complaint"), ("li", "low_survey")]
    assert reasons.count(("wang", "routine")) == 3
    assert {r["attempt_id"] for r in q if r["reason"] == "complaint"} == {calls["li"][0]}


def test_evaluate_acknowledge_dispute_uphold(engine: Engine) -> None:
    agents, calls, card_id = setup(engine)
    review.fill_queue(engine, NOW, sampling.Rule(per_agent=1))
    call = calls["li"][0]
    with pytest.raises(AnswersInvalid):
        review.evaluate(engine, call, card_id, {"greeting": "yes"}, "", None, NOW)
    ev = review.evaluate(engine, call, card_id, GOOD, "well done", None, NOW)
    assert ev.score == 100.0
    assert call not in {r["attempt_id"] for r in review.queue(engine)}  # reviewed
    # another agent cannot touch it, nor see it
    with pytest.raises(NotYourEvaluation):
        review.acknowledge(engine, ev.id or 0, agents["wang"], NOW)
    assert review.evaluations_of_agent(engine, agents["wang"]) == []
    review.dispute(engine, ev.id or 0, agents["li"], "the customer hung up first", NOW)
    with pytest.raises(EvaluationClosed):
        review.acknowledge(engine, ev.id or 0, agents["li"], NOW)
    back = [r for r in review.queue(engine) if r["attempt_id"] == call]
    assert [r["reason"] for r in back] == ["dispute"]
    assert review.queue(engine)[0]["attempt_id"] == call  # disputes first
    review.uphold(engine, ev.id or 0, "the recap was still missing")
    mine = review.evaluations_of_agent(engine, agents["li"])
    assert [(e["status"], e["reply"], e["agent_comment"]) for e in mine] == [
        ("upheld", "the recap was still missing", "the customer hung up first")
    ]


def test_a_dispute_rescored_revises_the_old_evaluation(engine: Engine) -> None:
    agents, calls, card_id = setup(engine)
    call = calls["wang"][0]
    bad = {**GOOD, "identity": "no"}
    ev = review.evaluate(engine, call, card_id, bad, "no identity check", None, NOW)
    assert ev.score == 0.0 and ev.critical_failed
    review.dispute(engine, ev.id or 0, agents["wang"], "I did check, at 0:40", NOW)
    new = review.evaluate(engine, call, card_id, GOOD, "checked at 0:40 indeed", None, NOW)
    statuses = [(e["id"], e["status"]) for e in review.evaluations_of_agent(engine, agents["wang"])]
    assert sorted(statuses) == sorted([(ev.id, "revised"), (new.id, "open")])
    review.acknowledge(engine, new.id or 0, agents["wang"], NOW)


def test_call_detail_has_disposition_and_survey(engine: Engine) -> None:
    _, calls, _ = setup(engine)
    d = review.call_detail(engine, calls["li"][1])
    assert d["agent"] == "li"
    assert d["disposition_label"] == "Order confirmed"
    assert d["survey"] == [{"question": ("满意吗", "Satisfied?"), "value": 1, "scale": "1–5"}]


def test_the_rule_is_stored_and_used(engine: Engine) -> None:
    setup(engine)
    assert review.get_rule(engine) == sampling.Rule()
    review.save_rule(engine, sampling.Rule(per_agent=1, new_agent_extra=0), None, NOW)
    assert review.get_rule(engine).per_agent == 1
    assert review.fill_queue(engine, NOW) == 2 + 1 + 1  # li: complaint, low survey; 1 each
    with pytest.raises(RuleInvalid):
        review.save_rule(engine, sampling.Rule(low_score_floor=120), None, NOW)
