"""QA reports from the stored evaluations: scores by agent, team, campaign and week, and
the most-failed items (arithmetic in quality/summary.py), as tables and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.models import Campaign
from outdial.models import User, as_utc
from outdial.storage import session_scope
from quality import cards, summary
from quality.models import QcCard, QcEvaluation


def facts(engine: Engine, start: datetime, end: datetime) -> list[summary.EvalFact]:
    """Evaluations made in [start, end), revised ones left out (their call was re-scored)."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(QcEvaluation, QcCard)
            .join(QcCard, col(QcCard.id) == QcEvaluation.card_id)
            .where(
                col(QcEvaluation.created_at) >= start,
                col(QcEvaluation.created_at) < end,
                QcEvaluation.status != "revised",
            )
        ).all()
        people = list(s.exec(select(User)))
        users = {u.id: u.display_name or u.username for u in people}
        team_of = {u.id: u.team for u in people}
        camps = {c.id: c.name for c in s.exec(select(Campaign))}
    texts: dict[int, tuple[tuple[str, str], ...]] = {}
    out = []
    for e, card_row in rows:
        if card_row.id not in texts:
            card = cards.parse_card(card_row.definition)
            texts[card_row.id or 0] = tuple((i.id, i.text) for i in card.items())
        out.append(
            summary.EvalFact(
                users.get(e.agent_user_id, "") if e.agent_user_id else "",
                camps.get(e.campaign_id, ""),
                as_utc(e.created_at),
                e.score,
                e.critical_failed,
                tuple(str(x) for x in e.failed),
                texts[card_row.id or 0],
                card_row.name,
                team_of.get(e.agent_user_id, "") if e.agent_user_id else "",
            )
        )
    return out


def report(
    engine: Engine, start: datetime, end: datetime, by: tuple[str, ...], zone: str = "UTC"
) -> dict[str, Any]:
    fs = facts(engine, start, end)
    return {
        "by": by,
        "rows": summary.scores_by(fs, by, zone),
        "failed": summary.most_failed(fs),
        "total": len(fs),
    }


def to_csv(rep: dict[str, Any]) -> bytes:
    """Scores table, a blank line, then the most-failed items; UTF-8 with BOM for Excel."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*rep["by"], "evaluations", "average", "lowest", "critical_failed"])
    for r in rep["rows"]:
        w.writerow([*r.key, r.evaluations, r.average, r.lowest, r.critical])
    w.writerow([])
    w.writerow(["card", "item", "text", "failed", "of", "share"])
    for f in rep["failed"]:
        w.writerow([f.card, f.item, f.text, f.failed, f.of, round(f.share, 4)])
    return ("\ufeff" + buf.getvalue()).encode()
