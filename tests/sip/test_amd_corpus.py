"""The generated AMD corpus: repeatable, split honestly, and classified above a floor."""

from __future__ import annotations

import numpy as np
import pytest

from sip import amd_corpus
from sip.amd import AmdParams, Verdict

needs_tools = pytest.mark.skipif(not amd_corpus.tools_available(), reason="needs espeak-ng, sox")


def test_the_splits_share_no_phrase_and_no_beep_pitch() -> None:
    for pool in (
        amd_corpus.HUMAN_GREETINGS,
        amd_corpus.HUMAN_RUN_ON,
        amd_corpus.MACHINE_GREETINGS,
        amd_corpus.MACHINE_TERSE,
    ):
        assert not {t for t, _ in pool["tune"]} & {t for t, _ in pool["heldout"]}
    talk = amd_corpus.HUMAN_TALK_ON
    assert not {tuple(p) for p, _ in talk["tune"]} & {tuple(p) for p, _ in talk["heldout"]}
    assert not set(amd_corpus.BEEP_HZ["tune"]) & set(amd_corpus.BEEP_HZ["heldout"])


def test_a_beep_is_a_ramped_sine() -> None:
    x = amd_corpus.tone(1000.0, 0.5, 8000.0)
    assert len(x) == 4000 and x[0] == 0.0 and np.max(np.abs(x)) <= 8000.0
    assert np.sqrt(np.mean(x[400:3600] ** 2)) == pytest.approx(8000.0 / np.sqrt(2), rel=0.01)


@needs_tools
def test_a_clip_is_the_same_every_time() -> None:
    a = amd_corpus.make_clip("heldout", "tv", 3, seed=9)
    b = amd_corpus.make_clip("heldout", "tv", 3, seed=9)
    c = amd_corpus.make_clip("heldout", "tv", 4, seed=9)
    assert np.array_equal(a.pcm, b.pcm) and not np.array_equal(a.pcm, c.pcm)
    assert len(a.frames()) == int(amd_corpus.CLIP_S * 50) and a.label is Verdict.HUMAN


@needs_tools
def test_heldout_corpus_floor() -> None:
    """60 held-out clips (a seed the bench does not use); bench/amd_eval.py reports more.

    Floors, at the default 6 s deadline: at least 90 % right (issue 20's goal), and at
    most two live people in 28 called machines (rule 19 counts each as an abandoned
    call). Issue 20's goal is 5 %; one clip here is 3.6 %, so this small sample guards
    against regressions and the bench's 180 clips measure the rate (README, AMD).
    """
    clips = amd_corpus.build("heldout", per_kind=4, seed=2)
    outcomes = [amd_corpus.run_clip(c, AmdParams(deadline_ms=6000)) for c in clips]
    scores = amd_corpus.Scores.of(outcomes)
    assert scores.samples == 4 * len(amd_corpus.KINDS)
    assert scores.false_machine_rate <= 2 / 28, scores
    assert scores.accuracy >= 0.90, scores
    assert all(o.decided_ms <= 6000 for o in outcomes)


@needs_tools
def test_heldout_corpus_at_a_three_second_deadline() -> None:
    """At 3 s people are rarely hung up on; what cannot be told apart yet is a person or
    ``unknown`` and goes to an agent. The floor guards the short-greeting verdicts (a
    person waiting for us after "Hello?") and the deadline model against regressions."""
    clips = amd_corpus.build("heldout", per_kind=4, seed=2)
    outcomes = [amd_corpus.run_clip(c, AmdParams(deadline_ms=3000)) for c in clips]
    scores = amd_corpus.Scores.of(outcomes)
    assert scores.false_machine_rate <= 1 / 28, scores
    assert scores.human_accuracy >= 0.65, scores
    assert all(o.decided_ms <= 3000 for o in outcomes)


@needs_tools
def test_carrier_announcements_are_found_and_nobody_else_is_one() -> None:
    """Issue 20: every SIT + announcement clip and every recorded announcement with no SIT
    found; no person or machine clip called an announcement (that would drop a real
    contact as a bad number)."""
    clips = amd_corpus.build("heldout", per_kind=4, seed=2)
    outcomes = [amd_corpus.run_clip(c, AmdParams(deadline_ms=3000)) for c in clips]
    scores = amd_corpus.Scores.of(outcomes)
    assert scores.announcement_accuracy == 1.0, scores
    assert scores.false_announcements == 0, scores
    found = [o for o in outcomes if o.verdict is Verdict.ANNOUNCEMENT]
    assert {o.reason.split("_")[0] for o in found} == {"sit", "recorded"}
    assert all(o.decided_ms <= 3000 for o in found)
