"""Attempt caps over rolling windows and cool-downs after an outcome (rules 13-16, 21, 29, 34).

Pure: the attempt history and the instant come in; nothing is counted here. Caps count
dial attempts, not connects (rule 34). A dial must take one slot per ``Slot`` returned by
``slots_for``; the storage adapter does that atomically (check-and-increment before
originate) so two processes cannot both take the last slot. ``check_slots`` answers the
same question over a history in memory and reports when a slot frees.

Window semantics: an attempt at ``t`` counts for ``now`` while ``now - window < t``; it has
expired exactly ``window`` seconds later. Attempts stamped after ``now`` still count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from compliance.windows import zone


class Outcome(StrEnum):
    """What became of a dial attempt; every outcome counts towards caps."""

    DIALED = "dialed"  # placed, result not yet known
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"  # answering machine (incl. AMD false positives, rule 21)
    LIVE = "live"  # live person bridged to an agent
    ABANDONED = "abandoned"  # live person, no agent within 2 s (rule 3)
    CONVERSATION = "conversation"  # a conversation about the subject (rule 13)


class KeyKind(StrEnum):
    NUMBER = "number"
    NUMBER_SELLER = "number+seller"
    NUMBER_SELLER_SUBJECT = "number+seller+subject"


@dataclass(frozen=True)
class CapRule:
    """At most ``limit`` attempts per ``key`` in any rolling ``window_s`` seconds.

    ``campaign_kinds`` limits the rule to some campaign kinds (empty = every kind).
    """

    rule: str
    key: KeyKind
    window_s: int
    limit: int
    campaign_kinds: frozenset[str] = frozenset()

    def applies(self, campaign_kind: str) -> bool:
        return not self.campaign_kinds or campaign_kind in self.campaign_kinds


@dataclass(frozen=True)
class CooldownRule:
    """After an attempt with outcome ``after``, no dial until ``hours`` later, or until the
    start of local day ``date + local_days`` in every candidate zone (rule 13: the
    conversation day is day 1, so 7 days means the 8th day is the first allowed).
    ``exempt_if_agent_guaranteed`` waives it for preview or agent-reserved dials (rule 21).
    """

    rule: str
    after: Outcome
    key: KeyKind = KeyKind.NUMBER
    hours: int | None = None
    local_days: int | None = None
    exempt_if_agent_guaranteed: bool = False
    campaign_kinds: frozenset[str] = frozenset()

    def applies(self, campaign_kind: str) -> bool:
        return not self.campaign_kinds or campaign_kind in self.campaign_kinds


@dataclass(frozen=True)
class Attempt:
    """One past dial attempt, as the adapter reads it from storage."""

    at: datetime
    number: str
    seller: str
    subject: str | None
    outcome: Outcome = Outcome.DIALED
    campaign_id: str | None = None


@dataclass(frozen=True)
class Slot:
    """What a dial must take atomically: one unit of ``key`` in a rolling ``window_s``."""

    rule: str
    key: str
    kind: KeyKind
    window_s: int
    limit: int


@dataclass(frozen=True)
class CapBlock:
    rule: str
    detail: str
    free_at: datetime | None


def effective_kind(kind: KeyKind, subject: str | None) -> KeyKind:
    """A subject-keyed rule with no subject counts every subject (the stricter reading)."""
    if kind is KeyKind.NUMBER_SELLER_SUBJECT and subject is None:
        return KeyKind.NUMBER_SELLER
    return kind


def slot_key(kind: KeyKind, number: str, seller: str, subject: str | None) -> str:
    """The counter key the adapter stores; stable text so nodes agree on it."""
    if kind is KeyKind.NUMBER:
        return f"n:{number}"
    if kind is KeyKind.NUMBER_SELLER:
        return f"ns:{number}|{seller}"
    return f"nss:{number}|{seller}|{subject}"


def _matches(kind: KeyKind, a: Attempt, number: str, seller: str, subject: str | None) -> bool:
    if a.number != number:
        return False
    if kind is KeyKind.NUMBER:
        return True
    if a.seller != seller:
        return False
    return kind is KeyKind.NUMBER_SELLER or a.subject == subject


def slots_for(
    rules: Iterable[CapRule], number: str, seller: str, subject: str | None, campaign_kind: str
) -> tuple[Slot, ...]:
    """Every (key, window, limit) this dial must take; equal key and window keep the lowest."""
    best: dict[tuple[str, int], Slot] = {}
    for r in rules:
        if not r.applies(campaign_kind):
            continue
        kind = effective_kind(r.key, subject)
        key = slot_key(kind, number, seller, subject)
        old = best.get((key, r.window_s))
        if old is None or r.limit < old.limit:
            best[(key, r.window_s)] = Slot(r.rule, key, kind, r.window_s, r.limit)
    return tuple(best.values())


def check_slots(
    slots: Sequence[Slot],
    attempts: Sequence[Attempt],
    number: str,
    seller: str,
    subject: str | None,
    now: datetime,
) -> list[CapBlock]:
    """Full slots, each with the instant it frees if no further attempt is made."""
    out: list[CapBlock] = []
    now_ts = now.timestamp()
    for s in slots:
        horizon = now_ts - s.window_s
        stamps = sorted(
            t
            for a in attempts
            if (t := a.at.timestamp()) > horizon and _matches(s.kind, a, number, seller, subject)
        )
        if len(stamps) < s.limit:
            continue
        # the attempt whose expiry brings the count down to limit - 1
        free = stamps[len(stamps) - s.limit] + s.window_s
        out.append(
            CapBlock(
                s.rule,
                f"{len(stamps)}/{s.limit} attempts on {s.key} in {s.window_s // 3600} h",
                datetime.fromtimestamp(free, now.tzinfo),
            )
        )
    return out


def _local_day_end(at: datetime, days: int, zones: Sequence[str]) -> datetime | None:
    """Latest start of local date ``date(at) + days`` across zones (None if a zone is unknown)."""
    ends: list[datetime] = []
    for key in zones:
        tz = zone(key)
        if tz is None:
            return None
        day = at.astimezone(tz).date() + timedelta(days=days)
        ends.append(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC))
    return max(ends) if ends else None


def check_cooldowns(
    rules: Iterable[CooldownRule],
    attempts: Sequence[Attempt],
    *,
    number: str,
    seller: str,
    subject: str | None,
    campaign_kind: str,
    agent_guaranteed: bool,
    zones: Sequence[str],
    now: datetime,
) -> list[CapBlock]:
    """Cool-downs still running at ``now`` (rule 21 72 h / same day, rule 13 seven days)."""
    out: list[CapBlock] = []
    for r in rules:
        if not r.applies(campaign_kind) or (r.exempt_if_agent_guaranteed and agent_guaranteed):
            continue
        kind = effective_kind(r.key, subject)
        latest: datetime | None = None
        for a in attempts:
            if a.outcome is not r.after or not _matches(kind, a, number, seller, subject):
                continue
            if r.hours is not None:
                until: datetime | None = a.at + timedelta(hours=r.hours)
            else:
                until = _local_day_end(a.at, r.local_days or 1, zones)
                if until is None:  # unknown zone: cannot tell when the day ends, so block
                    out.append(CapBlock(r.rule, f"after {r.after} with unknown zone", None))
                    break
            if until is not None and until > now and (latest is None or until > latest):
                latest = until
        if latest is not None:
            out.append(CapBlock(r.rule, f"cool-down after {r.after} until {latest}", latest))
    return out
