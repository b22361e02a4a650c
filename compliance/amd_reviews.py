"""Rule 19 in storage: the sampled machine verdicts, people's marks on them, the estimate.

The dialer sends a share of machine verdicts to an agent anyway and records them as
``machine_sampled`` (dialer/core.py ``amd_label``). A person who heard the call - the
agent, or a supervisor listening to the recording - marks each one ``person`` or
``machine`` here (``outdial amd mark``, ``POST /api/amd/reviews``). The campaign's
false-positive estimate (compliance/amd_sampling.py) comes from those marks, and the UK
abandon gauge adds it (compliance/gate.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance.amd_sampling import LAB_RATE, MACHINE, PERSON, SAMPLED_MACHINE, FpEstimate
from compliance.models import AmdReview
from outdial.errors import Forbidden, InvalidInput, NotFound
from outdial.models import as_utc, utcnow
from outdial.storage import session_scope

TRUTHS = (PERSON, MACHINE)


@dataclass(frozen=True, slots=True)
class Sample:
    """A sampled machine verdict waiting for (or holding) a person's mark."""

    call_id: str
    campaign_id: int
    answered_at: datetime | None
    state: str
    truth: str  # "" until marked


def samples(
    db: Engine, campaign_id: int, pending_only: bool = True, limit: int = 100
) -> list[Sample]:
    """The campaign's sampled calls, newest first; by default only those not yet marked."""
    from dialer.models import Attempt

    with session_scope(db) as s:
        q = (
            select(Attempt.call_id, Attempt.answered_at, Attempt.state, AmdReview.truth)
            .join(AmdReview, col(AmdReview.call_id) == col(Attempt.call_id), isouter=True)
            .where(col(Attempt.campaign_id) == campaign_id, col(Attempt.amd) == SAMPLED_MACHINE)
            .order_by(col(Attempt.id).desc())
            .limit(limit)
        )
        if pending_only:
            q = q.where(col(AmdReview.id).is_(None))
        rows = s.exec(q).all()
    return [
        Sample(call_id, campaign_id, as_utc(at) if at else None, state, truth or "")
        for call_id, at, state, truth in rows
    ]


def mark(
    db: Engine,
    call_id: str,
    truth: str,
    by: str,
    at: datetime | None = None,
    agent_user_id: int | None = None,
) -> Sample:
    """Record what a sampled call really was; a second mark corrects the first.
    ``agent_user_id``: an agent marks only a call they took (managers pass None)."""
    from dialer.models import Attempt

    if truth not in TRUTHS:
        raise InvalidInput(f"truth must be one of {', '.join(TRUTHS)}", field="truth")
    with session_scope(db) as s:
        attempt = s.exec(select(Attempt).where(col(Attempt.call_id) == call_id)).first()
        if attempt is None:
            raise NotFound(f"no call {call_id!r}", call_id=call_id)
        if attempt.amd != SAMPLED_MACHINE:
            raise InvalidInput(
                f"call {call_id!r} is not a sampled machine verdict (its AMD result: "
                f"{attempt.amd or 'none'}); only sampled calls are marked",
                field="call_id",
            )
        if agent_user_id is not None and attempt.agent_user_id != agent_user_id:
            raise Forbidden(f"only the agent who took call {call_id!r} marks it", call_id=call_id)
        review = s.exec(select(AmdReview).where(col(AmdReview.call_id) == call_id)).first()
        if review is None:
            review = AmdReview(call_id=call_id, campaign_id=attempt.campaign_id, truth=truth)
        review.truth, review.reviewed_by = truth, by[:128]
        review.reviewed_at = at or utcnow()
        s.add(review)
        answered = as_utc(attempt.answered_at) if attempt.answered_at else None
        sample = Sample(call_id, attempt.campaign_id, answered, attempt.state, truth)
    return sample


def estimate(db: Engine, campaign_id: int) -> FpEstimate:
    """The campaign's marks so far."""
    with session_scope(db) as s:
        persons, machines = s.exec(
            select(
                sa.func.count().filter(col(AmdReview.truth) == PERSON),
                sa.func.count().filter(col(AmdReview.truth) == MACHINE),
            ).where(col(AmdReview.campaign_id) == campaign_id)
        ).one()
    return FpEstimate(int(persons), int(machines))


def summary(db: Engine, campaign_id: int) -> dict[str, object]:
    """The estimate as people read it: marks, rate, 95 % interval, what the gauge uses."""
    est = estimate(db, campaign_id)
    low, high = est.interval
    return {
        "campaign_id": campaign_id,
        "marked": est.marks,
        "persons": est.persons,
        "machines": est.machines,
        "pending": len(samples(db, campaign_id, limit=10_000)),
        "rate": round(est.rate, 4),
        "interval95": [round(low, 4), round(high, 4)],
        "lab_rate": LAB_RATE,
        "gauge_rate": round(est.gauge_rate(LAB_RATE), 4),
    }
