"""Answering-machine detection: a pure classifier over per-frame evidence.

Bytes never reach this module: ``sip/amd_signal.py`` turns each 20 ms frame into
a :class:`Frame` (level, the voice-activity model's decision, the strongest tone
and its purity). No clock, no I/O, no pjsua2; time is the count of frames fed.

The evidence, strongest first:

* **a beep** - a steady tone (one Goertzel filter holding most of the energy at
  one pitch for ``beep_min_ms``) is a voicemail's record tone: machine. A tone
  counts as neither talk nor silence, so a beep late in a pause is still heard;
* **cadence** - a person says a short phrase and then *waits* for the caller
  (``pause_ms`` of silence: human), or talks in short turns with breaks between
  (``turns`` of at most ``turn_ms``, each followed by ``break_ms``: human); a
  machine reads straight through, its sentence gaps shorter than a pause. Talk
  spanning ``max_talk_ms`` with no pause, words filling ``talk_share`` of it, is
  a machine - ``late_max_talk_ms`` if the first word came after a silent lead of
  ``late_start_ms``, as voicemail systems play;
* **voice activity** - a frame counts as voice when the VAD model says so, its
  level stands above a noise floor that tracks quickly down and slowly up, and
  its smoothed level is within ``foreground`` of the loudest voice so far, so
  steady noise or a television across the room is not taken for the callee.

At the deadline, with talk heard but no rule fired, a small logistic model weighs the
cadence so far (:data:`DEADLINE_MODELS`, trained by ``bench/amd_train.py`` on the
corpus's ``tune`` split only): how long the callee has talked, the longest stretch and
the longest silence inside it, how many stretches, when the first word came and how
long the line has been quiet since. It says "machine" only above ``machine_odds``, so a
person talking on stays a person. Nothing heard at all by the deadline is ``unknown``,
which the engine treats as a person (an agent takes it): hanging up on a person is an
abandoned call (rule 19), so the classifier only says "machine" on evidence.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"
    # A carrier's recorded announcement after special information tones (number not in
    # service, no circuit): neither a person nor a machine, never an answered customer.
    ANNOUNCEMENT = "announcement"


@dataclass(frozen=True, slots=True)
class Frame:
    """The evidence of one 20 ms frame."""

    level: float  # RMS, 16-bit scale
    voiced: bool  # the VAD model's decision
    tone_hz: float = 0.0  # the strongest tone filter
    tone_purity: float = 0.0  # its share of the frame's energy, 0..1


@dataclass(frozen=True, slots=True)
class AmdParams:
    frame_ms: int = 20
    min_level: float = 100.0  # absolute floor for voice or a beep (16-bit RMS)
    snr: float = 2.0  # voice when level > snr x noise floor (and the VAD agrees) ...
    foreground: float = 0.2  # ... and its smoothed level > this x the loudest so far
    min_word_ms: int = 100  # a voiced run shorter than this is a click, not a word
    word_gap_ms: int = 200  # silence shorter than this stays inside a word
    break_ms: int = 400  # silence this long ends a stretch of talk (a machine's is shorter)
    pause_ms: int = 900  # silence this long after talk: the speaker waits for us (a person)
    short_pause_ms: int = 700  # ... or this long after a short greeting, if the deadline nears
    turn_ms: int = 1200  # talk no longer than this, then a break, is one conversational turn
    turns: int = 2  # this many turns is a person talking on, waiting for an answer between
    max_talk_ms: int = 4200  # talking longer than this with no pause for us: a machine ...
    talk_share: float = 0.7  # ... if words fill this share of it (a machine reads on)
    late_start_ms: int = 1400  # first word after this much silence: a late talker ...
    late_max_talk_ms: int = 3000  # ... who talks on this long is a machine (silent lead)
    beep_min_ms: int = 160  # a tone held this long is a beep
    beep_purity: float = 0.6  # share of energy in one filter for a tone frame
    beep_hz_tol: float = 40.0  # a beep's pitch stays within this of where it started
    deadline_ms: int = 3000  # per-campaign decision deadline (issue 5 default 3 s)
    machine_odds: float = 0.85  # at the deadline: machine when the model's P(machine) is over
    deadline_model: bool = True  # False: the rules alone (what was talk with no rule is unknown)


#: names of :meth:`AmdClassifier.features`, in order (seconds, or counts)
FEATURES = (
    "talk", "longest_talk", "longest_gap", "stretches", "first_word", "quiet", "share", "rate"
)  # fmt: skip
#: deadline in whole seconds -> (bias, one weight per feature): P(machine) at the deadline.
#: Trained on the ``tune`` split only (bench/amd_train.py); a deadline between two uses
#: the model of the one below.
DEADLINE_MODELS: dict[int, tuple[float, ...]] = {
    3: (-4.656, 0.39, 1.053, -0.541, 0.303, 1.132, -1.167, 0.808, 0.118),
    4: (-4.404, 0.816, 0.454, -0.558, 0.256, 1.236, -1.535, 0.482, 0.027),
    5: (-3.186, 0.669, 1.169, -0.08, 0.053, 0.501, -1.153, 0.148, -0.248),
}


class AmdClassifier:
    """Feed frames with :meth:`feed`; it returns a verdict once, then keeps it."""

    def __init__(self, params: AmdParams | None = None) -> None:
        self.p = params or AmdParams()
        self.verdict: Verdict | None = None
        self.reason = ""
        self.frames = 0
        self._floor: float | None = None
        self._smooth = 0.0  # level smoothed over ~60 ms: syllables, not glottal pulses
        self._peak = 0.0  # loudest smoothed voiced level so far: the callee's own voice
        self._voiced_run = 0  # current run of voiced frames
        self._silent_run = 0  # current run of silent frames
        self._in_word = False
        self._talk = 0  # span of the current stretch of talk, gaps under break_ms included
        self._span = 0  # span since the first word, gaps under pause_ms included
        self._words = 0  # frames inside words during that span
        self._first_word = -1  # frame of the first word, -1 before it
        self._stretches = 0
        self._turns = 0
        self._tone_run = 0
        self._tone_hz = 0.0
        self._longest_talk = 0  # the longest stretch so far
        self._longest_gap = 0  # the longest silence between two words so far
        self._bursts = 0  # voiced runs after any silence, syllables roughly: speech rate

    @property
    def elapsed_ms(self) -> int:
        return self.frames * self.p.frame_ms

    @property
    def speech_ms(self) -> tuple[int, int] | None:
        """(start, end) of the callee's talk so far, in ms after the answer; None before
        the first word. The core starts the two-second rule there (rules 3, 20)."""
        if self._first_word < 0:
            return None
        end = max(self._first_word, self.frames - self._silent_run)
        return self._first_word * self.p.frame_ms, end * self.p.frame_ms

    def features(self) -> tuple[float, ...]:
        """The cadence so far, as :data:`FEATURES` (seconds or counts); real time: every
        figure is kept up to date frame by frame."""
        s = self.p.frame_ms / 1000.0
        first = self._first_word if self._first_word >= 0 else self.frames
        return (
            self._span * s,
            max(self._longest_talk, self._talk) * s,
            self._longest_gap * s,
            float(self._stretches),
            first * s,
            self._silent_run * s if self._stretches else 0.0,
            self._words / self._span if self._span else 0.0,
            self._bursts / (self._span * s) if self._span else 0.0,
        )

    def machine_probability(self) -> float | None:
        """P(machine) from the deadline model, None without one or before any word."""
        model = _model_for(self.p.deadline_ms)
        if model is None or not self._stretches:
            return None
        z = model[0] + sum(w * x for w, x in zip(model[1:], self.features(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def feed(self, frames: list[Frame]) -> Verdict | None:
        for frame in frames:
            if self.verdict is not None:
                break
            self._step(frame)
        return self.verdict

    def finish(self) -> Verdict:
        """The deadline passed (or the call ended): decide with what we have."""
        if self.verdict is None:
            self._set(Verdict.UNKNOWN, "deadline")
        return self.verdict or Verdict.UNKNOWN

    def _ms(self, frames: int) -> int:
        return frames * self.p.frame_ms

    def _set(self, verdict: Verdict, reason: str) -> None:
        self.verdict, self.reason = verdict, reason

    def _is_tone(self, f: Frame) -> bool:
        p = self.p
        tone = f.tone_purity >= p.beep_purity and f.level >= p.min_level
        if tone and self._tone_run and abs(f.tone_hz - self._tone_hz) > p.beep_hz_tol:
            self._tone_run = 0  # a new pitch: a sweep or speech, start again
        if tone:
            if not self._tone_run:
                self._tone_hz = f.tone_hz
            self._tone_run += 1
        else:
            self._tone_run = 0
        return tone

    def _is_voice(self, f: Frame) -> bool:
        p = self.p
        floor = f.level if self._floor is None else self._floor
        loud = f.level > max(p.min_level, p.snr * floor)
        # The floor falls fast and rises slowly, so it settles on the quiet parts.
        rate = 0.5 if f.level < floor else (0.002 if loud else 0.02)
        self._floor = floor + rate * (f.level - floor)
        self._smooth += 0.3 * (f.level - self._smooth)
        if not (f.voiced and loud):
            return False
        if self._smooth > 3.0 * self._peak and self._stretches:
            # A voice much louder than all before: the callee; what we took for talk
            # was the background (a television, another room). Start again.
            self._talk = self._stretches = self._turns = self._span = self._words = 0
            self._first_word = -1
        self._peak = max(self._peak, self._smooth)
        return self._smooth > p.foreground * self._peak

    def _step(self, f: Frame) -> None:
        self.frames += 1
        p = self.p
        tone = self._is_tone(f)
        if self._ms(self._tone_run) >= p.beep_min_ms:
            self._set(Verdict.MACHINE, "beep")
            return
        voice = self._is_voice(f)
        if tone:
            self._voiced_run = 0  # a tone is neither talk nor silence: it may become a beep
        elif voice:
            self._voice()
        else:
            self._silence()
        self._decide()

    def _voice(self) -> None:
        p = self.p
        gap = self._silent_run
        self._voiced_run += 1
        if self._voiced_run == max(1, self.p.min_word_ms // (2 * self.p.frame_ms)):
            self._bursts += 1
        self._silent_run = 0
        if gap and self._first_word >= 0:
            self._longest_gap = max(self._longest_gap, gap)
        if self._in_word:
            self._talk += 1 + gap
            self._span += 1 + gap
            self._words += 1 + gap
        elif self._ms(self._voiced_run) >= p.min_word_ms:
            self._in_word = True
            if self._first_word < 0:
                self._first_word = self.frames - self._voiced_run
            self._span += gap + self._voiced_run if self._span else self._voiced_run
            self._words += self._voiced_run
            if self._talk and self._ms(gap) < p.break_ms:
                self._talk += gap + self._voiced_run  # the same stretch goes on
            else:
                self._stretches += 1
                self._longest_talk = max(self._longest_talk, self._talk)
                self._talk = self._voiced_run
        elif gap:
            self._silent_run = gap + 1  # too short for a word yet: still the gap

    def _silence(self) -> None:
        p = self.p
        self._silent_run += 1
        self._voiced_run = 0
        if self._in_word and self._ms(self._silent_run) >= p.word_gap_ms:
            self._in_word = False
        if self._talk and self._ms(self._silent_run) == p.break_ms:
            if self._ms(self._talk) <= p.turn_ms:
                self._turns += 1  # said a little, then stopped: a turn in a conversation
            else:
                self._turns = 0

    def _decide(self) -> None:
        p = self.p
        span = self._ms(self._span)
        late = self._ms(self._first_word) >= p.late_start_ms
        longest = p.late_max_talk_ms if late else p.max_talk_ms
        if span > longest and self._words >= p.talk_share * self._span:
            self._set(Verdict.MACHINE, "talks through" + (" after a silent lead" if late else ""))
        elif self._turns >= p.turns:
            self._set(Verdict.HUMAN, "talks in turns")
        elif self._stretches and self._ms(self._silent_run) >= self._pause_needed():
            self._set(Verdict.HUMAN, "waits for us")
        elif self.elapsed_ms >= p.deadline_ms:
            self._at_deadline()

    def _at_deadline(self) -> None:
        odds = self.machine_probability() if self.p.deadline_model else None
        if odds is None:
            self._set(Verdict.UNKNOWN, "deadline")
        elif odds > self.p.machine_odds:
            self._set(Verdict.MACHINE, f"cadence at the deadline (p={odds:.2f})")
        elif odds > 0.5:  # more likely a machine, not sure enough to hang up: an agent hears
            self._set(Verdict.UNKNOWN, f"cadence at the deadline (p={odds:.2f})")
        else:
            self._set(Verdict.HUMAN, f"cadence at the deadline (p={odds:.2f})")

    def _pause_needed(self) -> int:
        # A short greeting ("Hello?") then short_pause_ms of silence is already a person
        # waiting for us - but a terse machine also says a few words and then pauses
        # before its beep. So the shorter pause counts only when the full one would end
        # after the deadline: then it is that or "unknown", and a person hears an agent
        # sooner (the two-second rule, rules 3 and 20, runs from their greeting).
        p = self.p
        ended = self.elapsed_ms - self._ms(self._silent_run)
        late = ended + p.pause_ms > p.deadline_ms
        short = self._ms(self._span) <= p.turn_ms
        return p.short_pause_ms if short and late else p.pause_ms


def _model_for(deadline_ms: int) -> tuple[float, ...] | None:
    fits = [d for d in DEADLINE_MODELS if d * 1000 <= deadline_ms]
    return DEADLINE_MODELS[max(fits)] if fits else None


def classify(frames: list[Frame], params: AmdParams | None = None) -> Verdict:
    """Classify a whole recording's frames (used by the bench and tests)."""
    clf = AmdClassifier(params)
    return clf.feed(frames) or clf.finish()
