"""Versioned scorecards on SQLite and PostgreSQL (quality/store.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import qcdata
from sqlalchemy.engine import Engine

from quality import review, store
from quality.errors import CardInvalid, QualityNotFound

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def test_a_change_is_a_new_version_and_the_same_card_is_not_stored_twice(engine: Engine) -> None:
    first = store.save_card(engine, qcdata.card_definition(), None, NOW)
    again = store.save_card(engine, qcdata.card_definition(), None, NOW)
    assert (first.id, first.version) == (again.id, 1)
    changed = qcdata.card_definition()
    changed["sections"][0]["weight"] = 50
    second = store.save_card(engine, changed, None, NOW)
    assert second.version == 2 and second.id != first.id
    assert [r.version for r in store.current_cards(engine)] == [2]
    rows = store.card_rows(engine)
    assert (rows[0]["versions"], rows[0]["item_count"]) == (2, 4)


def test_card_change_never_alters_past_evaluations(engine: Engine) -> None:
    agents = {"li": qcdata.agent(engine, "li")}
    ids = qcdata.floor(engine, NOW, agents)
    v1 = store.save_card(engine, qcdata.card_definition(), None, NOW)
    answers = {"greeting": "yes", "identity": "yes", "clarity": "4", "recap": "no"}
    ev = review.evaluate(engine, ids["calls"]["li"][0], v1.id or 0, answers, "", None, NOW)
    assert ev.score == 69.4  # the hand-computed example of tests/quality/test_cards.py
    changed = qcdata.card_definition()
    changed["sections"][1]["weight"] = 30  # conversation counts less now
    v2 = store.save_card(engine, changed, None, NOW)
    assert v2.version == 2
    # the old evaluation keeps its card version, its stored score and its recomputed score
    mine = review.evaluations_of_agent(engine, agents["li"])
    assert [(e["card_id"], e["score"]) for e in mine] == [(v1.id, 69.4)]
    assert store.rescore(engine, ev.id or 0).composite == 69.4
    # a new evaluation with the same answers on v2: (30·1 + 30·0.5625)/60 = 78.125 → 78.1
    ev2 = review.evaluate(engine, ids["calls"]["li"][1], v2.id or 0, answers, "", None, NOW)
    assert ev2.score == 78.1


def test_card_for_kind_and_retire(engine: Engine) -> None:
    with pytest.raises(CardInvalid):
        store.card_for_kind(engine, "order_verification")
    general = store.save_card(engine, qcdata.card_definition("General"), None, NOW)
    special = store.save_card(
        engine, qcdata.card_definition("Orders", ("order_verification",)), None, NOW
    )
    assert store.card_for_kind(engine, "order_verification")[0].id == special.id
    assert store.card_for_kind(engine, "return_visit")[0].id == general.id
    store.retire_card(engine, "Orders", None, NOW)
    assert store.card_for_kind(engine, "order_verification")[0].id == general.id
    with pytest.raises(QualityNotFound):
        store.retire_card(engine, "nope", None, NOW)
    with pytest.raises(QualityNotFound):
        store.get_card(engine, 9999)
