"""One call's detector (sip/amd_vad.py): SIT on early media and after the answer, and
the person/machine classifier still hearing a beep at a SIT pitch."""

from __future__ import annotations

import numpy as np

from sip import amd_corpus
from sip.amd import Verdict
from sip.amd_vad import AmdDetector


def frames(x: np.ndarray) -> list[bytes]:
    return amd_corpus.Clip("x", Verdict.UNKNOWN, "x", np.round(x)).frames()


def silence(s: float) -> np.ndarray:
    return np.zeros(int(s * amd_corpus.RATE))


def test_a_sit_after_the_answer_is_an_announcement_at_once() -> None:
    det = AmdDetector()
    x = np.concatenate([silence(0.3), amd_corpus.sit("vacant", 3000.0), silence(2.0)])
    fs = frames(x)
    verdicts = [det.feed(fs[i : i + 5]) for i in range(0, len(fs), 5)]
    assert det.finish() is Verdict.ANNOUNCEMENT and det.reason == "sit_vacant"
    assert 1300 <= det.elapsed_ms <= 1500  # 0.3 s lead + 1.03 s of tones + a gap
    assert verdicts.index(Verdict.ANNOUNCEMENT) == det.elapsed_ms // 100  # that batch


def test_a_sit_on_early_media_ends_it_before_the_answer() -> None:
    det = AmdDetector(answered=False)
    fs = frames(np.concatenate([amd_corpus.sit("intercept", 3000.0), silence(0.5)]))
    assert det.feed(fs) is Verdict.ANNOUNCEMENT and det.reason == "sit_intercept"
    assert det.elapsed_ms == 0  # nothing of the callee was heard


def test_early_media_talk_is_not_the_callee() -> None:
    """Ring-back or a recorded "please hold" before the 200 OK decides nothing; after the
    answer the classifier starts from the first answered frame."""
    det = AmdDetector(answered=False)
    assert det.feed(frames(amd_corpus.tone(1000.0, 2.0, 3000.0))) is None
    det.answer()
    assert det.elapsed_ms == 0
    assert det.feed(frames(silence(0.2))) is None and det.elapsed_ms == 200


def test_a_voicemail_beep_at_a_sit_pitch_is_still_a_machine() -> None:
    det = AmdDetector()
    fs = frames(np.concatenate([silence(0.5), amd_corpus.tone(985.0, 0.4, 3000.0), silence(1)]))
    for i in range(0, len(fs), 5):
        det.feed(fs[i : i + 5])
    assert det.finish() is Verdict.MACHINE and det.reason == "beep"
    assert det.elapsed_ms < 1000  # decided at the beep's frames, counted from the answer
