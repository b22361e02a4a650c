"""A survey's built data set: responses of three campaigns in three zones and none, two
agents and none, over two months with a clock change, partial ones, skips, odd stored values
and blank comments (tests/campaigns/test_survey_sql.py, test_survey_grouped.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns import rules, survey_store
from campaigns import store as campaigns
from campaigns.models import SurveyAnswer, SurveyResponse
from campaigns.surveys import Question, QuestionKind, Survey
from outdial import auth
from outdial.roles import Role

#: stored before a question changed type, or junk: left out of the numbers
ODD: tuple[object, ...] = ("4", True, 7, 0, None, 2.0)

SURVEY = Survey(
    name="mixed",
    questions=(
        Question("overall", QuestionKind.SCALE, "总体", "Overall"),
        Question("nps", QuestionKind.SCALE, "推荐", "Recommend", low=0, high=10),
        Question("solved", QuestionKind.YES_NO, "解决", "Solved"),
        Question("channel", QuestionKind.CHOICE, "渠道", "Channel",
                 choices=(("电话", "phone"), ("网", "web"), ("店", "shop"))),
        Question("comment", QuestionKind.OPEN, "意见", "Comment"),
    ),
)  # fmt: skip
# New York changes its clocks on 2026-03-08 and 2026-11-01; Kolkata is UTC+5:30
ZONES = ("Asia/Shanghai", "America/New_York", "Asia/Kolkata")
START = datetime(2026, 2, 20, tzinfo=UTC)
COMMENTS = ("很好", "", "   ", "\u3000", "slow\tline", "call me on 13812345678", 3, None)


def _value(rng: random.Random, q: Question, odd: tuple[object, ...]) -> object:
    if q.kind is QuestionKind.OPEN:
        return rng.choice(COMMENTS)
    if rng.random() < 0.05:
        return rng.choice(odd)
    if q.kind is QuestionKind.YES_NO:
        return rng.random() < 0.6
    if q.kind is QuestionKind.CHOICE:
        return rng.randint(1, 3)
    return rng.randint(q.low, q.high)


def build(engine: Engine, n: int = 900, odd: tuple[object, ...] = ODD) -> int:
    """Responses over two months (a clock change inside), three campaigns in three zones
    and none, two agents and none, partial ones, skips, odd values, no answers at all."""
    rng = random.Random(7)
    cids = []
    for i, zone in enumerate(ZONES):
        spec = rules.parse_campaign(
            {"name": f"回访{i}", "caller_id": "+8610010000", "timezone": zone}
        )
        cids.append(campaigns.save_spec(engine, spec)[0].id)
    agents = [auth.create_user(engine, f"a{i}", "secret-pass-123", Role.AGENT).id
              for i in range(2)]  # fmt: skip
    sid = survey_store.save_survey(engine, SURVEY).id or 0
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for k in range(n):
        at = START + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        responses.append({
            "idempotency_key": f"k{k}", "survey_id": sid,
            "campaign_id": rng.choice([*cids, None]), "agent_id": rng.choice([*agents, None]),
            "channel": rng.choice(["ivr", "ivr", "agent"]),
            "status": rng.choice(["completed", "completed", "hung_up", "partial", "opted_out"]),
            "phone": f"+86139{k:08d}", "contact_ref": "", "started_at": at,
        })  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.insert(SurveyResponse), responses)
        ids = [
            r
            for (r,) in conn.execute(
                sa.select(col(SurveyResponse.id)).order_by(col(SurveyResponse.id))
            )
        ]
        for rid, resp in zip(ids, responses, strict=True):
            reached = rng.randint(0, len(SURVEY.questions))
            for j, q in enumerate(SURVEY.questions[:reached]):
                skipped = rng.random() < 0.1
                answers.append({
                    "response_id": rid, "question_id": q.id,
                    "value": None if skipped else _value(rng, q, odd), "skipped": skipped,
                    # minutes after the start: a few cross midnight, local or UTC
                    "answered_at": resp["started_at"] + timedelta(minutes=j + rng.randint(1, 90)),
                })  # fmt: skip
        conn.execute(sa.insert(SurveyAnswer), answers)
    return sid
