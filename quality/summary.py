"""QA report arithmetic (质检报表) — the pure core: average scores by agent, team, campaign
and week, and the items most often failed. The store hands in one fact per evaluation.
An agent's team is the one they are in when the report is made (users.team)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from quality.errors import GroupingInvalid

BY = ("agent", "team", "campaign", "week")
NO_TEAM = "—"  # the key of agents in no team


@dataclass(frozen=True)
class EvalFact:
    agent: str
    campaign: str
    at: datetime  # aware: when the evaluation was made
    score: float
    critical: bool  # a critical item failed
    failed: tuple[str, ...]  # item ids
    item_texts: tuple[tuple[str, str], ...] = ()  # item id -> its text on the card used
    card: str = ""
    team: str = ""


@dataclass(frozen=True)
class ScoreRow:
    key: tuple[str, ...]
    evaluations: int
    average: float
    lowest: float
    critical: int


@dataclass(frozen=True)
class FailedItem:
    card: str
    item: str
    text: str
    failed: int
    of: int  # evaluations with that card

    @property
    def share(self) -> float:
        return self.failed / self.of if self.of else 0.0


def week_label(at: datetime, zone: str) -> str:
    """ISO week of the evaluation, with the Monday it starts: ``2026-W49 (11-30)``."""
    local = at.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=local.weekday())
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d} ({monday:%m-%d})"


def _average(fs: list[EvalFact]) -> float:
    """Half up to one decimal, as the composite itself (quality/cards.py)."""
    total = sum((Decimal(str(f.score)) for f in fs), Decimal(0)) / len(fs)
    return float(total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def scores_by(facts: Iterable[EvalFact], by: tuple[str, ...], zone: str) -> list[ScoreRow]:
    """Average, lowest and critical failures per group, groups sorted by key."""
    for b in by:
        if b not in BY:
            raise GroupingInvalid(f"group by {', '.join(BY)}, not {b!r}", field="by")
    groups: dict[tuple[str, ...], list[EvalFact]] = {}
    for f in facts:
        parts = {
            "agent": f.agent,
            "team": f.team or NO_TEAM,
            "campaign": f.campaign,
            "week": week_label(f.at, zone),
        }
        groups.setdefault(tuple(parts[b] for b in by), []).append(f)
    return [
        ScoreRow(
            key,
            len(fs),
            _average(fs),
            min(f.score for f in fs),
            sum(1 for f in fs if f.critical),
        )
        for key, fs in sorted(groups.items())
    ]


def most_failed(facts: Iterable[EvalFact], top: int = 10) -> list[FailedItem]:
    """Items failed most often, counted per card (an item id means something per card)."""
    seen: dict[str, int] = {}
    fails: dict[tuple[str, str], int] = {}
    texts: dict[tuple[str, str], str] = {}
    for f in facts:
        seen[f.card] = seen.get(f.card, 0) + 1
        for item_id, text in f.item_texts:
            texts[(f.card, item_id)] = text
        for item_id in f.failed:
            fails[(f.card, item_id)] = fails.get((f.card, item_id), 0) + 1
    rows = [
        FailedItem(card, item, texts.get((card, item), item), n, seen[card])
        for (card, item), n in fails.items()
    ]
    rows.sort(key=lambda r: (-r.failed, -r.share, r.card, r.item))
    return rows[:top]
