"""outdial/memory.py: heap handed back after heavy work, at most every MIN_INTERVAL_S."""

from __future__ import annotations

from outdial import memory


def test_release_is_rate_limited() -> None:
    start = 1e9
    assert memory.release(start) is True
    assert memory.release(start + 1) is False  # a stream of failing imports: no stall
    assert memory.release(start + memory.MIN_INTERVAL_S + 1) is True
