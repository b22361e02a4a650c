"""QA reports from stored evaluations on SQLite and PostgreSQL (quality/qa_report.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import qcdata
from sqlalchemy.engine import Engine

from quality import qa_report, review, store

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
GOOD = {"greeting": "yes", "identity": "yes", "clarity": "5", "recap": "yes"}


def test_scores_by_agent_and_campaign_leave_revised_out(engine: Engine) -> None:
    agents = {"li": qcdata.agent(engine, "li"), "wang": qcdata.agent(engine, "wang")}
    calls = qcdata.floor(engine, NOW - timedelta(days=2), agents, calls_each=2)["calls"]
    card = store.save_card(engine, qcdata.card_definition(), None, NOW)
    cid = card.id or 0
    first = review.evaluate(engine, calls["li"][0], cid, {**GOOD, "identity": "no"}, "", None, NOW)
    review.dispute(engine, first.id or 0, agents["li"], "I checked", NOW)
    review.evaluate(engine, calls["li"][0], cid, GOOD, "", None, NOW)  # revises the first
    review.evaluate(engine, calls["li"][1], cid, {**GOOD, "recap": "no"}, "", None, NOW)
    review.evaluate(engine, calls["wang"][0], cid, {**GOOD, "clarity": "1"}, "", None, NOW)
    rep = qa_report.report(engine, NOW - timedelta(days=7), NOW + timedelta(days=1), ("agent",))
    # li: 100 and (30 + 70·0.75)/100 = 82.5 → 91.3 (half up of 91.25); wang: 30 + 70·0.25 = 47.5
    assert [(r.key, r.evaluations, r.average, r.critical) for r in rep["rows"]] == [
        (("li",), 2, 91.3, 0),
        (("wang",), 1, 47.5, 0),
    ]
    assert {(f.item, f.failed, f.of) for f in rep["failed"]} == {("recap", 1, 3), ("clarity", 1, 3)}
    rows = list(csv.reader(io.StringIO(qa_report.to_csv(rep).decode("utf-8-sig"))))
    assert rows[0][0] == "agent" and rows[1][:3] == ["li", "2", "91.3"]
    empty = qa_report.report(engine, NOW + timedelta(days=1), NOW + timedelta(days=2), ("week",))
    assert empty["rows"] == [] and empty["total"] == 0
