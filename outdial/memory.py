"""Give memory back to the system after a heavy request (issue 18, finding 5).

CPython frees a big DataFrame's or workbook's objects, but glibc keeps the freed arenas
mapped, so resident memory stayed at its peak (178 MB grew to 2 GB over a probe). After an
import or a refused bomb, ``release()`` collects cycles and asks glibc to trim its heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

_lock = threading.Lock()
_libc: ctypes.CDLL | None = None
_looked = False


def _malloc_trim() -> None:
    global _libc, _looked
    if not _looked:
        _looked = True
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name) if name else None
            if _libc is not None and not hasattr(_libc, "malloc_trim"):
                _libc = None
        except OSError:
            _libc = None
    if _libc is not None:
        _libc.malloc_trim(0)


MIN_INTERVAL_S = 10.0
_last = [0.0]


def release(now: float | None = None) -> bool:
    """Collect garbage and return freed heap pages to the system (glibc only). At most once
    every ``MIN_INTERVAL_S``: a full collection holds the GIL, and so the event loop, for
    tens of milliseconds, which a stream of failing imports must not turn into a stall."""
    now = time.monotonic() if now is None else now
    with _lock:
        if now - _last[0] < MIN_INTERVAL_S:
            return False
        _last[0] = now
        gc.collect()
        _malloc_trim()
    return True
