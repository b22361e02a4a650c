"""A labelled corpus of answered calls for AMD, generated with espeak-ng, sox and numpy.

Nothing is downloaded and nothing is committed: every clip is synthesised from a
seed, so a split is the same on every machine. Speech segments (the slow part)
are cached as 8 kHz WAVs under :func:`cache_dir`, keyed by text, voice and speed.

The set is built to be hard in the ways issue 20 lists:

* people who **talk on** ("喂？喂？听得到吗？信号不太好…"), say hello **twice**,
  run on in one breath, answer in **noise** or with a **television** behind;
* **terse** machines ("请留言。" + beep), machines with **long silent leads**,
  beeps at several pitches, carrier voicemail prompts;
* Chinese and English, several espeak-ng voices and speeds, quiet and loud lines.

Carrier announcements (issue 20): special information tones (three rising tones
of ITU-T E.180 / ANSI T1.401) then a recorded "not in service" or "switched off",
as a carrier plays them after a 200 OK, in several SIT patterns, levels and noise.

Carrier announcements **without** SIT (Chinese carriers' "您拨打的电话已关机", "是空号"):
one of the library's recordings (``sip/sounds/announce``, what sip/amd_announce.py
matches) as a line delivers it - from its start or joined mid-loop, at any level,
G.711 µ-law coded, with line noise or loud noise. The recordings are the same in
both splits, as a carrier's are on every call; what varies is the line.

Two splits share no phrase, no beep pitch and only some voices: ``tune`` (the
one thresholds may be chosen on) and ``heldout`` (reported, never tuned on).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sip.amd import AmdParams, Verdict
from sip.amd_vad import AmdDetector

RATE = 8000
FRAME_BYTES = 320  # 20 ms of 16-bit mono at 8 kHz
CLIP_S = 6.0  # every clip is this long: the far end keeps going past any deadline

# Phrase pools: (text, voice language). Each split draws only from its own pools.
HUMAN_GREETINGS = {
    "tune": [
        ("Hello?", "en"),
        ("Yes?", "en"),
        ("Hello, who is this?", "en"),
        ("喂？", "zh"),
        ("喂，你好。", "zh"),
        ("哪位？", "zh"),
    ],
    "heldout": [
        ("Hi.", "en"),
        ("Hello, good morning.", "en"),
        ("Speaking.", "en"),
        ("喂，你好，哪位？", "zh"),
        ("你好。", "zh"),
        ("喂，哪位呀？", "zh"),
    ],
}
HUMAN_TALK_ON = {  # phrases said one after another, each waiting a moment for an answer
    "tune": [
        (["Hello?", "Hello? Can you hear me?", "The line is bad."], "en"),
        (["Hi?", "Who is this?"], "en"),
        (["喂？", "喂？听得到吗？", "信号不太好。"], "zh"),
        (["喂？", "你好，请问你找谁？"], "zh"),
    ],
    "heldout": [
        (["Hello?", "Sorry, I was in another room.", "Who is calling?"], "en"),
        (["Yes, hello?", "Hello? Anybody there?"], "en"),
        (["喂？", "喂？", "听得到吗？信号不太好。"], "zh"),
        (["你好？", "说话呀，哪位？"], "zh"),
    ],
}
HUMAN_RUN_ON = {  # one breath, then a wait
    "tune": [
        ("Hello, yes, this is David, who is it?", "en"),
        ("喂，你好，我是小李，请问哪位？", "zh"),
    ],
    "heldout": [
        ("Hello, sorry, I was in another room, who is calling?", "en"),
        ("喂，你好，刚才没听到，你是哪位？", "zh"),
    ],
}
MACHINE_GREETINGS = {
    "tune": [
        (
            "Hi, you have reached the voicemail of John Smith. I cannot take your call "
            "right now, please leave a message after the tone.",
            "en",
        ),
        (
            "Thanks for calling Acme Plumbing. Our office is closed. Please leave a message.",
            "en",
        ),
        ("你好，我是小王，现在不方便接电话，请在提示音后留言，我会尽快回复你。", "zh"),
        ("您好，您拨打的用户暂时无法接通，请在提示音后留言。", "zh"),
    ],
    "heldout": [
        (
            "Hello, this is Sarah. Sorry I missed you. Leave your name and number and I "
            "will call you back as soon as I can.",
            "en",
        ),
        (
            "The person you are calling is not available. Please record your message "
            "after the beep.",
            "en",
        ),
        ("您好，机主现在不方便接听，请在嘀声后留言，谢谢。", "zh"),
        ("你好，这里是张三的语音信箱，有事请留言。", "zh"),
    ],
}
MACHINE_TERSE = {
    "tune": [("Leave a message.", "en"), ("请留言。", "zh"), ("Please speak.", "en")],
    "heldout": [("Message, please.", "en"), ("请讲。", "zh"), ("Leave it after the tone.", "en")],
}
TV_LINES = [  # background talk: a newsreader who never waits for anyone
    (
        "In other news tonight, the city council voted to extend the budget for road repairs "
        "and the weather service expects heavy rain over the weekend across the region.",
        "en",
    ),
    (
        "各位观众晚上好，欢迎收看今天的新闻节目，下面请看详细报道，今天全市大部分地区天气晴朗。",
        "zh",
    ),
]
VOICES = {
    "tune": {"en": ["en-us", "en-gb", "en-us+f3"], "zh": ["cmn", "cmn+f3"]},
    "heldout": {
        "en": ["en-gb-x-rp+m3", "en-029+f4", "en-us-nyc", "en-us"],
        "zh": ["cmn+m3", "yue", "cmn"],
    },
}
ANNOUNCEMENTS = {  # what a carrier says after its SIT
    "tune": [
        ("The number you have dialed is not in service.", "en"),
        ("您拨打的号码是空号，请查证后再拨。", "zh"),
        ("您拨打的电话已关机。", "zh"),
    ],
    "heldout": [
        ("We're sorry, the number you have reached is not in service.", "en"),
        ("您拨打的号码不存在。", "zh"),
        ("对不起，您拨打的用户已关机，请稍后再拨。", "zh"),
    ],
}
#: a SIT's three tones: (Hz, seconds) each (ANSI T1.401: short 274 ms, long 380 ms)
SIT_PATTERNS = {
    "intercept": ((913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)),
    "vacant": ((985.2, 0.380), (1370.6, 0.274), (1776.7, 0.380)),
    "no_circuit": ((913.8, 0.380), (1428.5, 0.380), (1776.7, 0.380)),
    "reorder": ((985.2, 0.274), (1370.6, 0.380), (1776.7, 0.380)),
}
BEEP_HZ = {"tune": [440.0, 850.0, 1000.0, 1400.0], "heldout": [600.0, 950.0, 1200.0, 1800.0]}

HUMAN_KINDS = ("greet", "twice", "talk_on", "run_on", "noisy", "tv", "late")
MACHINE_KINDS = ("voicemail", "terse", "silent_lead", "noisy_machine")
ANNOUNCEMENT_KINDS = ("sit_announce", "sit_noisy", "recorded", "recorded_noisy")
KINDS = HUMAN_KINDS + MACHINE_KINDS + ANNOUNCEMENT_KINDS


@dataclass(slots=True)
class Clip:
    """One answered call as the far end sends it: 8 kHz 16-bit mono PCM."""

    name: str
    label: Verdict
    kind: str
    pcm: np.ndarray = field(repr=False)

    def frames(self) -> list[bytes]:
        """20 ms frames, as the worker's FramePort receives them."""
        raw = self.pcm.astype("<i2").tobytes()
        return [raw[i : i + FRAME_BYTES] for i in range(0, len(raw) - FRAME_BYTES + 1, FRAME_BYTES)]

    def write(self, path: Path) -> Path:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(self.pcm.astype("<i2").tobytes())
        return path


def tools_available() -> bool:
    return bool(shutil.which("espeak-ng") and shutil.which("sox"))


def cache_dir() -> Path:
    """Where synthesised speech is kept between runs (``OUTDIAL_AMD_CACHE`` overrides)."""
    default = Path(tempfile.gettempdir()) / "outdial-amd-corpus"
    path = Path(os.environ.get("OUTDIAL_AMD_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def speech(text: str, voice: str, speed: int) -> np.ndarray:
    """``text`` spoken by espeak-ng at 8 kHz, leading and trailing silence trimmed (float)."""
    key = hashlib.sha1(f"{text}|{voice}|{speed}".encode()).hexdigest()[:16]
    path = cache_dir() / f"{key}.wav"
    if not path.exists():
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
            _run("espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text)
            trim = ["silence", "1", "0.02", "0.5%", "reverse"]
            _run("sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out), *trim, *trim)
            out.replace(path)  # atomic: parallel runs never read half a file
    return speech_file(path)


def speech_file(path: Path) -> np.ndarray:
    """An 8 kHz 16-bit mono WAV's samples as floats."""
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float64)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def tone(hz: float, seconds: float, amplitude: float) -> np.ndarray:
    """A voicemail beep: a steady sine with 5 ms ramps."""
    n = int(seconds * RATE)
    out = amplitude * np.sin(2 * np.pi * hz * np.arange(n) / RATE)
    ramp = min(40, n // 2)
    out[:ramp] *= np.linspace(0, 1, ramp)
    out[n - ramp :] *= np.linspace(1, 0, ramp)
    return out


def sit(kind: str, amplitude: float) -> np.ndarray:
    """Special information tones of ``kind`` (a key of :data:`SIT_PATTERNS`), back to back."""
    return np.concatenate([tone(hz, sec, amplitude) for hz, sec in SIT_PATTERNS[kind]])


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS 1/f noise (white noise shaped in the frequency domain)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    shaped = np.fft.irfft(spectrum / np.sqrt(f), n)
    return shaped / (_rms(shaped) or 1.0)


class _Builder:
    """Lays segments on a timeline; speech is scaled to one loudness per clip."""

    def __init__(self, split: str, rng: random.Random, person: bool) -> None:
        self.split = split
        self.rng = rng
        self.person = person
        self.parts: list[np.ndarray] = []
        self.speech_level = rng.choice([700.0, 1200.0, 2000.0, 3500.0])  # quiet to loud lines

    def voice(self, lang: str) -> tuple[str, int]:
        # Words per minute: people speak at 150-210 (espeak's default is 175); recorded
        # greetings are read, often slowly, at 130-190. espeak's Mandarin is slow at the
        # same setting, hence the higher base.
        base = (150 if lang == "en" else 190) + (20 if self.person else 0)
        return self.rng.choice(VOICES[self.split][lang]), base + 10 * self.rng.randint(-2, 4)

    def gap(self, seconds: float) -> None:
        self.parts.append(np.zeros(int(seconds * RATE)))

    def say(self, text: str, lang: str, voice: tuple[str, int] | None = None) -> None:
        name, speed = voice or self.voice(lang)
        x = speech(text, name, speed)
        self.parts.append(x * (self.speech_level / (_rms(x) or 1.0)))

    def beep(self) -> None:
        hz = self.rng.choice(BEEP_HZ[self.split])
        self.parts.append(tone(hz, self.rng.uniform(0.3, 1.0), self.speech_level * 1.2))

    def clip(self, name: str, label: Verdict, kind: str) -> Clip:
        x = np.concatenate([*self.parts, np.zeros(int(CLIP_S * RATE))])[: int(CLIP_S * RATE)]
        return Clip(name, label, kind, x)


def make_clip(split: str, kind: str, index: int, seed: int) -> Clip:
    """One clip of scenario ``kind``; the same arguments always give the same audio."""
    rng = random.Random(f"{seed}:{split}:{kind}:{index}")
    label = label_of(kind)
    b = _Builder(split, rng, label is Verdict.HUMAN)
    if kind in ("recorded", "recorded_noisy"):
        b.gap(rng.uniform(0.0, 0.5))
        b.parts.append(_recording(rng, b.speech_level))
    elif label is Verdict.ANNOUNCEMENT:
        b.gap(rng.uniform(0.0, 0.5))  # the carrier's tones start at or soon after the answer
        b.parts.append(sit(rng.choice(sorted(SIT_PATTERNS)), b.speech_level * 0.8))
        b.gap(rng.uniform(0.1, 0.5))
        text, lang = rng.choice(ANNOUNCEMENTS[split])
        b.say(text, lang)
    elif label is Verdict.HUMAN:
        late = kind == "late"  # fumbles with the phone, then speaks
        b.gap(rng.uniform(1.4, 2.4) if late else rng.uniform(0.2, 1.0))
        mixed = rng.choice(
            ["greet", "twice", "talk_on", "run_on"] if late else ["greet", "twice", "talk_on"]
        )
        base = mixed if kind in ("noisy", "tv", "late") else kind
        _human(b, base)
    else:
        lead = rng.uniform(1.5, 2.3) if kind == "silent_lead" else rng.uniform(0.2, 1.0)
        b.gap(lead)
        _machine(b, "voicemail" if kind in ("silent_lead", "noisy_machine") else kind)
    x = b.clip(f"{split}-{kind}-{index:03d}", label, kind).pcm
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    line_noise = b.speech_level * 10 ** (-rng.uniform(35, 45) / 20)  # every line hisses a bit
    x = x + line_noise * pink_noise(len(x), noise_rng)
    if kind in ("noisy", "noisy_machine", "sit_noisy", "recorded_noisy"):
        snr_db = rng.uniform(5, 15)
        x = x + b.speech_level * 10 ** (-snr_db / 20) * pink_noise(len(x), noise_rng)
    if kind == "tv":
        text, lang = rng.choice(TV_LINES)
        tv = speech(text, rng.choice(VOICES[split][lang]), 170)
        tv = np.tile(tv, int(np.ceil(len(x) / len(tv))) + 1)
        start = rng.randrange(len(tv) - len(x))
        tv_db = rng.uniform(12, 20)  # the TV is across the room
        x = x + b.speech_level * 10 ** (-tv_db / 20) * tv[start : start + len(x)] / _rms(tv)
    x = np.clip(np.round(x), -32768, 32767)
    return Clip(
        f"{split}-{kind}-{index:03d}", label, kind, mulaw(x) if kind.startswith("rec") else x
    )


def mulaw(x: np.ndarray) -> np.ndarray:
    """``x`` after G.711 µ-law coding and decoding (8 bits a sample), as the line sends it."""
    y = np.clip(x / 32768.0, -1.0, 1.0)
    code = np.round(np.sign(y) * np.log1p(255.0 * np.abs(y)) / np.log1p(255.0) * 127.0) / 127.0
    out = np.sign(code) * np.expm1(np.abs(code) * np.log1p(255.0)) / 255.0 * 32767.0
    return np.asarray(np.round(out), dtype=np.float64)


def _recording(rng: random.Random, level: float) -> np.ndarray:
    """A library announcement, from its start or (early media loops it) joined mid-way."""
    from sip.amd_announce import LIBRARY_DIR, read_wav

    x = read_wav(rng.choice(sorted(LIBRARY_DIR.glob("*.wav"))))
    x = np.tile(x, 3)[int(rng.choice([0.0, 0.0, rng.uniform(0.0, 2.0)]) * RATE) :]
    return x * (level / (_rms(x) or 1.0))


def label_of(kind: str) -> Verdict:
    """The truth for a scenario ``kind``."""
    if kind in HUMAN_KINDS:
        return Verdict.HUMAN
    return Verdict.MACHINE if kind in MACHINE_KINDS else Verdict.ANNOUNCEMENT


def _human(b: _Builder, kind: str) -> None:
    rng, split = b.rng, b.split
    if kind == "greet":
        text, lang = rng.choice(HUMAN_GREETINGS[split])
        b.say(text, lang)
    elif kind == "twice":
        text, lang = rng.choice(HUMAN_GREETINGS[split])
        voice = b.voice(lang)
        b.say(text, lang, voice)
        b.gap(rng.uniform(0.7, 1.6))  # nobody answered: say it again
        b.say(text, lang, voice)
    elif kind == "talk_on":
        phrases, lang = rng.choice(HUMAN_TALK_ON[split])
        voice = b.voice(lang)
        for i, phrase in enumerate(phrases):
            if i:
                b.gap(rng.uniform(0.5, 1.2))  # waits a moment for an answer, then goes on
            b.say(phrase, lang, voice)
    else:  # run_on
        text, lang = rng.choice(HUMAN_RUN_ON[split])
        b.say(text, lang)


def _machine(b: _Builder, kind: str) -> None:
    rng, split = b.rng, b.split
    if kind == "terse":
        text, lang = rng.choice(MACHINE_TERSE[split])
        b.say(text, lang)
        b.gap(rng.uniform(0.2, 0.8))
        b.beep()
    else:
        text, lang = rng.choice(MACHINE_GREETINGS[split])
        b.say(text, lang)
        b.gap(rng.uniform(0.2, 0.6))
        b.beep()


def build(split: str, per_kind: int, seed: int = 1) -> list[Clip]:
    """``per_kind`` clips of every scenario in ``split`` ("tune" or "heldout")."""
    if split not in VOICES:
        raise KeyError(split)
    return [make_clip(split, kind, i, seed) for kind in KINDS for i in range(per_kind)]


@dataclass(frozen=True, slots=True)
class Outcome:
    clip: str
    kind: str
    label: Verdict
    verdict: Verdict
    decided_ms: int
    reason: str


def detect(clip: Clip, params: AmdParams | None = None, vad_mode: int = 2) -> AmdDetector:
    """Feed ``clip`` to a detector frame by frame, as the worker does on a call."""
    det = AmdDetector(params, vad_mode)
    frames = clip.frames()
    for i in range(0, len(frames), 5):  # the worker drains its port every ~100 ms
        if det.feed(frames[i : i + 5]) is not None:
            break
    det.finish()
    return det


def run_clip(clip: Clip, params: AmdParams | None = None, vad_mode: int = 2) -> Outcome:
    """The verdict on ``clip``, when it came and why."""
    det = detect(clip, params, vad_mode)
    verdict = det.classifier.verdict or Verdict.UNKNOWN
    return Outcome(clip.name, clip.kind, clip.label, verdict, det.elapsed_ms, det.reason)


@dataclass(frozen=True, slots=True)
class Scores:
    """Issue 20's figures: per class and scenario, overall, live people called machines."""

    samples: int
    accuracy: float  # verdict == truth; ``unknown`` counts as wrong
    human_accuracy: float
    machine_accuracy: float
    false_machine_rate: float  # live people called machines (hung up on: rule 19)
    announcement_accuracy: float  # carrier announcements found (SIT)
    false_announcements: int  # people or machines called announcements (never wanted)
    unknown_rate: float
    p95_ms: int  # verdict time, from answer
    human_p95_ms: int  # verdict time for live people (they wait in silence for an agent)
    by_kind: dict[str, dict[str, int]]

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Scores:
        humans = [o for o in outcomes if o.label is Verdict.HUMAN]
        machines = [o for o in outcomes if o.label is Verdict.MACHINE]
        announcements = [o for o in outcomes if o.label is Verdict.ANNOUNCEMENT]

        def share(items: list[Outcome], verdict: Verdict | None = None) -> float:
            hit = [o for o in items if o.verdict is (verdict or o.label)]
            return round(len(hit) / len(items), 3) if items else 0.0

        def p95(items: list[Outcome]) -> int:
            times = sorted(o.decided_ms for o in items)
            return times[min(len(times) - 1, int(0.95 * len(times)))] if times else 0

        by_kind: dict[str, dict[str, int]] = {}
        for o in outcomes:
            row = by_kind.setdefault(o.kind, {v.value: 0 for v in Verdict})
            row[o.verdict.value] += 1
        return cls(
            samples=len(outcomes),
            accuracy=share(outcomes),
            human_accuracy=share(humans),
            machine_accuracy=share(machines),
            false_machine_rate=share(humans, Verdict.MACHINE),
            announcement_accuracy=share(announcements),
            false_announcements=sum(
                1
                for o in outcomes
                if o.verdict is Verdict.ANNOUNCEMENT and o.label is not Verdict.ANNOUNCEMENT
            ),
            unknown_rate=share(outcomes, Verdict.UNKNOWN),
            p95_ms=p95(outcomes),
            human_p95_ms=p95(humans),
            by_kind=by_kind,
        )
