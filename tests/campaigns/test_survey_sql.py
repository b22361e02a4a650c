"""campaigns/survey_sql.py: the results page's numbers counted in the database are the ones
campaigns/survey_results.py counts in Python, on a built data set (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from surveydata import SURVEY, ZONES, build

from campaigns import survey_results, survey_sql, survey_store
from campaigns.survey_results import Filters, Period


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


def test_a_survey_without_a_scale_question(engine: Engine) -> None:
    """No headline question: no CSAT, comparisons without a mean, the rest counted."""
    survey = replace(SURVEY, name="no_scale", questions=SURVEY.questions[2:])
    sid = build(engine, 120)
    survey_store.save_survey(engine, survey)
    facts = survey_store.response_facts(engine, sid)
    where = survey_sql.scope(engine, sid)
    got = survey_sql.summary(engine, survey, sid, Filters(channel="ivr"), where, "week")
    old = survey_results.view(survey, facts, Filters(channel="ivr"))
    _same(old, got.view)
    assert got.view.csat is None and got.view.offered > 0
    assert got.groups["trend"] == survey_results.compare(survey, old.responses, "week")
