"""QA report arithmetic (quality/summary.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quality import summary
from quality.errors import GroupingInvalid
from quality.summary import EvalFact

MON = datetime(2026, 12, 7, 10, tzinfo=UTC)
NEXT = datetime(2026, 12, 14, 10, tzinfo=UTC)
TEXTS = (("greeting", "Greets"), ("identity", "Checks identity"))
FACTS = [
    EvalFact("li", "Spring", MON, 80.0, False, ("greeting",), TEXTS, "Card"),
    EvalFact("li", "Spring", NEXT, 0.0, True, ("identity", "greeting"), TEXTS, "Card"),
    EvalFact("wang", "Spring", MON, 95.0, False, (), TEXTS, "Card"),
]


def test_scores_by_agent_and_week() -> None:
    rows = summary.scores_by(FACTS, ("agent",), "UTC")
    assert [(r.key, r.evaluations, r.average, r.lowest, r.critical) for r in rows] == [
        (("li",), 2, 40.0, 0.0, 1),
        (("wang",), 1, 95.0, 95.0, 0),
    ]
    weeks = summary.scores_by(FACTS, ("week",), "UTC")
    assert [(r.key, r.average) for r in weeks] == [
        (("2026-W50 (12-07)",), 87.5),
        (("2026-W51 (12-14)",), 0.0),
    ]
    with pytest.raises(GroupingInvalid):
        summary.scores_by(FACTS, ("shift",), "UTC")


def test_scores_by_team_and_week_with_agents_in_no_team() -> None:
    facts = [
        EvalFact("li", "Spring", MON, 80.0, False, (), TEXTS, "Card", team="A 组"),
        EvalFact("zhao", "Spring", MON, 60.0, False, (), TEXTS, "Card", team="A 组"),
        EvalFact("li", "Spring", NEXT, 0.0, True, (), TEXTS, "Card", team="A 组"),
        EvalFact("wang", "Spring", MON, 95.0, False, (), TEXTS, "Card"),
    ]
    rows = summary.scores_by(facts, ("team", "week"), "UTC")
    assert [(r.key, r.evaluations, r.average, r.critical) for r in rows] == [
        (("A 组", "2026-W50 (12-07)"), 2, 70.0, 0),
        (("A 组", "2026-W51 (12-14)"), 1, 0.0, 1),
        ((summary.NO_TEAM, "2026-W50 (12-07)"), 1, 95.0, 0),
    ]


def test_most_failed_items() -> None:
    top = summary.most_failed(FACTS)
    assert [(f.item, f.text, f.failed, f.of) for f in top] == [
        ("greeting", "Greets", 2, 3),
        ("identity", "Checks identity", 1, 3),
    ]
    assert top[0].share == pytest.approx(2 / 3)
