"""Scorecard arithmetic from hand-computed examples (quality/cards.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quality import cards
from quality.errors import AnswersInvalid, CardInvalid


def definition() -> dict[str, Any]:
    return {
        "name": "Order verification",
        "kinds": ["order_verification"],
        "sections": [
            {
                "id": "opening",
                "title": "Opening",
                "weight": 30,
                "items": [
                    {"id": "greeting", "text": "Greets and names the company", "weight": 1},
                    {
                        "id": "identity",
                        "text": "Checks the customer's identity",
                        "weight": 2,
                        "critical": True,
                    },
                ],
            },
            {
                "id": "talk",
                "title": "Conversation",
                "weight": 70,
                "items": [
                    {"id": "clarity", "text": "Speaks clearly", "kind": "scale", "weight": 3},
                    {"id": "recap", "text": "Reads the order back", "weight": 1},
                ],
            },
        ],
    }


CARD = cards.parse_card(definition())


def test_weighted_composite_by_hand() -> None:
    # opening: (1·1 + 2·1)/3 = 1; talk: (3·(4−1)/(5−1) + 1·0)/4 = 0.5625
    # composite: 100·(30·1 + 70·0.5625)/100 = 69.375 → 69.4 (half up)
    answers = cards.parse_answers(
        CARD, {"greeting": "yes", "identity": "yes", "clarity": "4", "recap": "no"}
    )
    s = cards.score(CARD, answers)
    assert s.composite == 69.4
    assert dict(s.sections) == {"opening": 100.0, "talk": 56.3}
    assert s.failed == ("recap",)
    assert s.critical_failed == ()


def test_critical_item_zeroes_the_score() -> None:
    answers = cards.parse_answers(
        CARD, {"greeting": "yes", "identity": "no", "clarity": "5", "recap": "yes"}
    )
    s = cards.score(CARD, answers)
    assert s.composite == 0.0
    assert s.critical_failed == ("identity",)
    # the sections still say what went well: opening (1·1 + 2·0)/3 = 33.3
    assert dict(s.sections) == {"opening": 33.3, "talk": 100.0}


def test_not_applicable_leaves_the_denominator() -> None:
    # recap n/a: talk = 3·(2−1)/4 / 3 = 0.25; composite = (30·1 + 70·0.25)/100 = 47.5
    answers = cards.parse_answers(
        CARD, {"greeting": "yes", "identity": "yes", "clarity": "2", "recap": "na"}
    )
    s = cards.score(CARD, answers)
    assert s.composite == 47.5
    assert s.failed == ("clarity",)  # 0.25 is below the middle of the scale


def test_a_whole_section_not_applicable_drops_its_weight() -> None:
    answers = cards.parse_answers(
        CARD, {"greeting": "na", "identity": "na", "clarity": "3", "recap": "yes"}
    )
    # opening leaves; talk = (3·0.5 + 1)/4 = 0.625 → 62.5
    s = cards.score(CARD, answers)
    assert s.composite == 62.5
    assert dict(s.sections)["opening"] is None


def test_every_item_must_be_answered() -> None:
    with pytest.raises(AnswersInvalid) as err:
        cards.parse_answers(CARD, {"greeting": "yes", "identity": "yes", "clarity": "4"})
    assert err.value.fields["field"] == "recap"
    with pytest.raises(AnswersInvalid):
        cards.parse_answers(
            CARD, {"greeting": "yes", "identity": "yes", "clarity": "6", "recap": "no"}
        )
    with pytest.raises(AnswersInvalid):
        cards.parse_answers(
            CARD, {"greeting": "maybe", "identity": "yes", "clarity": "3", "recap": "no"}
        )
    all_na = {i.id: "na" for i in CARD.items()}
    with pytest.raises(AnswersInvalid):
        cards.score(CARD, cards.parse_answers(CARD, all_na))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("name"), "card.name"),
        (lambda d: d.update(sections=[]), "card.sections"),
        (lambda d: d["sections"][0]["items"][0].update(id="Bad Id"), "section 1 item 1.id"),
        (lambda d: d["sections"][1]["items"][1].update(id="greeting"), "section 2 item 2.id"),
        (lambda d: d["sections"][0].update(weight=0), "section 1"),
        (lambda d: d["sections"][1]["items"][0].update(critical=True), "section 2 item 1"),
        (lambda d: d["sections"][1]["items"][0].update(high=7), "section 2 item 1"),
        (lambda d: d["sections"][0]["items"][0].update(kind="stars"), "section 1 item 1.kind"),
    ],
)
def test_bad_definitions_name_what_to_fix(change: Any, field: str) -> None:
    d = definition()
    change(d)
    with pytest.raises(CardInvalid) as err:
        cards.parse_card(d)
    assert err.value.fields.get("field") == field


def test_round_trip() -> None:
    assert cards.parse_card(cards.card_to_dict(CARD)) == CARD


def test_card_for_kind_prefers_the_kind_then_a_general_card() -> None:
    general = cards.Card("General", (), CARD.sections)
    listed = [(1, general), (2, CARD)]
    assert cards.card_for_kind(listed, "order_verification") == 2
    assert cards.card_for_kind(listed, "return_visit") == 1
    assert cards.card_for_kind([(2, CARD)], "return_visit") is None


@given(
    st.lists(st.sampled_from(["yes", "no", "na"]), min_size=3, max_size=3),
    st.sampled_from(["1", "2", "3", "4", "5", "na"]),
)
def test_score_is_between_0_and_100_and_critical_means_zero(yn: list[str], scale: str) -> None:
    raw = {"greeting": yn[0], "identity": yn[1], "recap": yn[2], "clarity": scale}
    answers = cards.parse_answers(CARD, raw)
    try:
        s = cards.score(CARD, answers)
    except AnswersInvalid:
        assert all(v is None for v in answers.values())
        return
    assert 0.0 <= s.composite <= 100.0
    assert (yn[1] == "no") == bool(s.critical_failed)
    if s.critical_failed:
        assert s.composite == 0.0
