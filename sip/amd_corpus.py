"""A labelled corpus of answering greetings for AMD, built with espeak-ng and sox.

Humans say a short greeting and wait; machines play a long voicemail greeting.
Each sample varies the voice, speed, pick-up delay and background noise. Used
by tests/sip/test_amd.py and bench/amd_eval.py; nothing is committed.
"""

from __future__ import annotations

import itertools
import random
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from sip.amd import Verdict

HUMAN_LINES = [
    "Hello?",
    "Hello, who is this?",
    "Yes?",
    "Hi.",
    "Hello, this is Mark.",
    "Speaking.",
    "Hello, good morning.",
]
MACHINE_LINES = [
    "Hi, you have reached the voicemail of John Smith. I cannot take your call right now, "
    "please leave a message after the tone.",
    "Hello, this is Sarah. Sorry I missed you. Leave your name and number and I will call "
    "you back as soon as I can.",
    "The person you are calling is not available. Please record your message after the beep. "
    "When you are finished, hang up.",
    "Thanks for calling Acme Plumbing. Our office is closed. Please leave a message.",
]
VOICES = ["en-us", "en-gb", "en-us+f3", "en+m3"]


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    label: Verdict
    noise: float


def tools_available() -> bool:
    return bool(shutil.which("espeak-ng") and shutil.which("sox"))


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def make_sample(
    out: Path, text: str, label: Verdict, *, voice: str, speed: int, lead: float, noise: float
) -> Sample:
    raw = out.with_suffix(".raw.wav")
    _run("espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text)
    # Humans then wait in silence for the caller; machines go on to their beep.
    trail = 3.0 if label is Verdict.HUMAN else 0.5
    speech = out.with_suffix(".speech.wav")
    _run(
        "sox",
        str(raw),
        "-r",
        "8000",
        "-c",
        "1",
        "-b",
        "16",
        str(speech),
        "pad",
        f"{lead}",
        f"{trail}",
    )
    if noise > 0:
        dur = _duration(speech)
        noisef = out.with_suffix(".noise.wav")
        _run(
            "sox",
            "-R",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(noisef),
            "synth",
            f"{dur}",
            "pinknoise",
            "vol",
            f"{noise}",
        )
        _run("sox", "-m", str(speech), str(noisef), str(out))
        noisef.unlink()
    else:
        speech.rename(out)
    raw.unlink()
    speech.unlink(missing_ok=True)
    return Sample(out, label, noise)


def _duration(path: Path) -> float:
    with wave.open(str(path)) as w:
        return float(w.getnframes()) / float(w.getframerate())


def build(directory: Path, per_class: int = 12, seed: int = 5) -> list[Sample]:
    """``per_class`` humans and machines with varied voice, speed, delay and noise."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    samples = []
    counter = itertools.count()
    for label, lines in ((Verdict.HUMAN, HUMAN_LINES), (Verdict.MACHINE, MACHINE_LINES)):
        for i in range(per_class):
            n = next(counter)
            samples.append(
                make_sample(
                    directory / f"{label.value}-{n:03d}.wav",
                    lines[i % len(lines)],
                    label,
                    voice=rng.choice(VOICES),
                    speed=rng.randint(140, 200),
                    lead=round(rng.uniform(0.2, 1.0), 2),
                    noise=rng.choice([0.0, 0.02, 0.05, 0.1]),
                )
            )
    return samples


def frame_levels(path: Path) -> list[float]:
    """RMS of each 20 ms frame, as the worker's FramePort computes it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    return [float(audioop.rms(pcm[i : i + 320], 2)) for i in range(0, len(pcm) - 319, 320)]
