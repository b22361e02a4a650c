"""Carrier announcements without special information tones, recognised by fingerprint.

Chinese carriers play "您拨打的电话已关机" or "是空号" with no SIT before it, on early
media or after a 200 OK; some English ones do too ("the number you have dialed is
not in service"). Each carrier plays one fixed recording per cause, so the call's
audio is matched against a library of those recordings (``sip/sounds/announce``:
one WAV per recording, named ``<lang>_<cause>.wav``), not understood.

The fingerprint (after Haitsma and Kalker's audio hash): every 20 ms, the energies
of 17 log-spaced bands from 300 to 3400 Hz over a 40 ms window; one bit per pair of
neighbouring bands - did their difference grow since the last frame. Such bits
survive level changes, G.711 coding and line noise, while two different voices or
texts agree on about half of them. A call matches a recording when its last
``window`` frames agree with some stretch of it on ``1 - max_errors`` of the bits.
The recording's frames are hashed at four sub-frame shifts, so the call's 20 ms
frames, which start anywhere in it, line up with one of them to within 2.5 ms.

Pure: PCM samples in, a match out; reading the WAVs is :func:`load_library`'s job.
"""

from __future__ import annotations

import itertools
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 8000
HOP = 160  # 20 ms: one frame as the worker receives it
WIN = 2 * HOP  # analysis window: this frame and the one before
SHIFTS = 4  # the recording is hashed at every HOP / SHIFTS samples
_EDGES = np.geomspace(300.0, 3400.0, 18)
_BINS = np.fft.rfftfreq(512, 1.0 / RATE)
_BAND = [(lo <= _BINS) & (hi > _BINS) for lo, hi in itertools.pairwise(_EDGES)]
_HANN = np.hanning(WIN)
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)
_WEIGHTS = (1 << np.arange(16)).astype(np.uint32)
LIBRARY_DIR = Path(__file__).resolve().parent / "sounds" / "announce"

Floats = npt.NDArray[np.float64]


def band_energies(samples: Floats) -> Floats:
    """Log energies (n frames, 17 bands); frame i is samples[i*HOP : i*HOP + WIN]."""
    n = (len(samples) - WIN) // HOP + 1
    if n <= 0:
        return np.zeros((0, len(_BAND)))
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    spectrum = np.abs(np.fft.rfft(samples[idx] * _HANN, 512)) ** 2
    bands = np.stack([spectrum[:, b].sum(axis=1) for b in _BAND], axis=1)
    return np.asarray(np.log(bands + 1.0), dtype=np.float64)


def hashes(energies: Floats) -> npt.NDArray[np.uint16]:
    """One 16-bit hash per frame after the first (the bits compare with the frame before)."""
    d = energies[:, :-1] - energies[:, 1:]
    bits = (d[1:] - d[:-1]) > 0
    return np.asarray(bits.astype(np.uint32) @ _WEIGHTS, dtype=np.uint16)


def loud(energies: Floats, below_peak: float = 6.9) -> npt.NDArray[np.bool_]:
    """Frames within ``below_peak`` (natural log of energy, ~30 dB) of the loudest one."""
    total = np.log(np.exp(energies).sum(axis=1))
    return np.asarray(total[1:] > total.max() - below_peak, dtype=np.bool_)


@dataclass(frozen=True)
class Recording:
    """One library entry: the hashes of a recording at each sub-frame shift."""

    name: str  # the file's stem, e.g. "zh_switched_off"
    cause: str  # what the announcement says: "switched_off", "vacant", ...
    hashes: npt.NDArray[np.uint16]  # (SHIFTS, frames)
    sound: npt.NDArray[np.bool_]  # (SHIFTS, frames): speech, not the pauses between

    @classmethod
    def of(cls, name: str, samples: Floats) -> Recording:
        parts = [band_energies(samples[s * HOP // SHIFTS :]) for s in range(SHIFTS)]
        n = min(len(p) for p in parts) - 1
        return cls(
            name,
            name.split("_", 1)[1] if "_" in name else name,
            np.stack([hashes(p)[:n] for p in parts]),
            np.stack([loud(p)[:n] for p in parts]),
        )


def read_wav(path: Path) -> Floats:
    """An 8 kHz 16-bit mono WAV's samples (the library's format)."""
    with wave.open(str(path)) as w:
        if (w.getframerate(), w.getsampwidth(), w.getnchannels()) != (RATE, 2, 1):
            raise ValueError(f"{path.name}: announcements must be 8 kHz 16-bit mono WAV")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float64)


def load_library(directory: Path = LIBRARY_DIR) -> tuple[Recording, ...]:
    """Every ``*.wav`` in ``directory`` as a :class:`Recording`, sorted by name."""
    return tuple(Recording.of(p.stem, read_wav(p)) for p in sorted(directory.glob("*.wav")))


_LIBRARY: tuple[Recording, ...] | None = None


def default_library() -> tuple[Recording, ...]:
    """The shipped library, read once per process."""
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = load_library()
    return _LIBRARY


@dataclass(frozen=True, slots=True)
class Match:
    recording: str
    cause: str
    errors: float  # share of the compared bits that differ


class AnnouncementMatcher:
    """Feed PCM with :meth:`feed`; :attr:`match` once the last ``window`` frames are a
    stretch of a library recording with at most ``max_errors`` of the bits differing."""

    def __init__(
        self,
        library: tuple[Recording, ...] | None = None,
        window: int = 50,
        max_errors: float = 0.33,
        min_sound: float = 0.6,
        margin: float = 0.03,
        min_level: float = 100.0,
    ) -> None:
        self.library = default_library() if library is None else library
        self.window = window
        self.max_errors = max_errors
        self.min_sound = min_sound
        self.margin = margin
        self.min_level = min_level
        self._candidate: tuple[str, int] | None = None  # (recording, start) of the last best
        self.match: Match | None = None
        self.best = 1.0  # the lowest error share seen so far (for the bench)
        self.last = 1.0  # the lowest error share of the latest comparison
        self._tail = np.zeros(0)  # the last samples, for the overlapping windows
        self._hashes = np.zeros(0, dtype=np.uint16)
        self._energy = np.zeros((0, len(_BAND)))
        self._levels = np.zeros(0)  # RMS of each frame's newer half, the window's last

    def feed(self, samples: Floats) -> Match | None:
        """Add samples (any count); check the newest window once per call."""
        if self.match is not None or not self.library:
            return self.match
        buf = np.concatenate([self._tail, samples])
        energies = band_energies(buf)
        if not len(energies):
            self._tail = buf
            return None
        used = (len(energies) - 1) * HOP + HOP
        self._tail = buf[used:]
        self._energy = np.concatenate([self._energy, energies])[-(self.window + 1) :]
        halves = buf[HOP : used + HOP].reshape(-1, HOP)
        rms = np.sqrt(np.mean(halves * halves, axis=1))
        self._levels = np.concatenate([self._levels, rms])[-self.window :]
        # Silence and a quiet line cost nothing: only a window mostly loud is compared.
        heard = np.count_nonzero(self._levels >= self.min_level)
        if len(self._energy) > self.window and heard >= self.min_sound * self.window:
            self._hashes = hashes(self._energy)
            self._check(len(energies))
        return self.match

    @property
    def promising(self) -> bool:
        """The latest window nearly matched: wait for the next before calling it anything."""
        return self.match is None and self.last <= self.max_errors + self.margin

    def _check(self, advanced: int) -> None:
        query = self._hashes[-self.window :]
        found: list[tuple[float, Recording, int]] = []
        for rec in self.library:
            if rec.hashes.shape[1] < self.window:
                continue
            views = np.lib.stride_tricks.sliding_window_view(rec.hashes, self.window, axis=1)
            sound = np.lib.stride_tricks.sliding_window_view(rec.sound, self.window, axis=1)
            wrong = _POPCOUNT[np.bitwise_xor(views, query)] * sound  # (shift, start, frame)
            counted = sound.sum(axis=2)
            share = wrong.sum(axis=2) / np.maximum(16 * counted, 1)
            share[counted < self.min_sound * self.window] = 1.0
            at = np.unravel_index(int(np.argmin(share)), share.shape)
            found.append((float(share[at]), rec, int(at[1])))
        found.sort(key=lambda f: f[0])
        errors, rec, begin = found[0]
        self.best, self.last = min(self.best, errors), errors
        rivals = [e for e, r, _ in found[1:] if r.cause != rec.cause]
        clear = not rivals or rivals[0] - errors >= self.margin
        last, self._candidate = self._candidate, (rec.name, begin)
        if errors > self.max_errors or not clear:
            return
        # The same recording, moved on by as many frames as the call did: a random
        # likeness between two voices does not stay lined up (Haitsma and Kalker).
        if last is not None and last[0] == rec.name and abs(begin - last[1] - advanced) <= 1:
            self.match = Match(rec.name, rec.cause, round(errors, 3))
