"""Carrier announcements with no SIT (sip/amd_announce.py): the shipped recordings are
found through level, µ-law and noise, from any point of their loop, and nothing else is."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip import amd_announce, amd_corpus
from sip.amd import Verdict
from sip.amd_vad import AmdDetector

LIBRARY = amd_announce.load_library()
needs_tools = pytest.mark.skipif(not amd_corpus.tools_available(), reason="needs espeak-ng, sox")


def recording(name: str) -> np.ndarray:
    return amd_announce.read_wav(amd_announce.LIBRARY_DIR / f"{name}.wav")


def stream(x: np.ndarray, step: int = 800) -> amd_announce.AnnouncementMatcher:
    """Feed ``x`` 100 ms at a time, as the worker drains its port; stop at a match."""
    m = amd_announce.AnnouncementMatcher(LIBRARY)
    for i in range(0, len(x), step):
        if m.feed(x[i : i + step]) is not None:
            break
    return m


def test_the_library_holds_chinese_and_english_causes() -> None:
    names = {r.name for r in LIBRARY}
    assert {"zh_switched_off", "zh_vacant", "zh_unreachable", "en_vacant"} <= names
    for r in LIBRARY:
        assert r.hashes.shape == r.sound.shape and r.hashes.shape[0] == amd_announce.SHIFTS
        assert r.hashes.shape[1] > 100  # seconds of speech, not an empty file
    assert {r.cause for r in LIBRARY} >= {"switched_off", "vacant", "unreachable"}


def test_hashes_ignore_the_level_and_change_with_the_sound() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(8000) * np.linspace(100, 3000, 8000)
    e = amd_announce.band_energies(x)
    assert e.shape == ((8000 - 320) // 160 + 1, 17)
    same = amd_announce.hashes(amd_announce.band_energies(x * 7.5))
    assert np.array_equal(amd_announce.hashes(e), same)  # log energies: gain cancels
    other = amd_announce.hashes(amd_announce.band_energies(rng.standard_normal(8000) * 1000))
    bits = np.unpackbits(np.bitwise_xor(amd_announce.hashes(e), other).view(np.uint8))
    assert 0.35 < bits.mean() < 0.65  # two unrelated sounds agree on about half


@pytest.mark.parametrize("name", [r.name for r in LIBRARY])
def test_each_recording_is_found_from_its_start_with_its_cause(name: str) -> None:
    x = np.concatenate([np.zeros(2400), recording(name) * 0.4])
    m = stream(amd_corpus.mulaw(x))
    assert m.match is not None and m.match.recording == name, m.best
    assert m.match.cause == name.split("_", 1)[1]


@settings(deadline=None, max_examples=12)
@given(
    index=st.integers(0, len(LIBRARY) - 1),
    start=st.floats(0.0, 2.0),
    level=st.floats(0.1, 2.0),
    snr_db=st.floats(12.0, 40.0),
)
def test_a_recording_joined_anywhere_through_noise_is_found(
    index: int, start: float, level: float, snr_db: float
) -> None:
    """Early media loops the announcement: the call may join it mid-word, at any level."""
    rec = LIBRARY[index]
    x = np.tile(recording(rec.name), 2)[int(start * 8000) :][: 5 * 8000] * level
    noise = np.random.default_rng(7).standard_normal(len(x))
    x = x + noise * np.sqrt(np.mean(x * x)) * 10 ** (-snr_db / 20)
    m = stream(amd_corpus.mulaw(x))
    assert m.match is not None and m.match.cause == rec.cause, (rec.name, m.best)


def test_silence_and_steady_noise_cost_no_comparison_and_match_nothing() -> None:
    m = stream(np.zeros(5 * 8000))
    assert m.match is None and m.best == 1.0  # never compared: the line was quiet
    m = stream(np.random.default_rng(3).standard_normal(5 * 8000) * 2000)
    assert m.match is None and m.best > 0.4


def test_an_empty_library_matches_nothing() -> None:
    m = amd_announce.AnnouncementMatcher(())
    assert m.feed(recording("zh_vacant")) is None


def test_a_library_file_must_be_8khz_mono(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import wave

    with wave.open(str(tmp_path / "zh_x.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000)
    with pytest.raises(ValueError, match="8 kHz"):
        amd_announce.load_library(tmp_path)


def test_the_detector_calls_a_recording_an_announcement_on_early_media() -> None:
    det = AmdDetector(answered=False)
    x = amd_corpus.mulaw(recording("zh_switched_off"))
    fs = amd_corpus.Clip("x", Verdict.UNKNOWN, "x", x).frames()
    for i in range(0, len(fs), 5):
        if det.feed(fs[i : i + 5]) is not None:
            break
    assert (det.finish(), det.reason) == (Verdict.ANNOUNCEMENT, "recorded_switched_off")
    assert det.elapsed_ms == 0  # before the answer: nothing of a callee was heard


@needs_tools
def test_no_person_or_machine_of_the_corpus_is_an_announcement() -> None:
    """Issue 20: a false announcement drops a real contact. People and machines of both
    splits (one saying "您拨打的用户暂时无法接通" in its greeting) stay well clear."""
    for split in ("tune", "heldout"):
        for clip in amd_corpus.build(split, per_kind=2, seed=5):
            if clip.label is Verdict.ANNOUNCEMENT:
                continue
            m = stream(clip.pcm)
            assert m.match is None and m.best > 0.36, (clip.name, m.best)
