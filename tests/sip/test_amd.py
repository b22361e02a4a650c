"""The pure AMD classifier on synthetic frame timelines: cadence, beeps, background, deadline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sip.amd import FEATURES, AmdClassifier, AmdParams, Frame, Verdict, classify

SILENCE = Frame(20.0, False)
NOISE = Frame(400.0, False)  # the VAD model does not call steady noise speech
SPEECH = Frame(4000.0, True)
TV = Frame(600.0, True)  # speech, but far quieter than the callee


def frames(*parts: tuple[Frame, float]) -> list[Frame]:
    """(frame, seconds) parts -> one frame per 20 ms."""
    out: list[Frame] = []
    for frame, seconds in parts:
        out += [frame] * round(seconds * 50)
    return out


def beep(hz: float, seconds: float, purity: float = 0.95) -> tuple[Frame, float]:
    return Frame(3000.0, True, hz, purity), seconds


def words(n: int, on: float = 0.3, off: float = 0.12) -> list[tuple[Frame, float]]:
    return [(SPEECH, on), (SILENCE, off)] * n


def decide(parts: list[Frame], **kw: float) -> AmdClassifier:
    clf = AmdClassifier(AmdParams(**kw))  # type: ignore[arg-type]
    clf.feed(parts) or clf.finish()
    return clf


def test_short_greeting_then_waiting_is_human() -> None:
    clf = decide(frames((SILENCE, 0.5), (SPEECH, 0.6), (SILENCE, 2.0)))
    assert (clf.verdict, clf.reason) == (Verdict.HUMAN, "waits for us")
    assert clf.elapsed_ms == (25 + 30 + 45) * 20  # decided once the pause reached 900 ms


def test_hello_twice_is_human_in_turns_before_the_long_pause() -> None:
    hello = [(SPEECH, 0.5), (SILENCE, 0.6)]
    clf = decide(frames((SILENCE, 0.3), *hello, *hello, (SPEECH, 2.0)))
    assert (clf.verdict, clf.reason) == (Verdict.HUMAN, "talks in turns")


def test_talking_straight_through_is_machine() -> None:
    clf = decide(frames((SILENCE, 0.3), *words(12)), deadline_ms=6000)
    assert (clf.verdict, clf.reason) == (Verdict.MACHINE, "talks through")
    assert clf.elapsed_ms > 300 + AmdParams().max_talk_ms


def test_sentence_gaps_under_the_pause_do_not_make_a_machine_human() -> None:
    sentence = [*words(5), (SILENCE, 0.6)]  # ~2 s sentences, 0.6 s between them
    clf = decide(frames((SILENCE, 0.3), *(sentence * 3)), deadline_ms=8000)
    assert clf.verdict is Verdict.MACHINE


def test_sparse_talk_over_the_max_is_not_called_a_machine() -> None:
    """A person saying a word now and then, waiting between: words fill too little of it."""
    sparse = [(SPEECH, 0.3), (SILENCE, 0.8)] * 5
    assert classify(frames(*sparse), AmdParams(deadline_ms=8000)) is not Verdict.MACHINE


def test_a_steady_beep_is_machine_at_any_pitch() -> None:
    for hz in (440.0, 1000.0, 1400.0, 2000.0):
        clf = decide(frames((SILENCE, 0.3), (SPEECH, 0.8), (SILENCE, 0.3), beep(hz, 0.5)))
        assert (clf.verdict, clf.reason) == (Verdict.MACHINE, "beep"), hz


def test_a_beep_late_in_the_pause_is_still_heard() -> None:
    """A terse prompt, 0.8 s of quiet, then the tone: the tone does not count as waiting."""
    clf = decide(frames((SILENCE, 0.3), (SPEECH, 0.8), (SILENCE, 0.8), beep(1000.0, 0.5)))
    assert (clf.verdict, clf.reason) == (Verdict.MACHINE, "beep")


def test_a_beep_too_short_or_not_steady_is_not_a_beep() -> None:
    short = frames((SILENCE, 0.3), beep(1000.0, 0.1), (SILENCE, 3.0))
    assert decide(short).reason != "beep"
    wobble = [Frame(3000.0, True, 600.0 + 100.0 * (i % 2), 0.95) for i in range(40)]
    assert decide(frames((SILENCE, 0.3)) + wobble + frames((SILENCE, 3.0))).reason != "beep"
    impure = frames((SILENCE, 0.3), beep(1000.0, 0.5, purity=0.3), (SILENCE, 3.0))
    assert decide(impure).reason != "beep"


def test_steady_noise_is_not_speech() -> None:
    assert classify(frames((NOISE, 5.0))) is Verdict.UNKNOWN
    assert classify(frames((NOISE, 0.5), (SPEECH, 0.5), (NOISE, 2.0))) is Verdict.HUMAN


def test_a_quiet_television_behind_does_not_talk_for_the_callee() -> None:
    tv = [(TV, 0.4), (SILENCE, 0.08)]  # chatters on through the whole call
    timeline = frames(*tv, (SPEECH, 0.6), *(tv * 8))
    assert classify(timeline, AmdParams(deadline_ms=5000)) is Verdict.HUMAN
    # Without the callee's louder voice to compare with, the chatter is talk.
    assert classify(frames(*(tv * 10)), AmdParams(deadline_ms=5000)) is Verdict.MACHINE


def test_deadline_bounds_the_decision_and_unknown_is_the_answer() -> None:
    clf = AmdClassifier(AmdParams(deadline_ms=1000))
    assert clf.feed(frames((SILENCE, 0.9))) is None
    assert clf.feed(frames((SILENCE, 0.2))) is Verdict.UNKNOWN
    assert (clf.elapsed_ms, clf.reason) == (1000, "deadline")
    assert classify(frames((SILENCE, 0.3), *words(6)), AmdParams(deadline_ms=2000)) is (
        Verdict.UNKNOWN
    )


def test_finish_before_anything_is_unknown() -> None:
    assert AmdClassifier().finish() is Verdict.UNKNOWN


frame_st = st.builds(
    Frame,
    st.floats(min_value=0, max_value=32768),
    st.booleans(),
    st.sampled_from([0.0, 440.0, 1000.0]),
    st.floats(min_value=0, max_value=1),
)


@given(st.lists(frame_st, max_size=400), st.integers(min_value=1, max_value=50))
def test_verdict_is_final_and_independent_of_chunking(parts: list[Frame], chunk: int) -> None:
    whole = classify(parts)
    clf = AmdClassifier()
    first = None
    for i in range(0, len(parts), chunk):
        got = clf.feed(parts[i : i + chunk])
        first = first or got
        assert got == first  # once decided, it never changes
    assert (clf.verdict or clf.finish()) == whole
    assert clf.elapsed_ms <= AmdParams().deadline_ms


# --- issue 20 gaps: what the core needs for the two-second rule, and earlier verdicts -------


def test_speech_span_is_reported_from_the_first_word_to_the_last() -> None:
    clf = decide(frames((SILENCE, 0.5), (SPEECH, 0.6), (SILENCE, 2.0)))
    start, end = clf.speech_ms or (0, 0)
    assert (start, end) == (500, 1100)  # the verdict came 0.9 s later; the greeting ended here
    assert decide(frames((SILENCE, 4.0))).speech_ms is None  # nobody spoke


def test_speech_span_while_still_talking_ends_now() -> None:
    clf = AmdClassifier(AmdParams(deadline_ms=6000))
    clf.feed(frames((SILENCE, 0.4), (SPEECH, 1.0)))
    assert clf.speech_ms == (400, 1400)


def test_a_late_short_greeting_is_a_person_at_the_shorter_pause_before_the_deadline() -> None:
    # "Hello?" at 2.2-2.7 s: the full 0.9 s pause would end at 3.6 s, after the deadline.
    late = frames((SILENCE, 2.2), (SPEECH, 0.5), (SILENCE, 2.0))
    clf = decide(late, deadline_ms=3500)
    assert (clf.verdict, clf.reason) == (Verdict.HUMAN, "waits for us")
    assert clf.elapsed_ms == 2700 + AmdParams().short_pause_ms
    rules = decide(late, deadline_ms=3500, short_pause_ms=900, deadline_model=False)
    assert rules.verdict is Verdict.UNKNOWN


def test_an_early_terse_greeting_waits_the_full_pause_and_hears_the_beep() -> None:
    # "Leave a message." then 0.8 s, then the beep: with time left, the short pause is not
    # enough to call a person, so the beep decides.
    terse = frames((SILENCE, 0.3), (SPEECH, 0.8), (SILENCE, 0.8), beep(1000.0, 0.5))
    clf = decide(terse, deadline_ms=3000)
    assert (clf.verdict, clf.reason) == (Verdict.MACHINE, "beep")


def test_a_long_stretch_then_the_short_pause_is_not_enough() -> None:
    # 2 s of talk then 0.7 s of silence before the deadline: a machine between sentences
    talk = frames((SILENCE, 0.2), *words(5), (SILENCE, 0.75), *words(3))
    assert decide(talk, deadline_ms=3000, deadline_model=False).verdict is Verdict.UNKNOWN


def test_the_features_follow_the_cadence_in_real_time() -> None:
    clf = AmdClassifier(AmdParams(deadline_ms=8000))
    clf.feed(frames((SILENCE, 0.5), (SPEECH, 0.6), (SILENCE, 0.5), (SPEECH, 1.0), (SILENCE, 0.3)))
    f = dict(zip(FEATURES, clf.features(), strict=True))
    assert f["first_word"] == 0.5 and f["stretches"] == 2.0
    # a word counts once it lasted min_word_ms: the gap before it reads up to 80 ms long
    assert f["talk"] == pytest.approx(2.1, abs=0.1) and f["longest_talk"] == 1.0
    assert f["longest_gap"] == pytest.approx(0.5, abs=0.1)
    assert f["quiet"] == 0.3 and 0.7 < f["share"] < 0.8 and f["rate"] > 0


def test_at_the_deadline_the_model_leans_to_machine_on_long_unbroken_talk() -> None:
    """Reading on for the whole deadline, words with short gaps: likely a recorded greeting.
    Below ``machine_odds`` that is ``unknown`` (an agent hears it), above it a machine."""
    reading = frames((SILENCE, 0.4), *words(12))
    odds = []
    for deadline in (3000, 4000):
        clf = decide(reading, deadline_ms=deadline)
        assert clf.verdict is Verdict.UNKNOWN and clf.reason.startswith("cadence at the deadline")
        assert clf.elapsed_ms == deadline
        odds.append(clf.machine_probability() or 0.0)
    assert 0.5 < odds[0] < odds[1] < AmdParams().machine_odds  # surer as it reads on
    bold = decide(reading, deadline_ms=4000, machine_odds=0.75)
    assert bold.verdict is Verdict.MACHINE
    rules_only = decide(reading, deadline_ms=4000, deadline_model=False)
    assert (rules_only.verdict, rules_only.reason) == (Verdict.UNKNOWN, "deadline")


def test_at_the_deadline_the_model_leaves_a_person_talking_on_a_person() -> None:
    """Two phrases with a wait between, then quiet at the deadline: not hung up on."""
    talk_on = frames((SILENCE, 0.3), (SPEECH, 1.6), (SILENCE, 0.8), (SPEECH, 1.0), (SILENCE, 0.6))
    clf = decide(talk_on, deadline_ms=4000)
    assert clf.verdict is Verdict.HUMAN and clf.reason.startswith("cadence at the deadline")
    assert clf.machine_probability() is not None


def test_nothing_heard_by_the_deadline_is_unknown_whatever_the_model() -> None:
    clf = decide(frames((SILENCE, 5.0)), deadline_ms=4000)
    assert (clf.verdict, clf.reason) == (Verdict.UNKNOWN, "deadline")
    assert clf.machine_probability() is None
