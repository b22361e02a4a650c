"""Give memory back to the system after a heavy request (issue 18, finding 5).

CPython frees a big DataFrame's or workbook's objects, but glibc keeps the freed arenas
mapped, so resident memory stayed at its peak (178 MB grew to 2 GB over a probe). After an
import or a refused bomb, ``release()`` collects cycles and asks glibc to trim its heap.

``configure_malloc()``, called once when the server starts, removes two glibc habits that
kept ~15-20 MB resident after a burst of uploads (bench/abuse_bench.py):

* the *dynamic* mmap threshold: glibc starts by serving blocks >= 128 KiB with mmap (given
  back on free), but each such free raises the threshold to that block's size, up to 32 MiB.
  After the first 2 MB upload every later upload buffer, body and file read lands on the
  heap, where frees leave holes the system never gets back. A fixed threshold keeps big
  buffers on mmap;
* one arena per thread (up to 8 per core): every executor thread that touched a big
  buffer kept its own partly-used heap. Two arenas are plenty for a server whose threads
  mostly wait on the database.
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
    _lookup_libc()
    if _libc is not None:
        _libc.malloc_trim(0)


def _lookup_libc() -> None:
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


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt codes
MMAP_THRESHOLD = 256 * 1024  # blocks this big come from mmap and go back on free
TRIM_THRESHOLD = 1024 * 1024  # free heap top past this is returned at once
ARENA_MAX = 2


def configure_malloc() -> bool:
    """Fix glibc's malloc thresholds and cap its arenas (see above); False off glibc.
    Call before the server starts its threads: arenas already made stay."""
    _lookup_libc()
    if _libc is None or not hasattr(_libc, "mallopt"):
        return False
    settings = (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_ARENA_MAX, ARENA_MAX),
    )
    return all(_libc.mallopt(code, value) == 1 for code, value in settings)


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
