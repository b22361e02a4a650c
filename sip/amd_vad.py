"""The voice-activity model AMD uses: WebRTC's, from the ``webrtcvad-wheels`` wheel.

WebRTC's VAD is a small Gaussian-mixture model compiled into the wheel (no
download, no torch), takes 10/20/30 ms frames of 8 kHz PCM and costs a few
microseconds a frame, so it runs inside the worker for every AMD call. It keeps
a little state (hangover), hence one instance per call. :class:`AmdDetector` is
what the worker holds per call: frames from the FramePort in, a verdict out.
"""

from __future__ import annotations

from collections.abc import Sequence

import webrtcvad

from sip.amd import AmdClassifier, AmdParams, Verdict
from sip.amd_signal import RATE, FrameAnalyzer


class WebRtcVad:
    """:class:`sip.amd_signal.Vad` over WebRTC's model; ``mode`` 0 (lenient) to 3 (strict)."""

    def __init__(self, mode: int = 2) -> None:
        self._vad = webrtcvad.Vad(mode)

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, RATE))


class AmdDetector:
    """One call's AMD: PCM frames in, a verdict out (analysis plus the pure classifier)."""

    def __init__(self, params: AmdParams | None = None, vad_mode: int = 2) -> None:
        self.analyzer = FrameAnalyzer(WebRtcVad(vad_mode))
        self.classifier = AmdClassifier(params)

    @property
    def elapsed_ms(self) -> int:
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
        return self.classifier.feed(self.analyzer.features(frames))

    def finish(self) -> Verdict:
        return self.classifier.finish()
