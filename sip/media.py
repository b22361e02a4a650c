"""pjsua2 media helpers used only inside a worker process.

``FramePort`` feeds the AMD classifier. The conference bridge calls
``onFrameReceived`` on the null sound device's clock thread every 20 ms, so the
callback does the least it can: read the frame's bytes through a ctypes view of
the ``std::vector`` (µs, where ``bytes(frame.buf)`` costs hundreds), compute one
RMS value and append it to a list the SIP thread drains. Ports are created once
per worker and never destroyed while the bridge clock runs (that crashes).
"""

from __future__ import annotations

import contextlib
import ctypes
import warnings

import pjsua2 as pj

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # C RMS over 16-bit PCM; Python 3.11 still ships it

_PTR = ctypes.sizeof(ctypes.c_void_p)


def _frame_bytes(frame: pj.MediaFrame) -> bytes:
    """The PCM bytes of ``frame``; reads libstdc++'s vector (begin, end) pointers."""
    vec = frame.buf
    addr = int(vec.this)
    begin = ctypes.c_void_p.from_address(addr).value or 0
    end = ctypes.c_void_p.from_address(addr + _PTR).value or 0
    size = end - begin
    if begin == 0 or size != frame.size or size <= 0 or size > 4096:
        return bytes(vec)  # layout not as expected: the slow, safe copy
    return ctypes.string_at(begin, size)


class FramePort(pj.AudioMediaPort):  # type: ignore[misc]
    """A sink port in the conference bridge that records per-frame RMS levels."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.owner: str | None = None  # call id while attached
        self.levels: list[float] = []
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
        self.createPort(name, fmt)

    def attach(self, owner: str) -> None:
        self.levels = []
        self.owner = owner

    def detach(self) -> None:
        self.owner = None

    def take_levels(self) -> list[float]:
        levels, self.levels = self.levels, []
        return levels

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # clock thread
        try:
            if self.owner is None or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO:
                return
            self.levels.append(float(audioop.rms(_frame_bytes(frame), 2)))
        except Exception:
            pass

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # clock thread
        try:
            frame.type = pj.PJMEDIA_FRAME_TYPE_NONE
        except Exception:
            pass


class Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A one-shot WAV player; EOF is noted here and handled on the SIP thread."""

    def __init__(self, call_id: str, wav: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.wav = wav
        self.finished = False
        self.createPlayer(wav, pj.PJMEDIA_FILE_NO_LOOP)

    def onEof2(self) -> None:
        try:
            self.finished = True
        except Exception:
            pass
