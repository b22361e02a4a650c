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
