"""Scorecards (质检评分表) and their composite score — the pure core.

A card has sections, each with a weight; a section has items, each with a weight. An item
is answered yes/no or on a scale (e.g. 1–5), or marked not applicable. The arithmetic, in
exact fractions so the hand-computed examples of the tests hold to the last digit:

* an item's fraction: yes = 1, no = 0; scale value v on low..high = (v − low) / (high − low);
* a section's score: Σ(item weight × fraction) / Σ(item weight), over its applicable items;
* the composite: 100 × Σ(section weight × section score) / Σ(section weight), over the
  sections with at least one applicable item, rounded half up to one decimal;
* a **critical** item (yes/no only) answered "no" zeroes the composite, whatever the rest
  (e.g. no identity check on an order verification).

An item *fails* when answered "no" or below the middle of its scale; QA reports count
failures per item. Cards are versioned by the store; this module never sees versions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from quality.errors import AnswersInvalid, CardInvalid

_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_SECTIONS = 20
MAX_ITEMS = 40
SCALES = ((1, 5), (0, 10), (1, 10), (1, 3))


class ItemKind(StrEnum):
    YES_NO = "yes_no"
    SCALE = "scale"


#: one item's answer: True/False (yes/no), an int (scale), None (not applicable)
Answer = bool | int | None


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    kind: ItemKind
    weight: int
    critical: bool = False
    low: int = 1
    high: int = 5

    def fraction(self, answer: bool | int) -> Fraction:
        if self.kind is ItemKind.YES_NO:
            return Fraction(1 if answer else 0)
        return Fraction(int(answer) - self.low, self.high - self.low)

    def failed(self, answer: Answer) -> bool:
        """ "No", or below the middle of the scale; not applicable never fails."""
        if answer is None:
            return False
        return self.fraction(answer) < Fraction(1, 2)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    weight: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Card:
    name: str
    kinds: tuple[str, ...]  # campaign kinds the card is for (campaigns/rules.py); () = any
    sections: tuple[Section, ...]

    def items(self) -> list[Item]:
        return [i for s in self.sections for i in s.items]

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items() if i.id == item_id), None)


@dataclass(frozen=True)
class Score:
    composite: float  # 0–100, one decimal
    sections: tuple[tuple[str, float | None], ...]  # section id -> 0–100 (None: all n/a)
    failed: tuple[str, ...]  # item ids
    critical_failed: tuple[str, ...]  # item ids; non-empty means composite == 0


# --- parsing a definition ---------------------------------------------------------------


def _text(raw: Mapping[str, Any], key: str, where: str, limit: int = 200) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CardInvalid(f"{where}: {key} is required (text)", field=f"{where}.{key}")
    if len(value) > limit:
        raise CardInvalid(f"{where}: {key} is longer than {limit} characters", field=where)
    return value.strip()


def _ident(raw: Mapping[str, Any], where: str, seen: set[str]) -> str:
    value = raw.get("id")
    if not isinstance(value, str) or not _ID.match(value):
        raise CardInvalid(
            f"{where}: id must be lower-case letters, digits or _ (e.g. greeting)",
            field=f"{where}.id",
        )
    if value in seen:
        raise CardInvalid(f"{where}: id {value!r} is used twice", field=f"{where}.id")
    seen.add(value)
    return value


def _weight(raw: Mapping[str, Any], where: str) -> int:
    value = raw.get("weight", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise CardInvalid(f"{where}: weight must be a whole number 1–1000", field=where)
    return value


def _item(raw: object, where: str, seen: set[str]) -> Item:
    if not isinstance(raw, Mapping):
        raise CardInvalid(f"{where}: an item is a table of id, text, kind, weight", field=where)
    item_id = _ident(raw, where, seen)
    text = _text(raw, "text", where)
    try:
        kind = ItemKind(str(raw.get("kind", "yes_no")))
    except ValueError:
        raise CardInvalid(f"{where}: kind must be yes_no or scale", field=f"{where}.kind") from None
    critical = raw.get("critical", False)
    if not isinstance(critical, bool):
        raise CardInvalid(f"{where}: critical is true or false", field=f"{where}.critical")
    if critical and kind is not ItemKind.YES_NO:
        raise CardInvalid(f"{where}: only a yes/no item can be critical", field=where)
    low, high = 1, 5
    if kind is ItemKind.SCALE:
        low, high = raw.get("low", 1), raw.get("high", 5)
        if (low, high) not in SCALES:
            scales = ", ".join(f"{a}–{b}" for a, b in SCALES)
            raise CardInvalid(f"{where}: a scale is one of {scales}", field=where)
    return Item(item_id, text, kind, _weight(raw, where), critical, int(low), int(high))


def parse_card(raw: object) -> Card:
    """A card from its JSON/TOML form; a :class:`CardInvalid` names the first problem."""
    if not isinstance(raw, Mapping):
        raise CardInvalid("a scorecard is a table with name, kinds and sections", field="card")
    name = _text(raw, "name", "card", 128)
    kinds_raw = raw.get("kinds", [])
    if not isinstance(kinds_raw, list) or not all(isinstance(k, str) for k in kinds_raw):
        raise CardInvalid("card: kinds is a list of campaign kinds", field="card.kinds")
    sections_raw = raw.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise CardInvalid("card: at least one section is needed", field="card.sections")
    if len(sections_raw) > MAX_SECTIONS:
        raise CardInvalid(f"card: at most {MAX_SECTIONS} sections", field="card.sections")
    seen: set[str] = set()
    sections = []
    for n, sec in enumerate(sections_raw, 1):
        where = f"section {n}"
        if not isinstance(sec, Mapping):
            raise CardInvalid(f"{where}: a section is a table of id, title, weight, items")
        sid = _ident(sec, where, seen)
        items_raw = sec.get("items")
        if not isinstance(items_raw, list) or not items_raw or len(items_raw) > MAX_ITEMS:
            raise CardInvalid(f"{where}: 1–{MAX_ITEMS} items", field=f"{where}.items")
        items = tuple(_item(it, f"{where} item {k}", seen) for k, it in enumerate(items_raw, 1))
        sections.append(Section(sid, _text(sec, "title", where), _weight(sec, where), items))
    return Card(name, tuple(k.strip() for k in kinds_raw if k.strip()), tuple(sections))


def card_to_dict(card: Card) -> dict[str, Any]:
    """The stored form (parse_card(card_to_dict(c)) == c)."""
    return {
        "name": card.name,
        "kinds": list(card.kinds),
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "weight": s.weight,
                "items": [
                    {
                        "id": i.id,
                        "text": i.text,
                        "kind": i.kind.value,
                        "weight": i.weight,
                        **({"critical": True} if i.critical else {}),
                        **({"low": i.low, "high": i.high} if i.kind is ItemKind.SCALE else {}),
                    }
                    for i in s.items
                ],
            }
            for s in card.sections
        ],
    }


# --- answers and the score ---------------------------------------------------------------


def parse_answers(card: Card, raw: Mapping[str, object]) -> dict[str, Answer]:
    """Answers as a form sends them: ``yes``/``no``/``na`` or a number (``na`` or a scale
    value). Every item must be answered; unknown keys are ignored."""
    out: dict[str, Answer] = {}
    for item in card.items():
        value = raw.get(item.id)
        text = str(value).strip().lower() if value is not None else ""
        if isinstance(value, bool):
            text = "yes" if value else "no"
        if text in ("", "none"):
            raise AnswersInvalid(f"item {item.text!r} is not answered", field=item.id)
        if text == "na":
            out[item.id] = None
        elif item.kind is ItemKind.YES_NO:
            if text not in ("yes", "no"):
                raise AnswersInvalid(f"item {item.text!r}: answer yes, no or na", field=item.id)
            out[item.id] = text == "yes"
        else:
            if not re.fullmatch(r"-?\d{1,3}", text) or not item.low <= int(text) <= item.high:
                raise AnswersInvalid(
                    f"item {item.text!r}: a whole number {item.low}–{item.high} or na",
                    field=item.id,
                )
            out[item.id] = int(text)
    return out


def _round(value: Fraction) -> float:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score(card: Card, answers: Mapping[str, Answer]) -> Score:
    """The composite score of a filled card (see the module docstring for the arithmetic)."""
    total_w, total = Fraction(0), Fraction(0)
    per_section: list[tuple[str, float | None]] = []
    failed: list[str] = []
    critical: list[str] = []
    for sec in card.sections:
        w_sum, s_sum = 0, Fraction(0)
        for item in sec.items:
            if item.id not in answers:
                raise AnswersInvalid(f"item {item.text!r} is not answered", field=item.id)
            ans = answers[item.id]
            if item.failed(ans):
                failed.append(item.id)
                if item.critical:
                    critical.append(item.id)
            if ans is not None:
                w_sum += item.weight
                s_sum += item.weight * item.fraction(ans)
        if w_sum == 0:
            per_section.append((sec.id, None))
            continue
        sec_score = s_sum / w_sum
        per_section.append((sec.id, _round(100 * sec_score)))
        total_w += sec.weight
        total += sec.weight * sec_score
    if total_w == 0:
        raise AnswersInvalid("every item is marked not applicable: nothing to score", field="")
    composite = Fraction(0) if critical else 100 * total / total_w
    return Score(_round(composite), tuple(per_section), tuple(failed), tuple(critical))


def card_for_kind(cards: list[tuple[int, Card]], kind: str) -> int | None:
    """Which card a call of campaign ``kind`` is scored with: the first card naming the kind,
    else the first card for any kind. ``cards`` are (key, card) in the store's order."""
    for key, card in cards:
        if kind in card.kinds:
            return key
    return next((key for key, card in cards if not card.kinds), None)


def example_card() -> dict[str, Any]:
    """An order-verification card to start from (the scorecard page shows it): two weighted
    sections, a critical identity check, one scale item. A new dict each call."""
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
