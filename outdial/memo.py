"""Short-lived answers of costly reads, refreshed in the background (stale-while-revalidate).

The console's live view and floor board show counts that read every contact or every call of
the day (1 M index entries: ~0.3 s on SQLite). They are shown every second, to every viewer;
a count a few seconds old is as useful there. :class:`Memo` keeps each answer for ``ttl``
seconds; up to ``2 * ttl`` the next reader still gets the old answer at once while one
background thread reads it again, so a page watched without a pause never waits for the
database; an answer older than that (nobody looked) is read again while the reader waits.
Two readers of a key nobody has read never read it twice: the second waits for the first's
answer. A page that must not wait asks :meth:`Memo.ready` first and, when the answer is not
there, shows that it is counting and reads it in the background (web/pages_live.py).

What the running engine knows (agents, calls in flight, the pacer's decision) is never kept
here: it comes from the engine's own snapshot on every update (web/pages_live.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Entry:
    value: Any
    at: float
    refreshing: bool = False


@dataclass
class Memo:
    """``get(key, read)``: ``read()``'s answer, at most ``ttl`` seconds old, plus the time of
    one background refresh. ``clock`` is monotonic seconds (a test passes its own)."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _entries: dict[Hashable, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None
    _pending: set[Future[None]] = field(default_factory=set)
    _loading: dict[Hashable, Future[Any]] = field(default_factory=dict)

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.at >= 2 * self.ttl and not entry.refreshing:
                entry = None  # nobody looked for a while: too old to show even once
            if entry is not None and (now - entry.at < self.ttl or entry.refreshing):
                return entry.value  # type: ignore[no-any-return]
            if entry is not None:
                entry.refreshing = True
            loading = self._loading.get(key) if entry is None else None
            if entry is None and loading is None:
                loading = self._loading[key] = Future()
                loading.set_running_or_notify_cancel()
                mine = True
            else:
                mine = False
        if loading is not None and not mine:  # another reader reads it now: wait for it
            return loading.result()  # type: ignore[no-any-return]
        if loading is not None:  # never read, or not for 2 ttl: this reader waits
            return self._load(key, read, loading)
        assert entry is not None
        future = self._executor().submit(self._refresh, key, read)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return entry.value  # type: ignore[no-any-return]

    def _load(self, key: Hashable, read: Callable[[], T], loading: Future[Any]) -> T:
        try:
            value = read()
        except BaseException as exc:
            with self._lock:
                self._loading.pop(key, None)
            loading.set_exception(exc)
            raise
        with self._lock:
            self._entries[key] = _Entry(value, self.clock())
            self._loading.pop(key, None)
        loading.set_result(value)
        return value

    def ready(self, key: Hashable) -> bool:
        """Would :meth:`get` answer at once (an answer younger than ``2 * ttl``)?"""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and (
                self.clock() - entry.at < 2 * self.ttl or entry.refreshing
            )

    def _refresh(self, key: Hashable, read: Callable[[], Any]) -> None:
        try:
            value = read()
        except Exception:  # keep the old answer; the next reader tries again
            with self._lock:
                if (old := self._entries.get(key)) is not None:
                    old.refreshing = False
            return
        with self._lock:
            self._entries[key] = _Entry(value, self.clock())

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="outdial-memo")
            return self._pool

    def settle(self, timeout: float = 10.0) -> None:
        """Wait for the refreshes under way (tests, and a clean shutdown)."""
        wait(list(self._pending), timeout=timeout)

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one answer (or all): the next read waits for a fresh one."""
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)

    def close(self) -> None:
        """Stop refreshing (a refresh under way finishes on its own; its answer is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
