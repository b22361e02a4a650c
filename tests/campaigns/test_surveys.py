"""campaigns/surveys.py: the seed template, the IVR flow and the results math (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import surveys as sv
from campaigns.errors import SurveyInvalid

SEED = sv.SEED_TEMPLATE
NPS_SURVEY = sv.parse_survey(
    {
        "name": "nps",
        "questions": [
            {
                "id": "recommend",
                "kind": "scale",
                "low": 0,
                "high": 10,
                "zh": "推荐",
                "en": "Recommend?",
            },
            {"id": "again", "kind": "yes_no", "zh": "再来", "en": "Again?"},
            {
                "id": "channel",
                "kind": "choice",
                "zh": "渠道",
                "en": "Channel",
                "choices": ["a", "b", "c"],
            },
        ],
    }
)


def run(s: sv.Survey, events: list[sv.Event]) -> tuple[sv.IvrState, list[sv.Action]]:
    state, out = sv.IvrState(), list[sv.Action]()
    for ev in events:
        state, actions = sv.step(s, state, ev)
        out.extend(actions)
    return state, out


def saved(actions: list[sv.Action]) -> dict[str, object]:
    return {a.question_id: a.value for a in actions if isinstance(a, sv.SaveAnswer)}


def test_seed_template_has_the_six_questions_in_both_languages() -> None:
    kinds = [q.kind for q in SEED.questions]
    assert kinds == [sv.QuestionKind.SCALE] * 5 + [sv.QuestionKind.OPEN]
    assert all(q.zh and q.en and q.zh != q.en for q in SEED.questions)
    assert sv.parse_survey(sv.survey_to_dict(SEED)) == SEED


def test_stored_surveys_keep_their_ivr_timings() -> None:
    data = {**sv.survey_to_dict(SEED), "key_timeout_s": 9, "inter_digit_s": 2}
    data["record_seconds"] = 30
    back = sv.parse_survey(data)
    assert (back.key_timeout_s, back.inter_digit_s, back.record_seconds) == (9, 2, 30)
    again = sv.survey_to_dict(back)
    assert (again["key_timeout_s"], again["inter_digit_s"], again["record_seconds"]) == (9, 2, 30)
    assert sv.parse_survey(again) == back
    for name, bad in (("key_timeout_s", 0), ("inter_digit_s", "3"), ("record_seconds", True)):
        with pytest.raises(SurveyInvalid, match=name):
            sv.parse_survey({**data, name: bad})


def test_a_full_ivr_survey_saves_each_answer_before_the_next_prompt() -> None:
    keys = [sv.KeyPressed(k) for k in "54321"]
    state, actions = run(SEED, [sv.Started(), *keys, sv.Recorded("rec-1", 4.2)])
    assert state.phase is sv.Phase.DONE and state.status == "completed"
    assert saved(actions) == {
        "overall": 5,
        "waiting": 4,
        "skill": 3,
        "solution": 2,
        "attitude": 1,
        "comment": "rec-1",
    }
    first_save = actions.index(sv.SaveAnswer("overall", 5))
    assert actions[first_save + 1] == sv.PlayPrompt("q:waiting")
    assert sv.RecordAudio("comment", 60) in actions
    assert actions[-3:] == [sv.PlayPrompt("thanks"), sv.Hangup(), sv.Finish("completed")]


def test_invalid_then_missing_key_repeats_then_skips() -> None:
    state, actions = run(SEED, [sv.Started(), sv.KeyPressed("7"), sv.TimedOut(), sv.TimedOut()])
    assert sv.PlayPrompt("invalid") in actions and sv.PlayPrompt("no_input") in actions
    assert actions.count(sv.PlayPrompt("q:overall")) == 3  # asked once, repeated twice
    assert sv.SkipQuestion("overall") in actions
    assert state.index == 1 and state.tries == 0


def test_opt_out_key_adds_dnc_first_and_hangs_up() -> None:
    state, actions = run(SEED, [sv.Started(), sv.KeyPressed("4"), sv.KeyPressed("*")])
    assert state.status == "opted_out"
    i = actions.index(sv.AddToDnc())
    assert actions[i:] == [
        sv.AddToDnc(),
        sv.PlayPrompt("opt_out"),
        sv.Hangup(),
        sv.Finish("opted_out"),
    ]
    assert saved(actions) == {"overall": 4}  # the partial answer is kept


def test_zero_to_ten_takes_two_digits_or_a_terminator() -> None:
    _, a = run(
        NPS_SURVEY,
        [
            sv.Started(),
            sv.KeyPressed("1"),
            sv.KeyPressed("0"),
            sv.KeyPressed("1"),
            sv.KeyPressed("3"),
        ],
    )
    assert saved(a) == {"recommend": 10, "again": True, "channel": 3}
    _, a = run(NPS_SURVEY, [sv.Started(), sv.KeyPressed("1"), sv.TimedOut()])
    assert saved(a) == {"recommend": 1}
    _, a = run(NPS_SURVEY, [sv.Started(), sv.KeyPressed("1"), sv.KeyPressed("#")])
    assert saved(a) == {"recommend": 1}
    _, a = run(NPS_SURVEY, [sv.Started(), sv.KeyPressed("7"), sv.KeyPressed("2")])
    assert saved(a) == {"recommend": 7, "again": False}


def test_hangup_keeps_the_flow_partial_and_unexpected_events_raise() -> None:
    state, actions = run(SEED, [sv.Started(), sv.KeyPressed("3"), sv.HungUp()])
    assert state.status == "hung_up" and actions[-1] == sv.Finish("hung_up")
    with pytest.raises(sv.IvrEventUnexpected):
        sv.step(SEED, sv.IvrState(), sv.KeyPressed("1"))
    with pytest.raises(sv.IvrEventUnexpected):
        run(SEED, [sv.Started(), sv.Recorded("x", 1.0)])


EVENTS = st.one_of(
    st.builds(sv.KeyPressed, st.sampled_from(list("0123456789*#"))),
    st.just(sv.TimedOut()),
    st.builds(sv.Recorded, st.text(max_size=3), st.floats(0, 60)),
    st.just(sv.HungUp()),
)


@settings(max_examples=300)
@given(st.sampled_from([SEED, NPS_SURVEY]), st.lists(EVENTS, max_size=60))
def test_ivr_flow_always_advances_or_ends(survey: sv.Survey, events: list[sv.Event]) -> None:
    state, _ = sv.step(survey, sv.IvrState(), sv.Started())
    for ev in events:
        before = state
        try:
            state, actions = sv.step(survey, state, ev)
        except sv.IvrEventUnexpected:
            continue  # the typed refusal; the state is unchanged
        if before.phase is sv.Phase.DONE:
            assert state == before and actions == ()
        else:
            assert state.phase is sv.Phase.DONE or sv.progress(state) > sv.progress(before)
            assert actions, "every step tells the engine what to do"
    # bounded: no flow outlives (questions x (repeats + 1) x 2) events
    assert state.index <= len(survey.questions)


def test_results_math() -> None:
    q = SEED.questions[0]
    st_ = sv.question_stats(q, [5, 5, 4, 3, 1])
    assert st_.count == 5 and st_.mean == pytest.approx(3.6)
    assert st_.distribution == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 2}
    assert st_.top_box_share == pytest.approx(0.4) and st_.csat == pytest.approx(0.6)
    nps = sv.question_stats(NPS_SURVEY.questions[0], [10, 9, 8, 6, 0])
    assert nps.nps == pytest.approx(0.0)  # 2 promoters, 2 detractors of 5
    yn = sv.question_stats(NPS_SURVEY.questions[1], [True, False, True, True])
    assert yn.yes_share == pytest.approx(0.75)


def test_results_grouped_by_agent_and_day() -> None:
    mon, tue = datetime(2026, 3, 2, 2, 0, tzinfo=UTC), datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    facts = [
        sv.AnswerFact("overall", 5, "c1", "wang", mon),
        sv.AnswerFact("overall", 3, "c1", "li", mon),
        sv.AnswerFact("overall", 4, "c2", "li", tue),
        sv.AnswerFact("comment", "很好", "c1", "wang", mon),
    ]
    by_agent = sv.results(SEED, facts, "agent")
    assert by_agent["li"][0].mean == pytest.approx(3.5)
    assert by_agent["wang"][5].open_answers == ("很好",)
    assert set(sv.results(SEED, facts, "day")) == {"2026-03-02", "2026-03-03"}
    with pytest.raises(SurveyInvalid):
        sv.results(SEED, facts, "weather")


def test_a_day_is_the_campaign_local_day_not_the_utc_day() -> None:
    # 2026-03-01 23:30 UTC is 2026-03-02 07:30 in Shanghai; 16:00 UTC is local midnight
    late, before, midnight = (
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 15, 59, tzinfo=UTC),
        datetime(2026, 3, 1, 16, 0, tzinfo=UTC),
    )
    cn = "Asia/Shanghai"
    assert sv.AnswerFact("overall", 5, "cn", answered_at=late, zone=cn).day == date(2026, 3, 2)
    assert sv.AnswerFact("overall", 5, "cn", answered_at=before, zone=cn).day == date(2026, 3, 1)
    assert sv.AnswerFact("overall", 5, "cn", answered_at=midnight, zone=cn).day == date(2026, 3, 2)
    assert sv.AnswerFact("overall", 5, answered_at=late).day == date(2026, 3, 1)  # UTC
    facts = [
        sv.AnswerFact("overall", 5, "cn", answered_at=late, zone=cn),
        sv.AnswerFact("overall", 3, "cn", answered_at=before, zone=cn),
        sv.AnswerFact("overall", 1, "", answered_at=late),
    ]
    by_day = sv.results(SEED, facts, "day")
    assert by_day["2026-03-01"][0].count == 2 and by_day["2026-03-01"][0].mean == 2
    assert by_day["2026-03-02"][0].count == 1 and by_day["2026-03-02"][0].mean == 5


def test_answer_facts_refuse_naive_instants_and_unknown_zones() -> None:
    with pytest.raises(SurveyInvalid, match="aware"):
        sv.AnswerFact("overall", 5, answered_at=datetime(2026, 3, 1, 23, 30))
    with pytest.raises(SurveyInvalid, match="time zone"):
        sv.AnswerFact("overall", 5, answered_at=datetime(2026, 3, 1, tzinfo=UTC), zone="Mars/Base")


@given(
    st.lists(st.integers(0, 10), max_size=80),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=80),
)
def test_results_invariants(values: list[int], agents: list[str]) -> None:
    q = NPS_SURVEY.questions[0]
    s = sv.question_stats(q, values)
    assert sum(s.distribution.values()) == s.count == len(values)
    if values:
        assert s.mean is not None and 0 <= s.mean <= 10
        assert s.top_box_share is not None and s.csat is not None
        assert 0 <= s.top_box_share <= s.csat <= 1
        assert s.nps is not None and -100 <= s.nps <= 100
    facts = [sv.AnswerFact("recommend", v, agent=a) for v, a in zip(values, agents, strict=False)]
    grouped = sv.results(NPS_SURVEY, facts, "agent")
    assert sum(g[0].count for g in grouped.values()) == len(facts)


def test_agent_answers_are_validated() -> None:
    q = SEED.questions[0]
    assert sv.validate_answer(q, 4) == 4
    for bad in (0, 6, "5", True):
        with pytest.raises(SurveyInvalid):
            sv.validate_answer(q, bad)
    with pytest.raises(SurveyInvalid, match="also an answer key"):
        sv.parse_survey({**sv.survey_to_dict(SEED), "opt_out_key": "3"})
