"""Campaigns survive a restart (issue 16 item 5): desired state, heartbeat, crash recovery.

* A campaign's **desired state** (``campaign_runs.desired``) is written when a manager starts,
  pauses or stops it, never when the server shuts down; ``outdial serve`` resumes at start-up
  every campaign whose desired state is running or paused (dialer/runtime.py).
* The engine running a campaign writes a **heartbeat** every few seconds. A status read from
  any process trusts ``running``, calls in flight and agents' states only while the heartbeat
  is fresh; otherwise it says the campaign is interrupted (dialer/status.py).
* **Crash recovery** closes what a dead engine left open, dated by the best evidence of when
  it ended (the call's last recorded event, or the engine's last heartbeat while the call was
  still up), never by the time of the restart. A call bridged to an agent is recorded as
  connected-then-dropped, owned by that agent and waiting for their disposition; a live answer
  no agent took is abandoned (rule 3); an unanswered one failed and is retried by the failure
  rule from its end. Every audited decision gets its outcome (rule 36).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.rules import RetryPolicy
from dialer import hopper
from dialer.actions import Lead
from dialer.models import Attempt, CampaignRun, StateChange
from dialer.pacing import PastCall
from lists.models import Contact
from outdial.models import as_utc
from outdial.storage import session_scope

HEARTBEAT = 5.0  # seconds between an engine's heartbeats
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT)  # no heartbeat for this long: the engine is gone
DESIRED = ("running", "paused", "stopped")
#: call states in which the customer was talking to an agent or to the IVR
CONNECTED = ("bridged", "ivr")
#: a live person answered and was waiting for an agent (rule 3: abandoned if none came)
WAITING = ("answered", "waiting_for_agent", "bridging")


# --- desired state and heartbeat ----------------------------------------------------------------
def desire(engine: Engine, campaign_id: int, desired: str, node: str, at: datetime) -> None:
    """Record what a manager wants of a campaign (running, paused or stopped)."""
    assert desired in DESIRED, desired
    with session_scope(engine) as s:
        row = s.get(CampaignRun, campaign_id) or CampaignRun(campaign_id=campaign_id)
        row.desired, row.node, row.updated_at = desired, node[:64], at
        row.refusal, row.refused_at = "", None  # a new wish: an old refusal is moot
        s.add(row)


def started(engine: Engine, campaign_id: int, node: str, at: datetime) -> None:
    """An engine runs the campaign here from ``at`` (its first heartbeat)."""
    with session_scope(engine) as s:
        row = s.get(CampaignRun, campaign_id) or CampaignRun(campaign_id=campaign_id)
        row.node, row.started_at, row.heartbeat_at, row.updated_at = node[:64], at, at, at
        row.pid = os.getpid()
        row.refusal, row.refused_at = "", None
        s.add(row)


def beat(engine: Engine, campaign_ids: list[int], at: datetime) -> None:
    if not campaign_ids:
        return
    with session_scope(engine) as s:
        s.execute(
            sa.update(CampaignRun)
            .where(col(CampaignRun.campaign_id).in_(campaign_ids))
            .values(heartbeat_at=at)
        )


def stopped(engine: Engine, campaign_id: int) -> None:
    """The engine stopped cleanly: no heartbeat is expected any more."""
    with session_scope(engine) as s:
        s.execute(
            sa.update(CampaignRun)
            .where(col(CampaignRun.campaign_id) == campaign_id)
            .values(heartbeat_at=None)
        )


def refuse(engine: Engine, campaign_id: int, message: str, at: datetime) -> None:
    """An automatic resumption was refused (launch checks): keep why, for the status."""
    with session_scope(engine) as s:
        row = s.get(CampaignRun, campaign_id) or CampaignRun(campaign_id=campaign_id)
        row.refusal, row.refused_at, row.updated_at = message, at, at
        s.add(row)


def run_of(engine: Engine, campaign_id: int) -> CampaignRun | None:
    with session_scope(engine) as s:
        return s.get(CampaignRun, campaign_id)


def to_resume(engine: Engine, node: str) -> list[CampaignRun]:
    """Campaigns this node should run again: desired running or paused, last run here (or
    on no recorded node)."""
    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(CampaignRun)
                .where(
                    col(CampaignRun.desired).in_(("running", "paused")),
                    col(CampaignRun.node).in_((node, "")),
                )
                .order_by(col(CampaignRun.campaign_id))
            )
        )
    # another live server process of this host runs it: not ours to take over
    mine = os.getpid()
    return [r for r in rows if r.pid in (0, mine) or not _process_exists(r.pid)]


def alive(run: CampaignRun | None, now: datetime) -> bool:
    """Is an engine running this campaign now? A fresh heartbeat, and, read on the engine's
    own host, its server process still there (a killed server is known gone at once)."""
    if run is None or run.heartbeat_at is None or now - as_utc(run.heartbeat_at) > STALE_AFTER:
        return False
    return not (run.node == local_node() and run.pid and not _process_exists(run.pid))


def local_node() -> str:
    """The default node name of an engine on this host (dialer/runtime.py)."""
    return socket.gethostname()[:64]


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


# --- crash recovery -------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovered:
    """One call closed at start-up: what was recorded, for its audit outcome."""

    finished: hopper.Finished
    lead: Lead
    ended_at: datetime


def _last_event(engine: Engine, att: Attempt, heartbeat: datetime | None) -> datetime:
    """When the call ended, by the best evidence: its last recorded transition; a connected
    call lasted at least until the engine's last heartbeat (a ringing or waiting one ends
    within seconds by itself: ring timeout, rule 3)."""
    with session_scope(engine) as s:
        last = s.exec(
            select(sa.func.max(StateChange.at)).where(
                StateChange.machine == "call", StateChange.entity == att.call_id
            )
        ).one()
    times = [as_utc(t) for t in (att.created_at, att.answered_at, att.bridged_at, last) if t]
    end = max(times)
    if att.state in CONNECTED and heartbeat is not None and as_utc(heartbeat) > end:
        end = as_utc(heartbeat)
    return end


def own(engine: Engine, call_id: str, user_id: int) -> None:
    """The call is bridged to this agent: durable at once, so that a crash during the
    conversation leaves the call to them (their disposition, not a 403)."""
    with session_scope(engine) as s:
        s.execute(
            sa.update(Attempt).where(col(Attempt.call_id) == call_id).values(agent_user_id=user_id)
        )


def _agent_of(engine: Engine, att: Attempt) -> int | None:
    """The agent the call was bridged to: on the attempt since the bridge, else from the agent
    machine's ``connect`` transition (its reason is the call id; the entity the user id)."""
    if att.agent_user_id is not None:
        return att.agent_user_id
    with session_scope(engine) as s:
        entity = s.exec(
            select(StateChange.entity).where(
                StateChange.machine == "agent",
                StateChange.event == "connect",
                StateChange.reason == att.call_id,
            )
        ).first()
    return int(entity) if entity and entity.isdigit() else None


def _finished(engine: Engine, att: Attempt) -> hopper.Finished:
    state = att.state
    if (state in CONNECTED and att.bridged_at is not None) or state == "bridged":
        agent = _agent_of(engine, att)
        return hopper.Finished(
            att.call_id,
            "completed",
            "dropped",
            0,
            "connected, then dropped: the server stopped during the conversation",
            False,
            agent,
            None
            if att.answered_at is None or att.bridged_at is None
            else (as_utc(att.bridged_at) - as_utc(att.answered_at)).total_seconds(),
            att.amd,
        )
    if state == "ivr":
        return hopper.Finished(
            att.call_id, "completed", "dropped", 0,
            "connected to the IVR, then dropped: the server stopped", False, None, None, att.amd,
        )  # fmt: skip
    if state in WAITING and att.answered_at is not None:
        # rule 3: a live answer that reached no agent is an abandoned call
        return hopper.Finished(
            att.call_id, "abandoned", "dropped", 0,
            "answered, no agent before the server stopped", True, None, None, att.amd,
        )  # fmt: skip
    return hopper.Finished(
        att.call_id, "failed", "engine_restart", 0,
        "not answered before the server stopped", False, None, None, att.amd,
    )  # fmt: skip


def _lead_of(engine: Engine, att: Attempt) -> Lead:
    with session_scope(engine) as s:
        c = s.get(Contact, att.contact_id)
    return Lead(contact_id=att.contact_id, number=att.number, attempt_no=att.attempt_no,
                zones=tuple(c.timezones or ()) if c else ())  # fmt: skip


def recover_calls(
    engine: Engine,
    campaign_id: int,
    policy: RetryPolicy,
    now: datetime,
    node: str | None = None,
) -> list[Recovered]:
    """Close the attempts a dead engine (this node's) left in flight; see the module doc."""
    run = run_of(engine, campaign_id)
    heartbeat = run.heartbeat_at if run is not None else None
    with session_scope(engine) as s:
        q = select(Attempt).where(Attempt.campaign_id == campaign_id, col(Attempt.final).is_(False))
        if node is not None:
            q = q.where(Attempt.node == node)
        open_attempts = list(s.exec(q))
    out: list[Recovered] = []
    for att in open_attempts:
        f = _finished(engine, att)
        ended = min(_last_event(engine, att, heartbeat), now)
        hopper.close_attempt(engine, f, policy, ended)
        out.append(Recovered(f, _lead_of(engine, att), ended))
    hopper.recover_in_flight(engine, campaign_id, policy, now, node)  # orphan claims
    return out


RELEARN_WINDOW = timedelta(hours=2)  # the pacer relearns from the attempts of this long
RELEARN_MAX = 500


def recent_calls(engine: Engine, campaign_id: int, now: datetime) -> list[PastCall]:
    """The campaign's attempts that ended in the last two hours (at most 500, oldest first),
    as the pacer learns from them; calls closed by a recovery taught nothing and are left out."""
    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(Attempt)
                .where(
                    Attempt.campaign_id == campaign_id,
                    col(Attempt.final).is_(True),
                    col(Attempt.ended_at) >= now - RELEARN_WINDOW,
                    col(Attempt.sip_outcome).not_in(("engine_restart", "not_placed")),
                )
                .order_by(col(Attempt.ended_at).desc())
                .limit(RELEARN_MAX)
            )
        )
    return [p for att in reversed(rows) if (p := _past(att)) is not None]


def _past(att: Attempt) -> PastCall | None:
    if att.ended_at is None:
        return None
    dialed, ended = as_utc(att.created_at), as_utc(att.ended_at)
    answered = as_utc(att.answered_at) if att.answered_at else None
    if att.amd == "machine" or att.state == "machine":
        outcome = "machine"
    elif answered is not None:
        outcome = "live"
    else:
        outcome = {"busy": "busy", "no_answer": "no_answer"}.get(att.state, "failed")
    since = ((answered or ended) - dialed).total_seconds()
    talk = None
    if att.bridged_at is not None and att.sip_outcome != "dropped":
        talk = max(0.0, (ended - as_utc(att.bridged_at)).total_seconds())
    waited = None
    if att.bridged_at is not None and att.answer_to_bridge_ms is not None:
        waited = att.answer_to_bridge_ms / 1000.0
    return PastCall(outcome, max(0.0, since), waited, att.abandoned, talk)


class OutcomeSink(Protocol):
    """The compliance gate's half that audits outcomes (dialer.engine.ComplianceGate)."""

    def record_outcome(self, finished: hopper.Finished, lead: Lead, at: datetime) -> None: ...


def close_after_crash(
    engine: Engine,
    gate: OutcomeSink,
    campaign_id: int,
    policy: RetryPolicy,
    now: datetime,
    node: str | None = None,
) -> list[Recovered]:
    """:func:`recover_calls`, then the audit: an outcome for every call closed, dated when it
    ended, and for every allowed decision that never became a call (rule 36). Blocking."""
    run = run_of(engine, campaign_id)
    recovered = recover_calls(engine, campaign_id, policy, now, node)
    for r in recovered:
        gate.record_outcome(r.finished, r.lead, r.ended_at)
    since = as_utc(run.started_at) if run is not None and run.started_at else None
    for call_id, number, at in decisions_without_outcome(
        engine, campaign_id, since or now - timedelta(days=1)
    ):
        why = "decided, not dialed: the server stopped"
        f = hopper.Finished(call_id, "cancelled", "not_placed", 0, why, False, None, None)
        gate.record_outcome(f, Lead(0, number, 0), at)
    return recovered


def decisions_without_outcome(
    engine: Engine, campaign_id: int, since: datetime
) -> list[tuple[str, str, datetime]]:
    """(call id, number, at) of allowed dial decisions since ``since`` with no outcome row
    (a crash between the decision and the attempt row, or an attempt withdrawn)."""
    from compliance.models import AuditEntry

    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(AuditEntry.kind, AuditEntry.body, AuditEntry.at).where(
                    col(AuditEntry.kind).in_(("decision", "outcome")), AuditEntry.at >= since
                )
            )
        )
    decided: dict[str, tuple[str, datetime]] = {}
    closed: set[str] = set()
    for kind, body, at in rows:
        try:
            data: dict[str, Any] = json.loads(body)
        except ValueError:
            continue
        call_id = str(data.get("call_id") or "")
        if kind == "outcome":
            closed.add(call_id)
        elif data.get("campaign_id") == campaign_id and data.get("allowed"):
            decided[call_id] = (str(data.get("number") or ""), as_utc(at))
    missing = [c for c in decided if c and c not in closed]
    if missing:  # a call with an attempt row is closed by its own engine, here or elsewhere
        with session_scope(engine) as s:
            placed = set(s.exec(select(Attempt.call_id).where(col(Attempt.call_id).in_(missing))))
        missing = [c for c in missing if c not in placed]
    return [(c, *decided[c]) for c in missing]


__all__ = [
    "HEARTBEAT",
    "STALE_AFTER",
    "Recovered",
    "alive",
    "beat",
    "close_after_crash",
    "decisions_without_outcome",
    "desire",
    "own",
    "recent_calls",
    "recover_calls",
    "refuse",
    "run_of",
    "started",
    "stopped",
    "to_resume",
]
