"""campaigns/survey_sql.py: the results page's numbers counted in the database are the ones
campaigns/survey_results.py counts in Python, on a built data set (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns import rules, survey_results, survey_sql, survey_store
from campaigns import store as campaigns
from campaigns.models import SurveyAnswer, SurveyResponse
from campaigns.survey_results import Filters, Period
from campaigns.surveys import Question, QuestionKind, Survey
from outdial import auth
from outdial.roles import Role

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


def _value(rng: random.Random, q: Question) -> object:
    odd = rng.random() < 0.05  # stored before the question changed type, or junk
    if q.kind is QuestionKind.OPEN:
        return rng.choice(COMMENTS)
    if odd:
        return rng.choice(["4", True, 7, 0, None, 2.0])
    if q.kind is QuestionKind.YES_NO:
        return rng.random() < 0.6
    if q.kind is QuestionKind.CHOICE:
        return rng.randint(1, 3)
    return rng.randint(q.low, q.high)


def build(engine: Engine, n: int = 900) -> int:
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
                    "value": None if skipped else _value(rng, q), "skipped": skipped,
                    # minutes after the start: a few cross midnight, local or UTC
                    "answered_at": resp["started_at"] + timedelta(minutes=j + rng.randint(1, 90)),
                })  # fmt: skip
        conn.execute(sa.insert(SurveyAnswer), answers)
    return sid


def _same(old: survey_results.View, new: survey_results.View) -> None:
    for name in ("offered", "completed", "response_rate", "headline", "csat", "nps",
                 "drop_off", "open_answers", "open_total"):  # fmt: skip
        assert getattr(new, name) == getattr(old, name), name
    for a, b in zip(old.questions, new.questions, strict=True):
        assert b == replace(a, open_answers=()), a.question_id


FILTERS = [
    Filters(),
    Filters(channel="ivr"),
    Filters(campaign="回访1"),
    Filters(agent="a0", channel="agent"),
    Filters(period=Period.DAY, on=date(2026, 3, 8)),
    Filters(campaign="回访1", period=Period.WEEK, on=date(2026, 3, 8)),
    Filters(campaign="回访2", period=Period.MONTH, on=date(2026, 3, 1)),
    Filters(scores=frozenset({1, 2})),
    Filters(score_question="nps", scores=frozenset({0, 9, 10}), channel="agent"),
    Filters(campaign="no such campaign"),
]


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_numbers_are_those_counted_in_python(engine: Engine, grain: str) -> None:
    sid = build(engine)
    facts = survey_store.response_facts(engine, sid)
    where = survey_sql.scope(engine, sid)
    assert where.zones == {"回访0": ZONES[0], "回访1": ZONES[1], "回访2": ZONES[2]}
    assert sorted(where.agents.values()) == ["a0", "a1"]
    seen = []
    for f in FILTERS:
        old = survey_results.view(SURVEY, facts, f, open_limit=40)
        seen.append(old.offered)
        new = survey_sql.summary(engine, SURVEY, sid, f, where, grain, open_limit=40)
        _same(old, new.view)
        for by, key in (("campaign", "campaign"), ("agent", "agent"), (grain, "trend")):
            assert new.groups[key] == survey_results.compare(SURVEY, old.responses, by), (f, by)
    assert all(seen[:-1]) and seen[-1] == 0  # each filter keeps some responses, but the last
    everything = survey_sql.summary(engine, SURVEY, sid, Filters(), where).view
    assert everything.offered == 900 and len(everything.open_answers) == everything.open_total
    blank = sum(1 for r in facts if isinstance(r.answers.get("comment"), str))
    assert 0 < everything.open_total < blank  # blank comments ("", spaces, U+3000) are none


def test_a_survey_without_responses(engine: Engine) -> None:
    sid = survey_store.save_survey(engine, SURVEY).id or 0
    where = survey_sql.scope(engine, sid)
    got: Any = survey_sql.summary(engine, SURVEY, sid, Filters(), where)
    _same(survey_results.view(SURVEY, [], Filters()), got.view)
    assert got.groups == {"campaign": (), "agent": (), "trend": ()}
