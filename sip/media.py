"""pjsua2 objects used only inside a worker process: the Call subclass, media ports, helpers.

``FramePort`` feeds the AMD classifier. The conference bridge calls
``onFrameReceived`` on the null sound device's clock thread every 20 ms, so the
callback does the least it can: read the frame's bytes through a ctypes view of
the ``std::vector`` (µs, where ``bytes(frame.buf)`` costs hundreds) and append
them to a list the SIP thread drains (the analysis runs there, ``sip/amd_vad.py``).
Ports are created once per worker and never destroyed while the bridge clock
runs (that crashes).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from typing import Protocol

import pjsua2 as pj

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


class CallSink(Protocol):
    """What a PjCall reports to: the worker, on the endpoint's thread."""

    def on_call_state(self, key: str) -> None: ...
    def on_media_state(self, key: str) -> None: ...
    def on_dtmf(self, key: str, digit: str, method: int) -> None: ...
    def on_stream_destroyed(self, key: str, index: int) -> None: ...
    def log_exc(self, where: str) -> None: ...


class PjCall(pj.Call):  # type: ignore[misc]
    """Forwards callbacks to the worker by leg key; never lets an exception out."""

    def __init__(self, worker: CallSink, account: pj.Account, key: str) -> None:
        super().__init__(account)
        self._worker = worker
        self._key = key

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            self._worker.on_call_state(self._key)
        except Exception:
            self._worker.log_exc("onCallState")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            self._worker.on_media_state(self._key)
        except Exception:
            self._worker.log_exc("onCallMediaState")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        try:
            self._worker.on_dtmf(self._key, prm.digit, int(prm.method))
        except Exception:
            self._worker.log_exc("onDtmfDigit")

    def onStreamDestroyed(self, prm: pj.OnStreamDestroyedParam) -> None:
        try:
            self._worker.on_stream_destroyed(self._key, int(prm.streamIdx))
        except Exception:
            self._worker.log_exc("onStreamDestroyed")


class FramePort(pj.AudioMediaPort):  # type: ignore[misc]
    """A sink port in the conference bridge that keeps each 20 ms PCM frame for AMD."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.owner: str | None = None  # call id while attached
        self.frames: list[bytes] = []
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
        self.createPort(name, fmt)

    def attach(self, owner: str) -> None:
        self.frames = []
        self.owner = owner

    def detach(self) -> None:
        self.owner = None

    def take_frames(self) -> list[bytes]:
        frames, self.frames = self.frames, []
        return frames

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # clock thread
        # Never let an exception escape a callback (issue 5: a kept traceback aborts at exit).
        with contextlib.suppress(Exception):
            if self.owner is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                self.frames.append(_frame_bytes(frame))

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # clock thread
        with contextlib.suppress(Exception):
            frame.type = pj.PJMEDIA_FRAME_TYPE_NONE


class Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A one-shot WAV player; EOF is noted here and handled on the SIP thread."""

    def __init__(self, call_id: str, wav: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.wav = wav
        self.finished = False
        self.createPlayer(wav, pj.PJMEDIA_FILE_NO_LOOP)

    def onEof2(self) -> None:
        with contextlib.suppress(Exception):
            self.finished = True


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence fd 1 (PJSIP logs to stdout before libInit applies our LogConfig)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def wav_finalised(path: str) -> bool:
    """True once a recorder has written the WAV's final RIFF size (on destroy)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return len(head) == 8 and int.from_bytes(head[4:8], "little") > 0
