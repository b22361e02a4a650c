"""outdial/memo.py: answers kept ttl seconds, then served stale while one refresh runs."""

from __future__ import annotations

import threading

from outdial.memo import Memo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_first_read_waits_then_kept_for_ttl() -> None:
    clock, reads = Clock(), []

    def read() -> int:
        reads.append(1)
        return len(reads)

    memo = Memo(ttl=2.0, clock=clock)
    assert memo.get("k", read) == 1
    clock.now = 1.9
    assert memo.get("k", read) == 1 and len(reads) == 1
    assert memo.get("other", read) == 2  # keys are apart
    memo.close()


def test_stale_answer_served_while_one_refresh_runs() -> None:
    clock, gate, reads = Clock(), threading.Event(), []
    memo = Memo(ttl=2.0, clock=clock)
    assert memo.get("k", lambda: "old") == "old"

    def slow() -> str:
        reads.append(1)
        gate.wait(5)
        return "new"

    clock.now = 2.5
    assert memo.get("k", slow) == "old"  # at once: the refresh runs in the background
    assert memo.get("k", slow) == "old"  # a refresh already runs: no second one
    gate.set()
    memo.settle()
    assert reads == [1] and memo.get("k", lambda: "unused") == "new"
    memo.close()


def test_failed_refresh_keeps_the_old_answer_and_forget_reads_again() -> None:
    clock = Clock()
    memo = Memo(ttl=1.0, clock=clock)
    memo.get("k", lambda: 1)
    clock.now = 1.5  # stale, not yet 2 ttl

    def broken() -> int:
        raise RuntimeError("database away")

    assert memo.get("k", broken) == 1
    memo.settle()
    assert memo.get("k", lambda: 2) == 1  # still the old one; this read refreshes again
    memo.settle()
    assert memo.get("k", lambda: 3) == 2
    memo.forget("k")
    assert memo.get("k", lambda: 4) == 4
    memo.close()


def test_an_answer_nobody_read_for_two_ttl_is_read_again_at_once() -> None:
    clock = Clock()
    memo = Memo(ttl=3.0, clock=clock)
    memo.get("k", lambda: "old")
    clock.now = 6.5  # nobody looked for over 2 ttl: the reader waits for a fresh answer
    assert memo.get("k", lambda: "new") == "new"
    memo.close()


def test_two_first_readers_read_once_and_ready_says_when() -> None:
    clock, gate, reads = Clock(), threading.Event(), []
    memo = Memo(ttl=2.0, clock=clock)

    def slow() -> str:
        reads.append(1)
        gate.wait(5)
        return "counted"

    assert not memo.ready("k")
    first = threading.Thread(target=lambda: answers.append(memo.get("k", slow)))
    second = threading.Thread(target=lambda: answers.append(memo.get("k", slow)))
    answers: list[str] = []
    first.start()
    while not reads:  # the first reader is reading
        threading.Event().wait(0.01)
    second.start()
    assert not memo.ready("k")
    gate.set()
    first.join(5)
    second.join(5)
    assert reads == [1] and answers == ["counted", "counted"]
    assert memo.ready("k")
    clock.now = 4.0  # 2 ttl without a reader: the next one would wait, so not ready
    assert not memo.ready("k")
    memo.close()


def test_a_failed_first_read_is_not_kept() -> None:
    memo = Memo(ttl=2.0, clock=Clock())

    def broken() -> str:
        raise RuntimeError("database gone")

    try:
        memo.get("k", broken)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the error reached no reader")
    assert not memo.ready("k") and memo.get("k", lambda: "back") == "back"
    memo.close()
