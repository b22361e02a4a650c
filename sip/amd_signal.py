"""Per-frame evidence for AMD: level, voice activity and a Goertzel tone bank.

Pure: 20 ms PCM frames in (8 kHz, 16-bit mono, as the worker's FramePort hands
them over), :class:`sip.amd.Frame` features out. No clock, no I/O, no pjsua2.
Voice activity comes from a :class:`Vad` passed in (``sip/amd_vad.py`` wraps
WebRTC's model), so this module and the classifier can be tested on synthetic
signals with any detector.

The beep detector is a bank of Goertzel filters, 300-3000 Hz every 25 Hz. Each
filter gives the DFT power of one frequency; the bank evaluates all of them at
once as one matrix product per block of frames (the same numbers the Goertzel
recursion gives, :func:`goertzel_power`, at numpy speed). A frame's *purity* is
the strongest filter's share of the frame's energy: ~1 for a steady sine, well
below for speech (many harmonics) and noise (flat).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sip.amd import Frame

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
BANK_HZ = np.arange(300.0, 3000.0 + 1, 25.0)

_WINDOW = np.hanning(FRAME_SAMPLES)
# A sine of amplitude A on a bank frequency: |X|^2 = (A/2 * sum w)^2, windowed energy
# A^2/2 * sum w^2; this gain makes purity 1.0 for it.
_PURITY_GAIN = float(np.sum(_WINDOW) ** 2 / (2.0 * np.sum(_WINDOW**2)))
_PHASE = 2.0 * np.pi * np.outer(np.arange(FRAME_SAMPLES), BANK_HZ) / RATE
# Windowed cosines then sines, one real matrix: a real product is several times
# cheaper than a complex one for these small blocks.
_BASIS = np.ascontiguousarray(
    np.hstack([_WINDOW[:, None] * np.cos(_PHASE), _WINDOW[:, None] * np.sin(_PHASE)])
)
_K = len(BANK_HZ)


class Vad(Protocol):
    """A frame-level voice-activity decision (WebRTC's GMM in production)."""

    def is_speech(self, frame: bytes) -> bool: ...


def goertzel_power(samples: Sequence[float], hz: float, rate: int = RATE) -> float:
    """|X(hz)|^2 of ``samples`` by the Goertzel recursion (the bank's reference)."""
    coeff = 2.0 * math.cos(2.0 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def pcm_frames(frames: Sequence[bytes]) -> npt.NDArray[np.float64]:
    """Whole 20 ms frames as a (n, 160) float array; short frames are dropped."""
    whole = [f for f in frames if len(f) == 2 * FRAME_SAMPLES]
    if not whole:
        return np.zeros((0, FRAME_SAMPLES))
    raw = np.frombuffer(b"".join(whole), dtype="<i2")
    return raw.reshape(len(whole), FRAME_SAMPLES).astype(np.float64)


def levels(block: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """RMS per frame (16-bit scale), as audioop.rms gives it."""
    return np.asarray(np.sqrt(np.mean(block * block, axis=1)), dtype=np.float64)


def tones(
    block: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(frequency of the strongest bank filter, its purity) per frame."""
    if len(block) == 0:
        return np.zeros(0), np.zeros(0)
    centred = block - block.mean(axis=1, keepdims=True)
    parts = centred @ _BASIS
    power = parts[:, :_K] ** 2 + parts[:, _K:] ** 2
    best = np.argmax(power, axis=1)
    energy = np.sum((centred * _WINDOW) ** 2, axis=1) * _PURITY_GAIN
    peak = power[np.arange(len(block)), best]
    purity = np.where(energy > 0, peak / np.maximum(energy, 1e-9), 0.0)
    return BANK_HZ[best], np.minimum(purity, 1.0)


class FrameAnalyzer:
    """Turns PCM frames into :class:`Frame` evidence; one per call (the VAD keeps state)."""

    def __init__(self, vad: Vad) -> None:
        self.vad = vad

    def features(self, frames: Sequence[bytes]) -> list[Frame]:
        whole = [f for f in frames if len(f) == 2 * FRAME_SAMPLES]
        block = pcm_frames(whole)
        lv = levels(block)
        hz, purity = tones(block)
        return [
            Frame(float(lv[i]), self.vad.is_speech(f), float(hz[i]), float(purity[i]))
            for i, f in enumerate(whole)
        ]


# --- Special information tones (ITU-T E.180 suppl. 2, ANSI T1.401) -------------------------
# A carrier's recorded announcement ("the number you have dialed is not in service",
# "您拨打的号码是空号") is usually preceded by three rising tones, each from its band
# (a low or a high pitch) and short (~274 ms) or long (~380 ms); the pattern names the
# cause. The tone bank above already gives each frame's pitch to 25 Hz, enough to tell
# the low from the high pitch of each band.
SIT_HZ: tuple[tuple[float, ...], ...] = ((913.8, 985.2), (1370.6, 1428.5), (1776.7,))
SIT_HZ_TOL = 30.0  # a bank pitch this close to a SIT pitch (the bank steps 25 Hz)
SIT_MIN_MS, SIT_LONG_MS, SIT_MAX_MS = 180, 330, 480  # a segment; long from 330 ms
SIT_GAP_MS = 60  # silence allowed inside a segment and between two of them
SIT_PURITY = 0.6
SIT_MIN_LEVEL = 100.0

#: (first high, first long, second high, second long) -> cause (ANSI T1.401 table)
SIT_KINDS: dict[tuple[bool, bool, bool, bool], str] = {
    (False, False, False, False): "intercept",  # IC: vacant or changed number
    (True, True, False, False): "vacant",  # VC: unassigned number, not in service
    (False, True, True, True): "no_circuit",  # NC: all circuits busy
    (True, False, False, True): "reorder",  # RO: the network could not route it
}


def sit_tone(f: Frame) -> tuple[int, bool] | None:
    """(segment 0..2, high pitch) when ``f`` is a steady tone at a SIT pitch, else None."""
    if f.tone_purity < SIT_PURITY or f.level < SIT_MIN_LEVEL:
        return None
    for seg, pitches in enumerate(SIT_HZ):
        for high, hz in enumerate(pitches):
            if abs(f.tone_hz - hz) <= SIT_HZ_TOL:
                return seg, bool(high)
    return None


class SitTracker:
    """Follows the three SIT segments frame by frame; :attr:`kind` once all three came.

    Pure: frames in, no clock. :attr:`holding` is True while a tone could still be
    the start of a SIT, so the caller can keep it from the beep detector (a SIT's
    first segment is a steady tone longer than a beep's minimum).
    """

    def __init__(self, frame_ms: int = 20) -> None:
        self.frame_ms = frame_ms
        self.kind: str | None = None
        self._run: tuple[int, bool] | None = None  # segment and pitch of the current tone
        self._run_frames = 0
        self._gap = 0  # frames since the last SIT tone frame
        self._seq: list[tuple[bool, bool]] = []  # (high, long) of each segment so far

    @property
    def holding(self) -> bool:
        if self.kind is not None:
            return False
        if self._run is not None and self._run_frames * self.frame_ms <= SIT_MAX_MS:
            return self._run[0] == len(self._seq)
        return bool(self._seq) and self._gap * self.frame_ms <= SIT_GAP_MS

    def step(self, f: Frame) -> str | None:
        """Feed one frame; the SIT's kind (``intercept``, ``vacant``, ...) once found."""
        if self.kind is not None:
            return self.kind
        tone = sit_tone(f)
        if tone is not None and tone == self._run and self._gap * self.frame_ms <= SIT_GAP_MS:
            self._run_frames += 1 + self._gap
            self._gap = 0
        elif tone is not None:
            self._close()
            self._run, self._run_frames, self._gap = tone, 1, 0
        else:
            self._gap += 1
            if self._run is not None and self._gap * self.frame_ms > SIT_GAP_MS:
                self._close()
        return self.kind

    def _close(self) -> None:
        run, ms = self._run, self._run_frames * self.frame_ms
        self._run, self._run_frames = None, 0
        if run is None:
            if self._gap * self.frame_ms > SIT_GAP_MS:
                self._seq = []
            return
        seg, high = run
        if not SIT_MIN_MS <= ms <= SIT_MAX_MS:
            self._seq = []
        elif seg == len(self._seq):
            self._seq.append((high, ms >= SIT_LONG_MS))
        else:
            self._seq = [(high, ms >= SIT_LONG_MS)] if seg == 0 else []
        if len(self._seq) == 3:
            (h1, l1), (h2, l2), _ = self._seq
            self.kind = SIT_KINDS.get((h1, l1, h2, l2), "other")
