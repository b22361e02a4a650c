"""A national DNC registry snapshot held in memory (rules 7, 24).

Structure: one sorted ``array('q')`` of E.164 numbers as int64 (``+12125551234`` ->
``12125551234``), searched with ``bisect``. Why: 8 bytes per number (10 M numbers = 80 MB,
against ~600 MB for a Python ``set`` of ints), no dependency (numpy is present only as a
pandas dependency and the core must not need it), O(log n) lookups (~24 probes for 10 M)
and a binary form that ``array.fromfile`` loads in a fraction of a second.

Loading text (one number per line, millions of lines) sorts in chunks and merges, so the
peak stays near the final array plus one chunk; an already sorted file (the usual export)
skips the merge. ``save``/``load`` keep the sorted binary for fast restarts. The snapshot
date travels with the registry: a stale snapshot blocks telemarketing (decision.py).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from compliance.errors import NumberFormatError

CHUNK = 1_000_000


def to_int(e164: str) -> int:
    """``"+12125551234"`` -> ``12125551234``; raises ``NumberFormatError``."""
    digits = e164[1:] if e164.startswith("+") else e164
    if not digits.isdigit() or not 7 <= len(digits) <= 15 or digits[0] == "0":
        raise NumberFormatError(f"not an E.164 number: {e164!r}", number=e164)
    return int(digits)


@dataclass(frozen=True, eq=False)
class Registry:
    name: str
    snapshot: date
    numbers: array  # type: ignore[type-arg]  # array('q'), sorted, unique

    def __len__(self) -> int:
        return len(self.numbers)

    def __contains__(self, e164: object) -> bool:
        if not isinstance(e164, str):
            return False
        try:
            return self.contains_int(to_int(e164))
        except NumberFormatError:
            return False

    def contains_int(self, n: int) -> bool:
        nums = self.numbers
        i = bisect_left(nums, n)
        return i < len(nums) and nums[i] == n

    def save(self, fh: BinaryIO) -> None:
        self.numbers.tofile(fh)

    @classmethod
    def load(cls, name: str, snapshot: date, path: Path) -> Registry:
        """Load the sorted binary written by ``save``."""
        nums = array("q")
        with path.open("rb") as fh:
            nums.frombytes(fh.read())
        return cls(name, snapshot, nums)


def _parse(lines: Iterable[str]) -> Iterator[int]:
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            # registry files hold 10-digit US numbers; normalise them to +1 form
            yield to_int(text if text.startswith("+") or len(text) != 10 else "+1" + text)


def _dedupe(sorted_ints: Iterable[int]) -> array:  # type: ignore[type-arg]
    out = array("q")
    last = None
    for n in sorted_ints:
        if n != last:
            out.append(n)
            last = n
    return out


def from_lines(name: str, snapshot: date, lines: Iterable[str]) -> Registry:
    """Build from text lines (one number per line, any order, duplicates allowed)."""
    chunks: list[array] = []  # type: ignore[type-arg]
    buf: list[int] = []
    for n in _parse(lines):
        buf.append(n)
        if len(buf) >= CHUNK:
            chunks.append(array("q", sorted(buf)))
            buf = []
    if buf:
        chunks.append(array("q", sorted(buf)))
    if all(a[-1] <= b[0] for a, b in pairwise(chunks)):
        merged: Iterable[int] = (n for c in chunks for n in c)
    else:
        merged = heapq.merge(*chunks)
    numbers = _dedupe(merged)
    return Registry(name, snapshot, numbers)


def from_file(name: str, snapshot: date, path: Path) -> Registry:
    with path.open("r", encoding="ascii", errors="replace") as fh:
        return from_lines(name, snapshot, fh)
