"""Write the carrier announcement library shipped in sip/sounds/announce/ (issue 20).

    .venv/bin/python scripts/make_announcements.py

Real carriers play one fixed recording per cause ("您拨打的电话已关机", "the number you
have dialed is not in service"); sip/amd_announce.py recognises those recordings by
fingerprint. We cannot ship the carriers' own recordings, so these stand-ins are
spoken by espeak-ng in voices the AMD corpus never uses for people or machines,
shifted in pitch and formants by sox (a recorded announcer is nobody in the corpus). To
recognise your carrier's real announcement, save one playing of it (8 kHz mono WAV,
from a call recording) as ``<lang>_<cause>.wav`` in that directory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sip import amd_corpus

OUT = Path(__file__).resolve().parent.parent / "sip" / "sounds" / "announce"
#: file stem -> parts spoken one after another: (text, espeak voice, words per minute)
LIBRARY: dict[str, list[tuple[str, str, int]]] = {
    "zh_switched_off": [
        ("您拨打的电话已关机。", "cmn+f2", 200),
        ("Sorry, the subscriber you dialed is power off.", "en-us+f2", 160),
    ],
    "zh_vacant": [("您拨打的号码是空号，请查证后再拨。", "cmn+f2", 200)],
    "zh_unreachable": [
        ("您拨打的电话暂时无法接通，请稍后再拨。", "cmn+f4", 200),
        ("Sorry, the number you dialed cannot be connected at the moment.", "en-us+f4", 160),
    ],
    "zh_suspended": [("您拨打的电话已停机。", "cmn+f4", 200)],
    "en_vacant": [
        ("The number you have dialed is not in service. Please check the number.", "en-us+f2", 150)
    ],
    "en_unreachable": [
        ("The wireless customer you are calling is not available at this time.", "en-gb+f2", 150)
    ],
}


def shifted(x: np.ndarray, cents: int) -> np.ndarray:
    """``x`` with pitch and formants moved up by ``cents`` (sox's pitch effect)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        amd_corpus.Clip("x", amd_corpus.Verdict.ANNOUNCEMENT, "library", x).write(src)
        subprocess.run(["sox", str(src), str(dst), "pitch", str(cents)], check=True)
        return amd_corpus.speech_file(dst)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, parts in LIBRARY.items():
        pieces: list[np.ndarray] = []
        for text, voice, speed in parts:
            x = shifted(amd_corpus.speech(text, voice, speed), 300)
            pieces += [x * (2500.0 / float(np.sqrt(np.mean(x * x)))), np.zeros(2400)]
        pcm = np.clip(np.round(np.concatenate(pieces)), -32768, 32767)
        clip = amd_corpus.Clip(stem, amd_corpus.Verdict.ANNOUNCEMENT, "library", pcm)
        path = clip.write(OUT / f"{stem}.wav")
        print(f"{path.name}: {len(pcm) / amd_corpus.RATE:.1f} s")


if __name__ == "__main__":
    main()
