"""Rule 19 end to end over a real database (SQLite and PostgreSQL): a sampled machine
verdict is recorded apart, a person marks it, the estimate moves, the UK gauge moves."""

from __future__ import annotations

import dialdata
import pytest
from sqlalchemy.engine import Engine

from compliance import amd_reviews
from compliance.amd_sampling import LAB_RATE
from compliance.gate import gate_for
from outdial.errors import InvalidInput, NotFound

NOW = dialdata.AMD_NOW


def test_marks_move_the_estimate_and_the_uk_gauge(engine: Engine) -> None:
    cid, sampled = dialdata.amd_campaign(engine, live=20, machines=100, sampled=4)
    assert len(sampled) == 4
    # no marks yet: the lab rate (bench/amd_eval.py) stands in, never zero (rule 19)
    abandoned, live = gate_for(engine, cid).abandon_gauge(NOW)
    assert live == 24  # sampled calls went to agents: live answers, not machines
    assert abandoned == round(LAB_RATE * 100)
    pending = amd_reviews.samples(engine, cid)
    assert sorted(s.call_id for s in pending) == sorted(sampled)

    amd_reviews.mark(engine, sampled[0], "person", "agent1")
    amd_reviews.mark(engine, sampled[1], "machine", "agent1")
    est = amd_reviews.estimate(engine, cid)
    assert (est.persons, est.machines) == (1, 1)
    summary = amd_reviews.summary(engine, cid)
    assert summary["pending"] == 2 and summary["gauge_rate"] == 0.5
    abandoned, live = gate_for(engine, cid).abandon_gauge(NOW)
    assert abandoned == 50  # one person in two marks, over 100 machine verdicts

    amd_reviews.mark(engine, sampled[0], "machine", "supervisor")  # a correction, not a 2nd
    assert amd_reviews.estimate(engine, cid).marks == 2
    assert gate_for(engine, cid).abandon_gauge(NOW)[0] == round(LAB_RATE * 100)
    marked = amd_reviews.samples(engine, cid, pending_only=False)
    assert {s.call_id: s.truth for s in marked}[sampled[0]] == "machine"


def test_only_sampled_calls_are_marked_and_the_truth_is_checked(engine: Engine) -> None:
    cid, sampled = dialdata.amd_campaign(engine, live=1, machines=1, sampled=1)
    with pytest.raises(InvalidInput, match="person, machine"):
        amd_reviews.mark(engine, sampled[0], "maybe", "x")
    with pytest.raises(InvalidInput, match="not a sampled machine verdict"):
        amd_reviews.mark(engine, "c0", "person", "x")  # a live answer the classifier got right
    with pytest.raises(NotFound):
        amd_reviews.mark(engine, "no-such-call", "person", "x")
    assert amd_reviews.estimate(engine, cid).marks == 0
