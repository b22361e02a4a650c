"""The voice-activity model AMD uses: WebRTC's, from the ``webrtcvad-wheels`` wheel.

WebRTC's VAD is a small Gaussian-mixture model compiled into the wheel (no
download, no torch), takes 10/20/30 ms frames of 8 kHz PCM and costs a few
microseconds a frame, so it runs inside the worker for every AMD call. It keeps
a little state (hangover), hence one instance per call. :class:`AmdDetector` is
what the worker holds per call: frames from the FramePort in, a verdict out.

Special information tones and the carriers' recorded announcements
(``sip/amd_announce.py``: "您拨打的电话已关机" with no tone before it) are followed from
the first frame, early media included (a carrier plays "not in service" before or
after a 200 OK); the person/machine classifier hears only what comes after the
answer (issue 20).
"""

from __future__ import annotations

from collections.abc import Sequence

import webrtcvad

from sip.amd import AmdClassifier, AmdParams, Frame, Verdict
from sip.amd_announce import AnnouncementMatcher
from sip.amd_signal import RATE, FrameAnalyzer, SitTracker, pcm_frames


class WebRtcVad:
    """:class:`sip.amd_signal.Vad` over WebRTC's model; ``mode`` 0 (lenient) to 3 (strict)."""

    def __init__(self, mode: int = 2) -> None:
        self._vad = webrtcvad.Vad(mode)

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, RATE))


class AmdDetector:
    """One call's AMD: PCM frames in, a verdict out (analysis plus the pure classifier).

    ``answered=False`` starts it on early media: only a SIT can end it before
    :meth:`answer`. Frames that may be the start of a SIT are held back from the
    classifier until the SIT is found or ruled out, so its first tone is not a beep.
    """

    def __init__(
        self, params: AmdParams | None = None, vad_mode: int = 2, answered: bool = True
    ) -> None:
        self.analyzer = FrameAnalyzer(WebRtcVad(vad_mode))
        self.classifier = AmdClassifier(params)
        self.sit = SitTracker(self.classifier.p.frame_ms)
        self.recordings = AnnouncementMatcher()
        self.answered = answered
        self._held: list[Frame] = []
        self._heard = 0  # frames since the answer, the held ones included

    def answer(self) -> None:
        """The 200 OK came: from now on the callee's audio is classified."""
        self.answered = True
        self._held = []  # early media is not the callee speaking

    @property
    def elapsed_ms(self) -> int:
        if self.classifier.verdict is Verdict.ANNOUNCEMENT:
            return self._heard * self.classifier.p.frame_ms
        return self.classifier.elapsed_ms

    @property
    def speech_ms(self) -> tuple[int, int] | None:
        return self.classifier.speech_ms

    @property
    def reason(self) -> str:
        return self.classifier.reason

    def feed(self, frames: Sequence[bytes]) -> Verdict | None:
        if self.classifier.verdict is not None:
            return self.classifier.verdict
        block = pcm_frames(frames)
        match = self.recordings.feed(block.reshape(-1))
        if match is not None:
            self._heard += len(block) if self.answered else 0
            self.classifier.verdict = Verdict.ANNOUNCEMENT
            self.classifier.reason = f"recorded_{match.cause}"
            return self.classifier.verdict
        for frame in self.analyzer.features(frames):
            kind = self.sit.step(frame)
            if kind is not None:
                self._heard += 1 if self.answered else 0
                self.classifier.verdict = Verdict.ANNOUNCEMENT
                self.classifier.reason = f"sit_{kind}"
                break
            if not self.answered:
                continue
            self._heard += 1
            self._held.append(frame)
            if not (self.sit.holding or self.recordings.promising):
                held, self._held = self._held, []
                if self.classifier.feed(held) is not None:
                    break
        return self.classifier.verdict

    def finish(self) -> Verdict:
        if self.classifier.verdict is None and self._held:
            self.classifier.feed(self._held)
            self._held = []
        return self.classifier.finish()
