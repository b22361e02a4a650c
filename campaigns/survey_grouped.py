"""``outdial surveys results`` and ``GET /api/surveys/{id}/results``, counted by the database.

campaigns/surveys.py ``results`` groups every stored answer in Python (answer_facts in
campaigns/survey_store.py: one ORM row per answer). Here the database counts the answers
per group, question and stored value; only open answers' texts are read one by one (the
JSON lists every one). The math stays campaigns/surveys.py's (``counted_stats`` on the
counts, ``question_stats`` on the texts), so the output is the same
(tests/campaigns/test_survey_grouped.py compares both).

An answer's day is the calendar day of its ``answered_at`` in its campaign's time zone (UTC
outside any campaign), computed in SQL as in campaigns/survey_sql.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns.errors import SurveyInvalid
from campaigns.models import SurveyAnswer, SurveyResponse
from campaigns.survey_sql import (
    EPOCH,
    Scope,
    campaign_offsets,
    day_expr,
    load_json,
    scope,
    table_of,
    zones_by_id,
)
from campaigns.surveys import (
    GROUPS,
    QuestionKind,
    QuestionStats,
    Survey,
    counted_stats,
    question_stats,
)

DAY_ZONE_DEFAULT = "UTC"


def results(
    engine: Engine, survey: Survey, survey_id: int, by: str | None = None
) -> tuple[dict[str, list[QuestionStats]], dict[str, str]]:
    """surveys.py ``results`` of the survey's stored answers, and ``day_zones`` (campaign
    name -> the zone its days are counted in; ``""`` for answers outside any campaign)."""
    if by is not None and by not in GROUPS:
        raise SurveyInvalid(f"group by one of {', '.join(GROUPS)}", field="by")
    where = scope(engine, survey_id)
    r, a = table_of(SurveyResponse), table_of(SurveyAnswer)
    text = sa.cast(a.c.value, sa.Text)
    opened = [q.id for q in survey.questions if q.kind is QuestionKind.OPEN]
    given = [
        r.c.survey_id == survey_id,
        sa.not_(a.c.skipped),
        a.c.value.is_not(None),
        text != "null",  # a JSON null is no answer either
    ]
    with engine.connect() as conn:
        key = _key(by, r, a, day_expr(conn, r.c.campaign_id, a.c.answered_at,
                                      campaign_offsets(conn, survey_id, where)))  # fmt: skip
        base = sa.select().select_from(a.join(r, r.c.id == a.c.response_id)).where(*given)
        counted = conn.execute(
            base.add_columns(key, a.c.question_id, text, sa.func.count())
            .where(a.c.question_id.not_in(opened))
            .group_by(key, a.c.question_id, text)
        ).all()
        texts = conn.execute(
            base.add_columns(key, a.c.question_id, text)
            .where(a.c.question_id.in_(opened))
            .order_by(a.c.response_id, a.c.id)
        ).all()
        camps = conn.execute(base.add_columns(r.c.campaign_id).distinct()).scalars().all()
    counts: dict[str, dict[str, Counter[object]]] = defaultdict(lambda: defaultdict(Counter))
    for k, qid, value, n in counted:
        counts[_name(by, k, where)][qid][load_json(value)] += n
    open_texts: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for k, qid, value in texts:
        open_texts[_name(by, k, where)][qid].append(load_json(value))
    grouped = {
        k: [
            question_stats(q, open_texts[k][q.id])
            if q.kind is QuestionKind.OPEN
            else counted_stats(q, _as_counted(q.kind, counts[k][q.id]))
            for q in survey.questions
        ]
        for k in sorted({*counts, *open_texts})
    }
    zones = zones_by_id(where)
    day_zones = {
        where.campaign_ids.get(c or 0, ""): zones.get(c or 0, DAY_ZONE_DEFAULT) for c in camps
    }
    return grouped, dict(sorted(day_zones.items()))


def _key(by: str | None, r: sa.Table, a: sa.Table, day: Any) -> Any:
    if by == "campaign":
        return r.c.campaign_id
    if by == "agent":
        return r.c.agent_id
    if by == "day":
        return day
    return sa.literal("all")


def _name(by: str | None, k: Any, where: Scope) -> str:
    if by == "campaign":
        return where.campaign_ids.get(k or 0, "")
    if by == "agent":
        return where.agents.get(k or 0, "")
    if by == "day":
        return date.fromordinal(int(k) + EPOCH).isoformat()
    return "all"


def _as_counted(kind: QuestionKind, values: Counter[object]) -> Counter[object]:
    """The stored values as question_stats reads them (yes/no as bool, others as int; an
    odd stored value fails as it does there)."""
    out: Counter[object] = Counter()
    for v, n in values.items():
        out[bool(v) if kind is QuestionKind.YES_NO else int(str(v))] += n
    return out
