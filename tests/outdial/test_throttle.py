"""Issue 18 finding 6: login throttling per account and per address, growing, temporary."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from outdial.errors import LoginThrottled
from outdial.throttle import FREE, MAX_LOCK_S, LoginThrottle


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def locked_for(t: LoginThrottle, account: str, address: str) -> int:
    try:
        t.check(account, address)
    except LoginThrottled as exc:
        return int(exc.fields["retry_after"])  # type: ignore[call-overload]
    return 0


def test_delays_grow_and_cap_and_the_lock_runs_out() -> None:
    clock = Clock()
    t = LoginThrottle(clock)
    waits = []
    for _ in range(25):
        wait = locked_for(t, "admin", "10.0.0.9")
        clock.now += wait  # an attacker waiting out every lock, then guessing again
        t.failed("admin", "10.0.0.9")
        waits.append(locked_for(t, "admin", "10.0.0.9"))
    assert waits[:FREE] == [0] * FREE
    assert waits[FREE : FREE + 4] == [1, 2, 4, 8]  # growing
    assert max(waits) == MAX_LOCK_S  # capped: never permanent
    clock.now += MAX_LOCK_S
    assert locked_for(t, "admin", "10.0.0.9") == 0


def test_throttled_per_address_across_accounts_and_per_account_across_addresses() -> None:
    clock = Clock()
    t = LoginThrottle(clock)
    for n in range(FREE + 1):
        t.failed(f"user{n}", "10.0.0.9")  # spraying many accounts from one address
    assert locked_for(t, "someone-else", "10.0.0.9") > 0
    for n in range(FREE + 1):
        t.failed("boss", f"10.1.0.{n}")  # one account from many addresses
    assert locked_for(t, "boss", "10.2.0.1") > 0


def test_a_users_known_address_is_not_locked_out_by_an_attacker_elsewhere() -> None:
    clock = Clock()
    t = LoginThrottle(clock)
    t.succeeded("boss", "192.168.1.20")  # the user's desk
    for n in range(10):
        t.failed("boss", f"203.0.113.{n}")
    assert locked_for(t, "boss", "203.0.113.99") > 0
    assert locked_for(t, "boss", "192.168.1.20") == 0


def test_a_quiet_hour_forgets() -> None:
    clock = Clock()
    t = LoginThrottle(clock)
    for _ in range(FREE):
        t.failed("a", "1.2.3.4")
    clock.now += 3601
    t.failed("a", "1.2.3.4")
    assert locked_for(t, "a", "1.2.3.4") == 0


@pytest.mark.parametrize("account", ["Admin", "ADMIN"])
def test_account_names_are_case_folded(account: str) -> None:
    t = LoginThrottle(Clock())
    for n in range(FREE + 1):
        t.failed("admin", f"10.9.0.{n}")
    assert locked_for(t, account, "10.9.9.9") > 0
