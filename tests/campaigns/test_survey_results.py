"""The survey team's numbers, computed by hand (campaigns/survey_results.py, issue 14)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from campaigns import survey_results as sr
from campaigns.errors import SurveyInvalid
from campaigns.surveys import Question, QuestionKind, Survey

SURVEY = Survey(
    name="hand",
    questions=(
        Question("overall", QuestionKind.SCALE, "总体", "Overall"),
        Question("recommend", QuestionKind.SCALE, "推荐", "Recommend", 0, 10),
        Question("resolved", QuestionKind.YES_NO, "解决", "Resolved"),
        Question("comment", QuestionKind.OPEN, "意见", "Comment"),
    ),
)
SH = "Asia/Shanghai"


def fact(rid: int, channel: str, status: str, at: str, **answers: object) -> sr.ResponseFact:
    skipped = frozenset(k for k, v in answers.items() if v is None)
    return sr.ResponseFact(
        id=rid,
        campaign="回访" if rid % 2 else "核单",
        agent="" if channel == "ivr" else f"agent{rid}",
        channel=channel,
        status=status,
        started_at=datetime.fromisoformat(at),
        zone=SH,
        phone=f"+861380000{rid:04d}",
        answers={k: v for k, v in answers.items() if v is not None},
        skipped=skipped,
    )


FACTS = [
    # 17:00 UTC on 1 March is already 2 March in Shanghai
    fact(
        1,
        "ivr",
        "completed",
        "2026-03-01T17:00:00+00:00",
        overall=5,
        recommend=10,
        resolved=True,
        comment="/data/recordings/ivr/c1-comment.wav",
    ),
    fact(
        2,
        "agent",
        "completed",
        "2026-03-03T02:00:00+00:00",
        overall=4,
        recommend=9,
        resolved=True,
        comment="wait too long, call me on 13900001234",
    ),
    fact(
        3,
        "agent",
        "completed",
        "2026-03-04T02:00:00+00:00",
        overall=2,
        recommend=6,
        resolved=False,
        comment="太慢",
    ),
    fact(4, "ivr", "hung_up", "2026-03-09T02:00:00+00:00", overall=1),
    fact(5, "ivr", "hung_up", "2026-02-27T02:00:00+00:00"),
    fact(
        6,
        "ivr",
        "completed",
        "2026-02-28T02:00:00+00:00",
        overall=3,
        recommend=7,
        resolved=None,
        comment=None,
    ),
]


def test_means_top_box_csat_nps_and_response_rate_by_hand() -> None:
    v = sr.view(SURVEY, FACTS, sr.Filters())
    by = {s.question_id: s for s in v.questions}
    overall = by["overall"]  # 5, 4, 2, 1, 3
    assert overall.count == 5 and overall.mean == pytest.approx(3.0)
    assert overall.top_box_share == pytest.approx(1 / 5)  # one 5
    assert overall.csat == pytest.approx(2 / 5)  # 4 and 5
    assert overall.distribution == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    rec = by["recommend"]  # 10, 9, 6, 7: promoters 2, detractors 1
    assert rec.mean == pytest.approx(8.0) and rec.top_box_share == pytest.approx(0.25)
    assert rec.nps == pytest.approx(25.0) and rec.csat == pytest.approx(0.5)
    assert by["resolved"].yes_share == pytest.approx(2 / 3)
    assert by["overall"].nps is None  # NPS only on a 0-10 question
    assert (v.offered, v.completed) == (6, 4) and v.response_rate == pytest.approx(4 / 6)
    assert v.headline == "overall" and v.csat == pytest.approx(0.4) and v.nps == pytest.approx(25)


def test_ivr_drop_off_per_question() -> None:
    v = sr.view(SURVEY, FACTS, sr.Filters(channel="ivr"))
    # IVR: #1 and #6 completed (a skip counts as asked), #4 ended at recommend, #5 at overall
    got = [(d.question_id, d.reached, d.dropped) for d in v.drop_off]
    assert got == [("overall", 4, 1), ("recommend", 3, 1), ("resolved", 2, 0), ("comment", 2, 0)]
    assert v.drop_off[1].share == pytest.approx(1 / 3)
    agent_only = sr.view(SURVEY, FACTS, sr.Filters(channel="agent"))
    assert all(d.reached == 0 and d.share is None for d in agent_only.drop_off)


def test_days_weeks_months_in_the_campaign_time_zone() -> None:
    def ids(period: sr.Period, on: date) -> list[int]:
        return [r.id for r in sr.select(SURVEY, FACTS, sr.Filters(period=period, on=on))]

    assert ids(sr.Period.DAY, date(2026, 3, 2)) == [1]  # Shanghai's day, not UTC's
    assert ids(sr.Period.DAY, date(2026, 3, 1)) == []
    assert ids(sr.Period.WEEK, date(2026, 3, 4)) == [1, 2, 3]  # Monday 2 to Sunday 8 March
    assert ids(sr.Period.MONTH, date(2026, 2, 10)) == [5, 6]
    assert sr.period_span(sr.Period.MONTH, date(2028, 2, 10)) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
    )


def test_score_filter_open_answers_and_masking() -> None:
    low = sr.view(SURVEY, FACTS, sr.Filters(scores=frozenset({1, 2})))
    assert [r.id for r in low.responses] == [3, 4]
    assert [(a.response_id, a.score, a.text) for a in low.open_answers] == [(3, 2, "太慢")]
    every = sr.view(SURVEY, FACTS, sr.Filters())
    texts = {a.response_id: a for a in every.open_answers}
    assert texts[1].clip.endswith("c1-comment.wav") and texts[1].text == ""
    assert "13900001234" not in texts[2].text and "*******1234" in texts[2].text
    assert texts[2].phone == "+*********0002"
    by_agent = sr.view(SURVEY, FACTS, sr.Filters(agent="agent3", campaign="回访"))
    assert [r.id for r in by_agent.responses] == [3]


def test_the_export_table_of_a_view() -> None:
    v = sr.view(SURVEY, FACTS, sr.Filters(channel="agent"))
    rows = sr.table(SURVEY, v)
    assert rows[0] == [*sr.HEADER, "overall", "recommend", "resolved", "comment"]
    assert rows[1][:7] == [
        2,
        "核单",
        "agent2",
        "agent",
        "completed",
        "2026-03-03",
        "+*********0002",
    ]
    assert rows[1][7:10] == [4, 9, "yes"] and "13900001234" not in str(rows[1][10])
    assert sr.table(SURVEY, sr.view(SURVEY, FACTS, sr.Filters(channel="ivr")))[4][9:] == ["", ""]


def test_filters_that_cannot_apply_are_refused_with_words() -> None:
    with pytest.raises(SurveyInvalid, match="agent or ivr"):
        sr.view(SURVEY, FACTS, sr.Filters(channel="sms"))
    with pytest.raises(SurveyInvalid, match="scored 1-5"):
        sr.view(SURVEY, FACTS, sr.Filters(scores=frozenset({9})))
    with pytest.raises(SurveyInvalid, match="no scale question"):
        sr.view(SURVEY, FACTS, sr.Filters(score_question="comment", scores=frozenset({1})))
    with pytest.raises(SurveyInvalid, match="aware"):
        sr.ResponseFact(1, "", "", "ivr", "completed", datetime(2026, 1, 1))
    assert sr.view(SURVEY, [], sr.Filters()).response_rate is None
    assert sr.mask_phone("") == "" and sr.mask_phone("1234") == "****"


def test_answers_stored_before_an_edit_are_left_out_not_a_crash() -> None:
    edited = Survey(
        name="hand",
        questions=(
            Question("overall", QuestionKind.YES_NO, "总体", "Overall"),  # was a 1-5 scale
            Question("comment", QuestionKind.SCALE, "意见", "Comment", 1, 10),  # was open
        ),
    )
    v = sr.view(edited, FACTS, sr.Filters())
    assert [s.count for s in v.questions] == [0, 0] and v.csat is None
    assert sr.fits(SURVEY.questions[1], 0) and not sr.fits(SURVEY.questions[0], 0)
    assert not sr.fits(SURVEY.questions[0], True) and sr.fits(SURVEY.questions[2], False)


def test_comparisons_by_campaign_agent_and_period() -> None:
    kept = sr.select(SURVEY, FACTS, sr.Filters())
    camps = sr.compare(SURVEY, kept, "campaign")
    # 回访: #1 (5), #3 (2), #5 (no answer); 核单: #2 (4), #4 (1), #6 (3)
    assert [(g.key, g.offered, g.completed, g.answers) for g in camps] == [
        ("回访", 3, 2, 2), ("核单", 3, 2, 3)]  # fmt: skip
    assert camps[0].mean == pytest.approx(3.5) and camps[0].csat == pytest.approx(0.5)
    assert camps[1].mean == pytest.approx(8 / 3) and camps[1].csat == pytest.approx(1 / 3)
    weeks = sr.compare(SURVEY, kept, "week")  # Shanghai days: 27, 28 Feb; 2, 3, 4, 9 Mar
    assert [(g.key, g.offered) for g in weeks] == [
        ("2026-02-23", 2), ("2026-03-02", 3), ("2026-03-09", 1)]  # fmt: skip
    assert [g.key for g in sr.compare(SURVEY, kept, "month")] == ["2026-02", "2026-03"]
    assert [g.key for g in sr.compare(SURVEY, kept, "agent")][:2] == ["", "agent2"]


def test_a_page_lists_the_newest_open_answers_and_counts_them_all() -> None:
    v = sr.view(SURVEY, FACTS, sr.Filters(), open_limit=2)
    assert v.open_total == 3 and [a.response_id for a in v.open_answers] == [3, 2]
