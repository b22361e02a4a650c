"""A campaign's dialing status as the database tells it ("why is it (not) dialing?").

Read by ``outdial campaign status`` (any process) and by the runtime, which adds what only
the running engine knows. The pacer's decisions are persisted by the runtime as
``state_changes`` rows with ``machine = "pacer"`` (see :func:`persist_decision`): ``source``
holds the mode, ``target`` the number of calls placed, ``reason`` the inputs as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.models import Campaign
from dialer import hopper, recovery, why
from dialer.models import AgentSession, Attempt, StateChange
from dialer.pacing import Decision
from lists.models import Contact
from outdial.errors import NotFound, OutdialError
from outdial.memo import Memo
from outdial.models import as_utc, utcnow
from outdial.storage import session_scope

T = TypeVar("T")
PACER = "pacer"
DECISIONS_SHOWN = 5


def decision_json(d: Decision) -> dict[str, Any]:
    """A pacer decision with its inputs (shared/domain.md names), for the API and CLI."""
    return {
        "mode": d.mode,
        "calls": d.calls,
        "reason": d.reason,
        "ready_agents": d.ready,
        "busy_agents": d.busy,
        "ringing": d.ringing,
        "waiting_for_agent": d.waiting,
        "hit_rate": round(d.hit_rate, 4),
        "machine_share": round(d.machine_share, 4),
        "expected_live_answers": round(d.expected_live, 3),
        "expected_free_agents": round(d.expected_free, 3),
        "abandon_gauge": round(d.abandon_gauge, 4),
        "threshold": round(d.threshold, 4),
        "explain": d.explain(),
    }


def persist_decision(engine: Engine, campaign_id: int, d: Decision, at: datetime) -> None:
    """Keep a pacer decision so another process (the CLI) can show it."""
    inputs = {k: v for k, v in decision_json(d).items() if k not in ("mode", "calls", "explain")}
    inputs["reason"] = str(inputs["reason"])[:100]
    with session_scope(engine) as s:
        s.add(
            StateChange(
                at=at,
                campaign_id=campaign_id,
                machine=PACER,
                entity=f"campaign:{campaign_id}",
                source=d.mode[:24],
                event="decide",
                target=str(d.calls),
                reason=json.dumps(inputs, separators=(",", ":"))[:255],
            )
        )


def _decisions(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(StateChange)
                .where(StateChange.campaign_id == campaign_id, StateChange.machine == PACER)
                .order_by(col(StateChange.id).desc())
                .limit(DECISIONS_SHOWN)
            )
        )
    out = []
    for r in rows:
        try:
            inputs = json.loads(r.reason)
        except ValueError:  # truncated: show what we have
            inputs = {"raw": r.reason}
        out.append(
            {"at": as_utc(r.at).isoformat(), "mode": r.source, "calls": int(r.target), **inputs}
        )
    return out


def _counts(engine: Engine, query: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {str(k): int(v) for k, v in conn.execute(query)}


def _attempt_counts(engine: Engine, campaign_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    """Attempts by state of real calls, of simulated ones (the simulated carrier's, issue
    17: counted apart), and those not final (calls in flight, both), in one grouped read."""
    q = (
        sa.select(
            col(Attempt.simulated),
            col(Attempt.state),
            sa.func.count(),
            sa.func.count().filter(col(Attempt.final).is_(False)),
        )
        .where(col(Attempt.campaign_id) == campaign_id)
        .group_by(col(Attempt.simulated), col(Attempt.state))
    )
    with engine.connect() as conn:
        rows = [(bool(sim), str(st), int(n), int(live)) for sim, st, n, live in conn.execute(q)]
    real = {state: n for sim, state, n, _ in rows if not sim}
    simulated = {state: n for sim, state, n, _ in rows if sim}
    return real, simulated, sum(live for *_, live in rows)


def db_status(
    engine: Engine, campaign_id: int, now: datetime | None = None, memo: Memo | None = None
) -> dict[str, Any]:
    """Attempts, agents, records and the abandon gauge of one campaign, from storage alone,
    and ``idle``: why it is not dialing when its schedule or its records say so.

    With ``memo`` (the live view), the three counts that read every attempt or contact of the
    campaign may be ``memo.ttl`` seconds old (outdial/memo.py); without it all are read now."""
    with session_scope(engine) as s:
        camp = s.get(Campaign, campaign_id)
    if camp is None:
        raise NotFound(f"no campaign {campaign_id}", campaign_id=campaign_id)

    def kept(what: str, read: Callable[[], T]) -> T:
        return read() if memo is None else memo.get((what, campaign_id), read)

    attempts, simulated, in_flight = kept("attempts", lambda: _attempt_counts(engine, campaign_id))
    agents = _counts(
        engine,
        sa.select(col(AgentSession.state), sa.func.count())
        .where(col(AgentSession.campaign_id) == campaign_id)
        .group_by(col(AgentSession.state)),
    )
    now = now or utcnow()
    at = now
    records = kept("records", lambda: record_counts(engine, campaign_id, at))
    out = {
        "campaign_id": campaign_id,
        "name": camp.name,
        "mode": camp.mode,
        "status": camp.status,
        "attempts_by_state": attempts,
        "calls_in_flight": in_flight,
        "agents_by_state": agents,
        "records_by_status": records.by_status,
        # 0: nothing can be dialed any more, now or later (the campaign is complete)
        "records_remaining": records.remaining,
        "abandon": dict(kept("abandon", lambda: abandon_gauge(engine, campaign_id))),
        # the simulated carrier's calls: never in the figures above (issue 17)
        "simulated": (
            {
                "attempts_by_state": simulated,
                "abandon": abandon_gauge(engine, campaign_id, simulated=True),
            }
            if simulated
            else None
        ),
        "decisions": _decisions(engine, campaign_id),
        "idle": why_json(engine, camp, now, records),
    }
    return _true_now(engine, out, now)


LIVE_STATUSES = ("running", "paused", "scheduled")


def _true_now(engine: Engine, out: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A campaign said to run whose engine has no fresh heartbeat is not running: its server
    stopped or died. Say so, and do not count calls or agents from before (issue 16 item 5);
    ``resume`` tells what happens next."""
    run = recovery.run_of(engine, out["campaign_id"])
    out["resume"] = None
    if run is not None and (run.desired != "stopped" or run.refusal):
        out["resume"] = {
            "desired": run.desired,
            "last_heartbeat": as_utc(run.heartbeat_at).isoformat() if run.heartbeat_at else None,
            "refused": run.refusal or None,
            "refused_at": as_utc(run.refused_at).isoformat() if run.refused_at else None,
        }
    stale = out["status"] in LIVE_STATUSES and not recovery.alive(run, now)
    if not stale and out["status"] != "interrupted":
        return out
    out["status"] = "interrupted"
    out["unresolved_calls"] = out["calls_in_flight"]  # closed when the campaign runs again
    out["calls_in_flight"] = 0
    out["agents_to_resume"] = sum(out["agents_by_state"].values())
    out["agents_by_state"] = {}
    desired = run.desired if run is not None else "running"
    out["interrupted"] = (
        f"not running: the server that ran it stopped; it resumes ({desired}) when "
        "`outdial serve` starts"
        if not (run and run.refusal)
        else f"not running: resuming it after a restart was refused: {run.refusal}"
    )
    return out


def next_due(engine: Engine, campaign_id: int, now: datetime) -> why.NextDue | None:
    """The earliest record that becomes due after ``now`` (a callback, a retry, or a new
    record compliance deferred)."""
    with session_scope(engine) as s:
        c = s.exec(
            select(Contact)
            .where(
                Contact.campaign_id == campaign_id,
                col(Contact.status).in_(hopper.DIALABLE),
                col(Contact.suppressed).is_(False),
                col(Contact.next_due_at) > now,
            )
            .order_by(col(Contact.next_due_at), col(Contact.id))
            .limit(1)
        ).first()
    if c is None or c.next_due_at is None:
        return None
    if c.callback_at is not None:
        kind = "callback"
    elif c.attempts:
        kind = f"retry after {c.last_outcome}" if c.last_outcome else "retry"
    else:
        kind = f"new, held: {c.last_outcome}" if c.last_outcome else "new"
    return why.NextDue(as_utc(c.next_due_at), kind)


def idle_of(
    engine: Engine, camp: Campaign, now: datetime, records: RecordCounts | None = None
) -> why.Idle | None:
    """Why ``camp`` is not dialing at ``now`` (outside its schedule, nothing due), or None."""
    from campaigns import store

    assert camp.id is not None
    records = records or record_counts(engine, camp.id, now)
    return why.idle_reason(
        store.spec_of(engine, camp),
        now,
        due_now=records.due_now,
        remaining=records.remaining,
        next_due=next_due(engine, camp.id, now),
    )


def why_json(
    engine: Engine, camp: Campaign, now: datetime, records: RecordCounts | None = None
) -> dict[str, Any] | None:
    try:
        return why.idle_json(idle_of(engine, camp, now, records))
    except OutdialError as exc:  # e.g. a stored definition this version cannot read
        return {"code": "definition_invalid", "message": exc.message, "until": None}


# --- record counts: one scan of ix_contacts_hopper (issue 13: the live view's speed) ------


@dataclass(frozen=True)
class RecordCounts:
    """A campaign's records by status, and the two counts "why is it not dialing" needs:
    ``remaining`` (as hopper.remaining) and ``due_now`` (as hopper.dialable_count)."""

    by_status: dict[str, int]
    remaining: int
    due_now: int


def record_counts(engine: Engine, campaign_id: int, now: datetime) -> RecordCounts:
    """All three counts from one grouped read of the hopper index (campaign, status,
    suppressed, next_due_at): no contact row is read, where three counts read them all."""
    due = sa.or_(col(Contact.next_due_at).is_(None), col(Contact.next_due_at) <= now)
    q = (
        sa.select(
            col(Contact.status),
            col(Contact.suppressed),
            sa.func.count(),
            sa.func.count().filter(due),
        )
        .where(col(Contact.campaign_id) == campaign_id)
        .group_by(col(Contact.status), col(Contact.suppressed))
    )
    by_status: dict[str, int] = {}
    remaining = due_now = 0
    with engine.connect() as conn:
        for status, suppressed, n, n_due in conn.execute(q):
            by_status[str(status)] = by_status.get(str(status), 0) + int(n)
            if suppressed:
                continue
            if status in hopper.DIALABLE:
                due_now += int(n_due)
            if status in (*hopper.DIALABLE, "dialing", "wrap"):
                remaining += int(n)
    return RecordCounts(by_status, remaining, due_now)


def abandon_gauge(engine: Engine, campaign_id: int, simulated: bool = False) -> dict[str, Any]:
    """Rule 2 / shared/domain.md: abandoned calls over live answers since the campaign began;
    answering machines count in neither. Real calls only, or (``simulated``) only the
    simulated carrier's: the legal gauge never mixes them (issue 17)."""
    machine = col(Attempt.amd) == "machine"
    q = sa.select(
        sa.func.count().filter(sa.and_(col(Attempt.answered_at).is_not(None), sa.not_(machine))),
        sa.func.count().filter(col(Attempt.abandoned).is_(True)),
    ).where(col(Attempt.campaign_id) == campaign_id, col(Attempt.simulated).is_(simulated))
    with engine.connect() as conn:
        live, abandoned = conn.execute(q).one()
    live, abandoned = int(live), int(abandoned)
    return {
        "live_answers": live,
        "abandoned": abandoned,
        "rate": round(abandoned / live, 4) if live else 0.0,
    }


def set_campaign_status(engine: Engine, campaign_id: int, status: str) -> None:
    with session_scope(engine) as s:
        s.execute(sa.update(Campaign).where(col(Campaign.id) == campaign_id).values(status=status))
