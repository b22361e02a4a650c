"""The pure AMD classifier: synthetic level timelines, then espeak-ng greetings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sip import amd_corpus
from sip.amd import AmdClassifier, AmdParams, Verdict, classify

SILENCE, NOISE, SPEECH = 20.0, 400.0, 4000.0


def frames(*parts: tuple[float, float]) -> list[float]:
    """(level, seconds) parts -> one level per 20 ms frame."""
    out: list[float] = []
    for level, seconds in parts:
        out += [level] * round(seconds * 50)
    return out


def test_short_greeting_then_silence_is_human() -> None:
    assert classify(frames((SILENCE, 0.5), (SPEECH, 0.6), (SILENCE, 2.0))) is Verdict.HUMAN


def test_long_continuous_speech_is_machine() -> None:
    assert classify(frames((SILENCE, 0.3), (SPEECH, 2.5))) is Verdict.MACHINE


def test_many_words_with_short_gaps_is_machine() -> None:
    word = [(SPEECH, 0.25), (SILENCE, 0.15)]
    assert classify(frames((SILENCE, 0.3), *(word * 8))) is Verdict.MACHINE


def test_dead_air_is_unknown() -> None:
    assert classify(frames((SILENCE, 5.0))) is Verdict.UNKNOWN


def test_steady_noise_is_not_speech() -> None:
    assert classify(frames((NOISE, 5.0))) is Verdict.UNKNOWN
    assert classify(frames((NOISE, 0.5), (SPEECH, 0.5), (NOISE, 2.0))) is Verdict.HUMAN


def test_deadline_bounds_the_decision() -> None:
    clf = AmdClassifier(AmdParams(deadline_ms=1000, initial_silence_ms=5000))
    assert clf.feed(frames((SILENCE, 0.9))) is None
    assert clf.feed(frames((SILENCE, 0.2))) is Verdict.UNKNOWN
    assert clf.elapsed_ms == 1000


@given(
    st.lists(st.floats(min_value=0, max_value=32768), max_size=400),
    st.integers(min_value=1, max_value=50),
)
def test_verdict_is_final_and_independent_of_chunking(levels: list[float], chunk: int) -> None:
    whole = classify(levels)
    clf = AmdClassifier()
    first = None
    for i in range(0, len(levels), chunk):
        got = clf.feed(levels[i : i + chunk])
        first = first or got
        assert got == first  # once decided, it never changes
    assert (clf.verdict or clf.finish()) == whole


@pytest.mark.slow
@pytest.mark.skipif(not amd_corpus.tools_available(), reason="needs espeak-ng and sox")
def test_generated_greetings(tmp_path: Path) -> None:
    samples = amd_corpus.build(tmp_path, per_class=8, seed=11)
    wrong = [
        s.path.name for s in samples if classify(amd_corpus.frame_levels(s.path)) is not s.label
    ]
    # 16 greetings, varied voice/speed/noise (sox -R: repeatable); bench/amd_eval.py
    # reports the full confusion table on a larger set.
    assert len(wrong) <= 2, wrong
