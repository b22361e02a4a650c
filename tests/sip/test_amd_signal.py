"""Per-frame AMD evidence on synthetic signals: the Goertzel bank, levels, the analyzer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sip.amd import Frame
from sip.amd_signal import (
    BANK_HZ,
    FRAME_SAMPLES,
    RATE,
    SIT_KINDS,
    FrameAnalyzer,
    SitTracker,
    goertzel_power,
    levels,
    pcm_frames,
    tones,
)
from sip.amd_vad import WebRtcVad

T = np.arange(FRAME_SAMPLES * 10) / RATE


def pcm(x: np.ndarray) -> list[bytes]:
    raw = np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()
    return [raw[i : i + 2 * FRAME_SAMPLES] for i in range(0, len(raw), 2 * FRAME_SAMPLES)]


class Always:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.seen = 0

    def is_speech(self, frame: bytes) -> bool:
        self.seen += 1
        return self.answer


def test_the_bank_gives_the_goertzel_recursions_power() -> None:
    x = 1000.0 * np.sin(2 * np.pi * 1234.0 * T[:FRAME_SAMPLES]) + 300.0
    windowed = (x - x.mean()) * np.hanning(FRAME_SAMPLES)
    block = x.reshape(1, -1)
    centred = block - block.mean()
    from sip.amd_signal import _BASIS  # the bank itself, checked against the recursion

    parts = centred @ _BASIS
    bank = parts[:, : len(BANK_HZ)] ** 2 + parts[:, len(BANK_HZ) :] ** 2
    for k in (0, 37, len(BANK_HZ) - 1):
        ref = goertzel_power(list(windowed), float(BANK_HZ[k]))
        assert bank[0, k] == pytest.approx(ref, rel=1e-6, abs=1e-3)


@pytest.mark.parametrize("hz", [425.0, 440.0, 950.0, 1400.0, 2000.0, 2760.0])
def test_a_sine_is_a_pure_tone_at_its_pitch(hz: float) -> None:
    found, purity = tones(pcm_frames(pcm(8000.0 * np.sin(2 * np.pi * hz * T))))
    assert np.all(np.abs(found - hz) <= 12.5)
    assert np.all(purity > 0.85)


def test_noise_and_harmonic_speech_are_not_pure() -> None:
    rng = np.random.default_rng(3)
    _, noise = tones(pcm_frames(pcm(3000.0 * rng.standard_normal(len(T)))))
    assert np.all(noise < 0.3)
    # A voiced vowel: 120 Hz pitch with falling harmonics up to 3 kHz.
    vowel = sum(3000.0 / k * np.sin(2 * np.pi * 120.0 * k * T) for k in range(1, 25))
    _, voiced = tones(pcm_frames(pcm(np.asarray(vowel))))
    assert np.all(voiced < 0.5)


def test_silence_has_no_tone_and_no_level() -> None:
    block = pcm_frames(pcm(np.zeros(len(T))))
    _hz, purity = tones(block)
    assert np.all(purity == 0.0) and np.all(levels(block) == 0.0)
    assert tones(pcm_frames([]))[0].shape == (0,)


def test_levels_are_the_frames_rms() -> None:
    x = np.concatenate([np.full(FRAME_SAMPLES, 1000.0), np.full(FRAME_SAMPLES, -250.0)])
    assert list(levels(pcm_frames(pcm(x)))) == [1000.0, 250.0]


def test_analyzer_asks_the_vad_about_every_whole_frame_and_drops_short_ones() -> None:
    vad = Always(True)
    frames = [*pcm(1000.0 * np.sin(2 * np.pi * 1000.0 * T)), b"\x00" * 10]
    out = FrameAnalyzer(vad).features(frames)
    assert len(out) == 10 and vad.seen == 10
    assert all(f.voiced and abs(f.tone_hz - 1000.0) <= 12.5 and f.tone_purity > 0.85 for f in out)
    assert not any(f.voiced for f in FrameAnalyzer(Always(False)).features(frames))


def test_webrtc_vad_hears_no_speech_in_silence() -> None:
    vad = WebRtcVad(2)
    assert not any(vad.is_speech(f) for f in pcm(np.zeros(len(T))))


@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=8))
def test_features_do_not_depend_on_how_the_worker_batches_frames(sizes: list[int]) -> None:
    """The worker drains its port every ~100 ms, but never in the same batches twice."""
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [4000.0 * np.sin(2 * np.pi * 700.0 * T), 2000.0 * rng.standard_normal(len(T))]
    )
    frames = pcm(x)
    whole = FrameAnalyzer(WebRtcVad(2)).features(frames)
    batched, analyzer, i = [], FrameAnalyzer(WebRtcVad(2)), 0
    for size in sizes * len(frames):
        if i >= len(frames):
            break
        batched += analyzer.features(frames[i : i + size])
        i += size
    assert [(f.level, f.voiced, f.tone_hz) for f in batched] == [
        (f.level, f.voiced, f.tone_hz) for f in whole
    ]  # the matrix product may round the last bit differently per batch size:
    assert [f.tone_purity for f in batched] == pytest.approx([f.tone_purity for f in whole])


# --- special information tones ------------------------------------------------------------

PATTERNS = {  # (Hz, ms) of each tone, ANSI T1.401
    "intercept": ((913.8, 274), (1370.6, 274), (1776.7, 380)),
    "vacant": ((985.2, 380), (1370.6, 274), (1776.7, 380)),
    "no_circuit": ((913.8, 380), (1428.5, 380), (1776.7, 380)),
    "reorder": ((985.2, 274), (1370.6, 380), (1776.7, 380)),
}


def sine(hz: float, ms: float, amplitude: float = 3000.0) -> np.ndarray:
    n = int(ms * RATE / 1000)
    return amplitude * np.sin(2 * np.pi * hz * np.arange(n) / RATE)


def track(x: np.ndarray) -> tuple[str | None, list[bool]]:
    """Run PCM through the analyzer and a tracker: (kind, holding after each frame)."""
    sit, held = SitTracker(), []
    for f in FrameAnalyzer(Always(False)).features(pcm(x)):
        sit.step(f)
        held.append(sit.holding)
    return sit.kind, held


@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_each_sit_pattern_is_named(kind: str) -> None:
    x = np.concatenate([np.zeros(800)] + [sine(hz, ms) for hz, ms in PATTERNS[kind]])
    assert track(np.concatenate([x, np.zeros(1600)]))[0] == kind
    assert set(SIT_KINDS.values()) == set(PATTERNS)


def test_a_voicemail_beep_at_a_sit_pitch_is_held_then_let_go() -> None:
    """A 1 kHz beep is near SIT's 985.2 Hz: held while it could open a SIT, then released
    (past 480 ms, or when no second tone follows) so the beep detector still hears it."""
    kind, held = track(np.concatenate([sine(1000.0, 900), np.zeros(1600)]))
    assert kind is None and held[5] and not held[-1] and not held[30]
    kind, held = track(np.concatenate([sine(1000.0, 300), np.zeros(1600)]))
    assert kind is None and held[10] and not held[-1]


@pytest.mark.parametrize(
    "parts",
    [
        [(913.8, 274), (1776.7, 380)],  # a tone missing
        [(913.8, 274), (1370.6, 274), (0.0, 300), (1776.7, 380)],  # a long break
        [(1370.6, 274), (913.8, 274), (1776.7, 380)],  # out of order
        [(913.8, 100), (1370.6, 274), (1776.7, 380)],  # too short for a SIT segment
        [(700.0, 274), (1370.6, 274), (1776.7, 380)],  # off pitch
    ],
)
def test_what_is_not_a_sit(parts: list[tuple[float, float]]) -> None:
    x = np.concatenate([sine(hz, ms) if hz else np.zeros(int(ms * 8)) for hz, ms in parts])
    assert track(np.concatenate([x, np.zeros(1600)]))[0] is None


def test_speech_like_and_quiet_frames_are_no_sit_tone() -> None:
    sit = SitTracker()
    for f in [Frame(2000.0, True, 925.0, 0.3), Frame(20.0, False, 925.0, 0.9)] * 30:
        assert sit.step(f) is None and not sit.holding
