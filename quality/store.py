"""Scorecards and evaluations in the database (tables in quality/models.py).

Cards are versioned: :func:`save_card` never edits a stored version, it adds version n+1
when the definition changed. An evaluation points at the version it used and stores the
composite the core computed then, so a later card change never alters a past evaluation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from outdial.storage import session_scope
from quality import cards
from quality.errors import CardInvalid, QualityNotFound
from quality.models import QcCard, QcEvaluation


def save_card(engine: Engine, raw: object, user_id: int | None, now: datetime) -> QcCard:
    """Store a card definition: a new card, or a new version of the card of that name
    (unchanged definitions are not stored twice)."""
    card = cards.parse_card(raw)
    definition = cards.card_to_dict(card)
    with session_scope(engine) as s:
        latest = s.exec(
            select(QcCard).where(QcCard.name == card.name).order_by(col(QcCard.version).desc())
        ).first()
        if latest is not None and latest.definition == definition and not latest.retired:
            return latest
        row = QcCard(
            name=card.name,
            version=(latest.version + 1) if latest else 1,
            kinds=",".join(card.kinds),
            definition=definition,
            created_by=user_id,
            created_at=now,
        )
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def get_card(engine: Engine, card_id: int) -> tuple[QcCard, cards.Card]:
    with session_scope(engine) as s:
        row = s.get(QcCard, card_id)
    if row is None:
        raise QualityNotFound(f"no scorecard #{card_id}", card=card_id)
    return row, cards.parse_card(row.definition)


def current_cards(engine: Engine) -> list[QcCard]:
    """The newest version of every card not retired, by name."""
    with session_scope(engine) as s:
        newest = (
            select(QcCard.name, func.max(QcCard.version).label("v"))
            .group_by(col(QcCard.name))
            .subquery()
        )
        rows = s.exec(
            select(QcCard)
            .join(
                newest,
                and_(col(QcCard.name) == newest.c.name, col(QcCard.version) == newest.c.v),
            )
            .order_by(col(QcCard.name))
        ).all()
    return [r for r in rows if not r.retired]


def card_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every card's newest version with how many versions and evaluations it has."""
    with session_scope(engine) as s:
        versions = dict(s.exec(select(QcCard.name, func.count()).group_by(col(QcCard.name))).all())
        used = dict(
            s.exec(
                select(QcCard.name, func.count(col(QcEvaluation.id)))
                .join(QcEvaluation, col(QcEvaluation.card_id) == QcCard.id)
                .group_by(col(QcCard.name))
            ).all()
        )
    return [
        {
            "id": r.id,
            "name": r.name,
            "version": r.version,
            "kinds": [k for k in r.kinds.split(",") if k],
            "versions": versions.get(r.name, 1),
            "evaluations": used.get(r.name, 0),
            "definition": r.definition,
            "item_count": sum(len(sec["items"]) for sec in r.definition.get("sections", [])),
        }
        for r in current_cards(engine)
    ]


def retire_card(engine: Engine, name: str, user_id: int | None, now: datetime) -> None:
    """No longer offered for new reviews; its versions and evaluations stay."""
    with session_scope(engine) as s:
        latest = s.exec(
            select(QcCard).where(QcCard.name == name).order_by(col(QcCard.version).desc())
        ).first()
        if latest is None:
            raise QualityNotFound(f"no scorecard {name!r}", card=name)
        latest.retired = True
        s.add(latest)
        s.commit()


def card_for_kind(engine: Engine, kind: str) -> tuple[QcCard, cards.Card]:
    """The card a call of a campaign of ``kind`` is scored with (newest versions only)."""
    rows = current_cards(engine)
    parsed = [(r.id or 0, cards.parse_card(r.definition)) for r in rows]
    found = cards.card_for_kind(parsed, kind)
    if found is None:
        raise CardInvalid(
            f"no scorecard for campaigns of kind {kind!r}: add one on the scorecards page",
            field="kind",
        )
    return get_card(engine, found)


def card_for(engine: Engine, card_id: int | None, kind: str) -> tuple[QcCard, cards.Card]:
    return get_card(engine, card_id) if card_id else card_for_kind(engine, kind)


def rescore(engine: Engine, evaluation_id: int) -> cards.Score:
    """The score of a stored evaluation recomputed from the card version it used."""
    with session_scope(engine) as s:
        ev = s.get(QcEvaluation, evaluation_id)
    if ev is None:
        raise QualityNotFound(f"no evaluation #{evaluation_id}", evaluation=evaluation_id)
    _, card = get_card(engine, ev.card_id)
    return cards.score(card, ev.answers)
