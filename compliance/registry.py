"""A national DNC registry snapshot held in memory (rules 7, 24).

Structure: one sorted ``array('q')`` of E.164 numbers as int64 (``+12125551234`` ->
``12125551234``), searched with ``bisect``. Why: 8 bytes per number (10 M numbers = 80 MB,
against ~600 MB for a Python ``set`` of ints), no dependency (numpy is present only as a
pandas dependency and the core must not need it), O(log n) lookups
and a binary form that ``array.fromfile`` loads in a fraction of a second.

Loading text (one number per line, millions of lines) buckets numbers by their high bits
and sorts bucket by bucket, so the peak stays near twice the final array. Lookups first
pick the bucket from a small dict, then bisect within it (~10 probes instead of ~24).
``save``/``load`` keep the sorted binary for fast restarts. The snapshot date travels with
the registry: a stale snapshot blocks telemarketing (decision.py).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from compliance.errors import NumberFormatError

SHIFT = 20  # lookup/build block: 2**20 consecutive numbers
NANP = 10_000_000_000  # "+1" prepended to a 10-digit number


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

    @cached_property
    def _index(self) -> dict[int, tuple[int, int]]:
        """(start, end) of each occupied ``n >> SHIFT`` block: one bisect per block."""
        nums, out, i = self.numbers, {}, 0
        while i < len(nums):
            block = nums[i] >> SHIFT
            j = bisect_left(nums, (block + 1) << SHIFT, i)
            out[block] = (i, j)
            i = j
        return out

    def contains_int(self, n: int) -> bool:
        span = self._index.get(n >> SHIFT)
        if span is None:
            return False
        lo, hi = span
        i = bisect_left(self.numbers, n, lo, hi)
        return i < hi and self.numbers[i] == n

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
        if len(text) == 10 and text.isdigit() and text[0] != "0":
            yield NANP + int(text)  # the usual registry line: a 10-digit US number
        elif text and not text.startswith("#"):
            yield to_int(text)


def from_lines(name: str, snapshot: date, lines: Iterable[str]) -> Registry:
    """Build from text lines (one number per line, any order, duplicates allowed).

    Numbers go into blocks of ``2**SHIFT`` consecutive values; blocks are sorted one at a
    time and concatenated in key order, so no global sort or merge is needed and the peak
    stays near twice the final array (a block holds at most ``2**SHIFT`` distinct values).
    """
    blocks: dict[int, array] = {}  # type: ignore[type-arg]
    for n in _parse(lines):
        key = n >> SHIFT
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = array("q")
        block.append(n)
    numbers = array("q")
    for key in sorted(blocks):
        numbers.extend(sorted(set(blocks.pop(key))))
    return Registry(name, snapshot, numbers)


def from_file(name: str, snapshot: date, path: Path) -> Registry:
    with path.open("r", encoding="ascii", errors="replace") as fh:
        return from_lines(name, snapshot, fh)
