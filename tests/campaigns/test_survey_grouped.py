"""campaigns/survey_grouped.py: the CLI's and API's results counted by the database are
campaigns/surveys.py ``results`` of every answer read (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from surveydata import SURVEY, ZONES, build

from campaigns import survey_grouped, survey_store, surveys
from campaigns.errors import SurveyInvalid

# odd values question_stats reads (a bool or a float on a scale is an error there)
ODD = ("4", 7, 0, None)


@pytest.mark.parametrize("by", [None, "campaign", "agent", "day"])
def test_grouped_results_are_those_of_every_answer(engine: Engine, by: str | None) -> None:
    sid = build(engine, 600, ODD)
    facts = survey_store.answer_facts(engine, sid)
    grouped, day_zones = survey_grouped.results(engine, SURVEY, sid, by)
    assert grouped == surveys.results(SURVEY, facts, by)
    assert day_zones == {f.campaign: f.zone for f in sorted(facts, key=lambda f: f.campaign)}
    assert day_zones == {"": "UTC", "回访0": ZONES[0], "回访1": ZONES[1], "回访2": ZONES[2]}
    if by == "day":  # two months of local days, each campaign's own
        assert len(grouped) > 50
    elif by is not None:
        assert "" in grouped and len(grouped) == {"campaign": 4, "agent": 3}[by]


def test_the_json_results_and_a_wrong_group(engine: Engine) -> None:
    sid = build(engine, 120, ODD)
    data = survey_store.results(engine, sid, "campaign")
    facts = survey_store.answer_facts(engine, sid)
    want = surveys.results(SURVEY, facts, "campaign")
    assert data["groups"] == {k: [st.as_dict() for st in v] for k, v in want.items()}
    with pytest.raises(SurveyInvalid):
        survey_grouped.results(engine, SURVEY, sid, "week")
