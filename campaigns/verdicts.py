"""Order verdicts and the webhook retry schedule, pure.

Nothing here reads the clock, sleeps or touches storage: instants come in as aware datetimes
(issue 7). campaigns/orders.py persists verdicts and their outbox rows; campaigns/webhooks.py
sends them, retrying per :func:`webhook_retry_at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.errors import VerdictInvalid

# --- order verification ---------------------------------------------------------------------


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"


CHANGEABLE = ("lines", "address", "payment", "delivery_time", "customer_name", "phone")


@dataclass(frozen=True)
class VerdictRecord:
    verdict: Verdict
    changes: Mapping[str, object] = field(default_factory=dict)
    reason: str = ""

    def details(self) -> dict[str, object]:
        return {"changes": dict(self.changes), "reason": self.reason}


def parse_verdict(data: Mapping[str, object]) -> VerdictRecord:
    """confirmed / changed(changes: field -> new value) / cancelled(reason) / unreachable."""
    try:
        verdict = Verdict(str(data.get("verdict", "")))
    except ValueError as exc:
        raise VerdictInvalid(
            f"verdict must be one of {', '.join(Verdict)}", field="verdict"
        ) from exc
    changes = data.get("changes") or {}
    reason = str(data.get("reason", "") or "").strip()
    if not isinstance(changes, Mapping):
        raise VerdictInvalid("changes must map field names to new values", field="changes")
    if verdict is Verdict.CHANGED:
        if not changes:
            raise VerdictInvalid("a changed verdict names the fields that changed", field="changes")
        bad = sorted(set(map(str, changes)) - set(CHANGEABLE))
        if bad:
            raise VerdictInvalid(
                f"cannot change {bad}; changeable: {', '.join(CHANGEABLE)}", field="changes"
            )
    elif changes:
        raise VerdictInvalid("only a changed verdict carries changes", field="changes")
    if verdict is Verdict.CANCELLED and not reason:
        raise VerdictInvalid("a cancelled verdict needs a reason", field="reason")
    return VerdictRecord(verdict, {str(k): v for k, v in changes.items()}, reason)


def overdue(ship_by: datetime, verdict: str | None, now: datetime) -> bool:
    """Deadline passed without a verdict: the order becomes unreachable (issue 7)."""
    return verdict is None and now >= ship_by


# --- webhooks -------------------------------------------------------------------------------

WEBHOOK_BASE_SECONDS = 30
WEBHOOK_CAP_SECONDS = 3600
WEBHOOK_GIVE_UP = timedelta(hours=24)


def webhook_retry_at(
    attempts: int, first_at: datetime, now: datetime, jitter: float
) -> datetime | None:
    """After ``attempts`` failed tries: the next try, or None (dead letter) past 24 h.

    Exponential backoff 30 s, 60 s, ... capped at 1 h, with "equal jitter": half the delay is
    fixed and half scales with ``jitter`` in [0, 1), so receivers are not hit in lockstep.
    """
    base = min(WEBHOOK_BASE_SECONDS * 2 ** max(attempts - 1, 0), WEBHOOK_CAP_SECONDS)
    j = min(max(jitter, 0.0), 1.0)
    nxt = now + timedelta(seconds=base / 2 + j * base / 2)
    if nxt > first_at + WEBHOOK_GIVE_UP:
        return None
    return nxt
