"""Numbers normalized on worker processes while the importer writes.

An import of a big file spends most of its time in the database inserts, which run on
one core. Normalizing the numbers (lists/numbers.py) takes seconds more, so it runs on
a pool of worker processes, chunk by chunk, while the importer writes the chunks that
are ready: the second core normalizes what the first one is about to write.

Chunks come back in file order, so "the first row of a number is the one kept" holds
across chunks as it does inside one. Small files are normalized in this process, in
one chunk: starting workers costs more than it saves.

Workers import this module, :mod:`lists.picking` and :mod:`lists.numbers` only (no
database code), and get plain arrays of cell text, so they start and pickle fast.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from lists.picking import Picked, custom_json, pick_numbers

#: rows per chunk: small enough that the first one is ready soon, big enough to vectorize
CHUNK_ROWS = 50_000
#: below this many rows everything is normalized in this process
POOL_MIN_ROWS = 150_000
#: a file this big will likely have POOL_MIN_ROWS rows: start the workers before reading it
POOL_MIN_BYTES = 8 * 1024 * 1024
WORKERS = 2
WORKER_NICENESS = 5


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` to ``start + len(picked)`` of a file, ready to be decided and written."""

    start: int
    picked: Picked
    custom: np.ndarray  # per row, the custom fields as JSON text (picking.custom_json)

    @property
    def rows(self) -> slice:
        return slice(self.start, self.start + len(self.picked))


class NumberChunks:
    """Start (for a big file) the worker pool; then :meth:`chunks` yields chunks
    in file order. Use as a context manager: leaving it stops the workers."""

    def __init__(self, path: Path | None = None, *, force_pool: bool = False) -> None:
        self._pool: ProcessPoolExecutor | None = None
        big = path is not None and path.stat().st_size >= POOL_MIN_BYTES
        if big or force_pool:
            # forkserver: the importer may run in a web server thread, where fork is unsafe
            ctx = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(WORKERS, mp_context=ctx, initializer=_yield_cpu)
            # one worker starts (imports pandas) while the file is read; more would slow
            # the reading down; the others start when the chunks are handed out
            self._pool.submit(_ready)

    def __enter__(self) -> NumberChunks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def chunks(
        self, frame: pd.DataFrame, phones: tuple[str, ...], custom: tuple[str, ...], region: str
    ) -> Iterator[Chunk]:
        """Hand the chunks out now; iterate for the results, in file order. ``phones``: the
        phone columns, in order; ``custom``: the custom-field columns."""
        total = len(frame)
        if self._pool is None or total < POOL_MIN_ROWS:
            return iter([_chunk(0, frame, phones, custom, region, parallel=True)])
        cells = frame[list(dict.fromkeys((*phones, *custom)))]  # pickled as arrow buffers
        todo: deque[Future[Chunk]] = deque()
        for start, stop in _bounds(total):
            part = cells.iloc[start:stop]
            todo.append(self._pool.submit(_work, start, part, phones, custom, region))
        return _in_order(todo)


def _in_order(todo: deque[Future[Chunk]]) -> Iterator[Chunk]:
    try:
        while todo:
            yield todo.popleft().result()
    finally:
        for future in todo:
            future.cancel()


def _yield_cpu() -> None:
    """Workers run at a lower priority: the importer, which writes, is the one to keep
    busy; workers use the rest of the machine (all of it while the importer waits)."""
    os.nice(WORKER_NICENESS)


def _ready() -> None:
    """A no-op: submitting it makes a worker start (and import this module) early."""


def _bounds(total: int) -> Iterator[tuple[int, int]]:
    """Chunk boundaries: the first chunk small, so that writing starts early."""
    first = min(total, max(1, CHUNK_ROWS // 5))
    yield 0, first
    for start in range(first, total, CHUNK_ROWS):
        yield start, min(total, start + CHUNK_ROWS)


def _work(
    start: int, frame: pd.DataFrame, phones: tuple[str, ...], custom: tuple[str, ...], region: str
) -> Chunk:
    """In a worker: one chunk's cells → its Chunk (no nested pool)."""
    return _chunk(start, frame.reset_index(drop=True), phones, custom, region, parallel=False)


def _chunk(
    start: int,
    frame: pd.DataFrame,
    phones: tuple[str, ...],
    custom: tuple[str, ...],
    region: str,
    parallel: bool,
) -> Chunk:
    picked = pick_numbers(frame, phones, region, parallel=parallel)
    return Chunk(start, picked, custom_json(frame, custom, np.arange(len(frame))))
