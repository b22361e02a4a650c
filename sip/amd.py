"""Answering-machine detection: a pure classifier over per-frame audio levels.

Bytes never reach this module: the worker hands it one RMS level per 20 ms frame.
No clock, no I/O, no pjsua2; time is the count of frames fed.

The rule is the usual voice-activity one (as in Asterisk's app_amd):

* a human answers with a short greeting ("Hello?", under ~1.5 s of voice) and
  then waits in silence for the caller;
* a machine plays a long, nearly continuous greeting ("Hi, you've reached ...");
* anything else by the decision deadline is unknown.

Voice is a frame whose level is well above a noise floor that tracks quickly
down and slowly up, so steady background noise is not taken for speech.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AmdParams:
    frame_ms: int = 20
    min_level: float = 150.0  # absolute floor for voice (16-bit RMS)
    snr: float = 2.5  # voice when level > snr x noise floor
    min_word_ms: int = 100  # a voiced run shorter than this is a click, not a word
    word_gap_ms: int = 300  # silence this long ends a word
    max_greeting_ms: int = 1800  # talking longer than this (gaps < word_gap) = machine
    after_greeting_silence_ms: int = 800  # silence after a short greeting = human
    max_words: int = 4  # more words than this before silence = machine
    initial_silence_ms: int = 2500  # nobody speaks: unknown (dead air, or a silent human)
    deadline_ms: int = 3000  # per-campaign decision deadline (issue 5 default 3 s)


class AmdClassifier:
    """Feed levels with :meth:`feed`; it returns a verdict once, then keeps it."""

    def __init__(self, params: AmdParams | None = None) -> None:
        self.p = params or AmdParams()
        self.verdict: Verdict | None = None
        self.frames = 0
        self._floor: float | None = None
        self._voiced_run = 0  # current run of voiced frames
        self._silent_run = 0  # current run of silent frames
        self._in_word = False
        self._words = 0
        self._greeting_frames = 0  # frames spent inside words since the first one
        self._heard_voice = False

    @property
    def elapsed_ms(self) -> int:
        return self.frames * self.p.frame_ms

    def feed(self, levels: list[float]) -> Verdict | None:
        for level in levels:
            if self.verdict is not None:
                break
            self._step(level)
        return self.verdict

    def finish(self) -> Verdict:
        """The deadline passed (or the call ended): decide with what we have."""
        if self.verdict is None:
            self.verdict = Verdict.UNKNOWN
        return self.verdict

    def _is_voice(self, level: float) -> bool:
        floor = level if self._floor is None else self._floor
        voiced = level > max(self.p.min_level, self.p.snr * floor)
        # The floor falls fast and rises slowly, so it settles on the quiet parts.
        rate = 0.5 if level < floor else (0.002 if voiced else 0.02)
        self._floor = floor + rate * (level - floor)
        return voiced

    def _ms(self, frames: int) -> int:
        return frames * self.p.frame_ms

    def _step(self, level: float) -> None:
        self.frames += 1
        p = self.p
        if self._is_voice(level):
            self._voiced_run += 1
            self._silent_run = 0
            if not self._in_word and self._ms(self._voiced_run) >= p.min_word_ms:
                self._in_word = True
                self._words += 1
                if not self._heard_voice:
                    self._heard_voice = True
                    self._greeting_frames = self._voiced_run
        else:
            self._silent_run += 1
            self._voiced_run = 0
            if self._in_word and self._ms(self._silent_run) >= p.word_gap_ms:
                self._in_word = False
        if self._heard_voice and self._in_word:
            # Greeting length is the span of talking (short pauses included), not the
            # count of voiced frames: noise hides the quiet parts of speech.
            self._greeting_frames += 1
        self._decide()

    def _decide(self) -> None:
        p = self.p
        if self._heard_voice:
            if self._ms(self._greeting_frames) > p.max_greeting_ms or self._words > p.max_words:
                self.verdict = Verdict.MACHINE
            elif not self._in_word and self._ms(self._silent_run) >= p.after_greeting_silence_ms:
                self.verdict = Verdict.HUMAN
        elif self.elapsed_ms >= p.initial_silence_ms:
            self.verdict = Verdict.UNKNOWN
        if self.verdict is None and self.elapsed_ms >= p.deadline_ms:
            self.verdict = Verdict.UNKNOWN


def classify(levels: list[float], params: AmdParams | None = None) -> Verdict:
    """Classify a whole recording's levels (used by the bench and tests)."""
    clf = AmdClassifier(params)
    return clf.feed(levels) or clf.finish()
