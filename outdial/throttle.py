"""Login throttling per account and per address (issue 18, finding 6).

After ``FREE`` failures a key (an account, an address, or the pair) is locked for a time that
doubles with each further failure, from ``BASE_S`` up to ``MAX_LOCK_S`` (15 minutes): a
temporary lock, never a permanent one. Attempts while locked are refused without checking
the password and without counting, so a lock always runs out. A failure-free hour forgets a
key. An address that has logged in to an account before is not held by that account's lock
(only by its own), so an attacker elsewhere cannot lock a user out of their usual desk.

State is per process and in memory (bounded to ``MAX_KEYS`` keys); the clock is injected.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from outdial.errors import LoginThrottled

log = structlog.get_logger(__name__)
FREE = 3
BASE_S = 1.0
MAX_LOCK_S = 900.0
FORGET_S = 3600.0
MAX_KEYS = 100_000
MAX_KNOWN = 8  # remembered good addresses per account


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], _Record] = {}
        self._known: dict[str, list[str]] = {}

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        keys = [("addr", address), ("pair", f"{account}\n{address}")]
        if address not in self._known.get(account, ()):
            keys.append(("acct", account))
        return keys

    def check(self, account: str, address: str) -> None:
        """Raise :class:`LoginThrottled` (with ``retry_after`` seconds) while a key is locked."""
        account, now = account.lower(), self.clock()
        with self._lock:
            wait = 0.0
            for key in self._keys(account, address):
                rec = self._records.get(key)
                if rec is not None and rec.locked_until > now:
                    wait = max(wait, rec.locked_until - now)
        if wait > 0:
            log.warning("login throttled", account=account, address=address, wait_s=round(wait))
            raise LoginThrottled(
                f"too many failed logins; try again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )

    def failed(self, account: str, address: str) -> None:
        account, now = account.lower(), self.clock()
        with self._lock:
            self._prune(now)
            for key in self._keys(account, address):
                rec = self._records.setdefault(key, _Record())
                if now - rec.last > FORGET_S:
                    rec.failures = 0
                rec.failures += 1
                rec.last = now
                if rec.failures > FREE:
                    lock = min(BASE_S * 2 ** (rec.failures - FREE - 1), MAX_LOCK_S)
                    rec.locked_until = now + lock
        log.warning("login failed", account=account, address=address)

    def succeeded(self, account: str, address: str) -> None:
        account = account.lower()
        with self._lock:
            for key in (("pair", f"{account}\n{address}"), ("acct", account)):
                self._records.pop(key, None)
            known = self._known.setdefault(account, [])
            if address not in known:
                known.append(address)
                del known[:-MAX_KNOWN]

    def _prune(self, now: float) -> None:
        if len(self._records) < MAX_KEYS:
            return
        for key in [k for k, r in self._records.items() if now - r.last > FORGET_S]:
            del self._records[key]
        while len(self._records) >= MAX_KEYS:  # still full: drop the oldest
            del self._records[min(self._records, key=lambda k: self._records[k].last)]
        if len(self._known) > MAX_KEYS:
            self._known.clear()
