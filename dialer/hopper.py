"""Lead selection and attempt bookkeeping in the database (the engine's storage adapter).

Claims are atomic: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` lets several engines
share one campaign without ever dialing a record twice at once; on SQLite (one node) a named
lock serializes claimers. Order (issue 6): due callbacks first, then the earliest deadline
(an order's ship-by), then priority, then fewest attempts, then the oldest record.

Contact status, as the engine uses it: ``new`` (never tried), ``retry`` (due at
``next_due_at``), ``dialing`` (claimed by an attempt in flight), ``wrap`` (bridged, waiting for
the agent's disposition), ``done`` (final), ``suppressed`` (do-not-call, never dialed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.callback_times import TeamsOnline, team_callback_holder
from campaigns.rules import RetryPolicy, announcement_outcome, retry_decision
from dialer.actions import Lead
from dialer.models import Attempt, StateChange
from dialer.states import Transition
from lists.models import Contact
from outdial.models import as_utc
from outdial.storage import lock, session_scope

DIALABLE = ("new", "retry")
#: a claimer that knows no teams: every team callback is anyone's
NO_TEAMS = TeamsOnline()
IN_FLIGHT_STATES = (
    "claimed",
    "dialing",
    "ringing",
    "early_media",
    "answered",
    "waiting_for_agent",
    "bridging",
    "bridged",
    "machine",
    "ivr",
)

#: a call's final state -> the retry rule's outcome name (campaigns/rules.py)
RETRY_OUTCOME = {
    "busy": "busy",
    "no_answer": "no_answer",
    "failed": "failure",
    "cancelled": "failure",
    "abandoned": "no_answer",  # a person we failed: try again (rule 21 may hold it 72 h)
    "machine": "machine",
    "bad_number": "bad_number",
}


def _lead(c: Contact, team: str | None = None) -> Lead:
    assert c.id is not None
    return Lead(
        contact_id=c.id,
        number=c.primary_number,
        attempt_no=c.attempts + 1,
        zones=tuple(c.timezones or ()),
        owner=c.callback_owner_id,
        team=team,
        data={
            "name": c.name,
            "order_id": c.order_id,
            "address": c.address,
            "custom": dict(c.custom or {}),
            "alternates": list(c.alternates or []),
            "number_type": c.number_type,
            "list_id": c.list_id,
            "attempts": c.attempts,
        },
    )


def claim(
    engine: Engine,
    campaign_id: int,
    n: int,
    now: datetime,
    ready_owners: frozenset[int] = frozenset(),
    node: str = "",
    teams: TeamsOnline = NO_TEAMS,
) -> list[Lead]:
    """Take up to ``n`` dialable contacts, marking them ``dialing`` (claimed by ``node``) in
    the same transaction.

    A contact held for its personal callback's agent (``callback_owner_id``, issue 7) is taken
    only when the claimer says that agent is ready (``ready_owners``: users.id); such a lead
    carries ``owner`` and goes before the team's due callbacks, as its agent is waiting.
    A team callback's contact (``callback_team``) is taken only as
    campaigns/callback_times.py ``team_callback_offered`` says for the claimer's ``teams``;
    held for its team, its lead carries ``team`` (an agent of that team must take the call).
    """
    if n <= 0:
        return []
    callback_due = sa.case((col(Contact.callback_at) <= now, 0), else_=1)
    owner = col(Contact.callback_owner_id)
    q = (
        select(Contact)
        .where(
            Contact.campaign_id == campaign_id,
            col(Contact.status).in_(DIALABLE),
            col(Contact.suppressed).is_(False),
            sa.or_(col(Contact.next_due_at).is_(None), col(Contact.next_due_at) <= now),
            owner.is_(None) | owner.in_(sorted(ready_owners)) if ready_owners else owner.is_(None),
            _team_offered(teams, now),
        )
        .order_by(
            callback_due,
            owner.is_(None),
            col(Contact.deadline_at).is_(None),
            col(Contact.deadline_at),
            col(Contact.priority).desc(),
            col(Contact.attempts),
            col(Contact.id),
        )
        .limit(n)
    )
    with session_scope(engine) as s:
        if engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        else:
            lock(s, f"hopper:{campaign_id}")
        rows = list(s.exec(q))
        for c in rows:
            c.status, c.claimed_by = "dialing", node
            s.add(c)
        return [_lead(c, _holder(c, teams, now)) for c in rows]


def _team_offered(teams: TeamsOnline, now: datetime) -> Any:
    """SQL for callback_times.team_callback_offered (tests/dialer/test_hopper.py checks that
    both agree): no team held, a ready team, a team with nobody signed in, the grace over."""
    team = col(Contact.callback_team)
    grace_over = col(Contact.callback_at) <= now - timedelta(minutes=teams.grace_min)
    offered = [team.is_(None), col(Contact.callback_at).is_(None), grace_over, team == ""]
    if teams.ready:
        offered.append(team.in_(sorted(teams.ready)))
    offered.append(team.not_in(sorted(teams.signed_in)) if teams.signed_in else sa.true())
    return sa.or_(*offered)


def _holder(c: Contact, teams: TeamsOnline, now: datetime) -> str | None:
    if c.callback_at is None:
        return None
    return team_callback_holder(c.callback_team, as_utc(c.callback_at), now, teams)


def dialable_count(engine: Engine, campaign_id: int, now: datetime) -> int:
    with session_scope(engine) as s:
        return int(
            s.exec(
                select(sa.func.count())
                .select_from(Contact)
                .where(
                    Contact.campaign_id == campaign_id,
                    col(Contact.status).in_(DIALABLE),
                    col(Contact.suppressed).is_(False),
                    sa.or_(col(Contact.next_due_at).is_(None), col(Contact.next_due_at) <= now),
                )
            ).one()
        )


def remaining(engine: Engine, campaign_id: int) -> int:
    """Records that may still be dialed now or later (0 means the campaign is complete)."""
    with session_scope(engine) as s:
        return int(
            s.exec(
                select(sa.func.count())
                .select_from(Contact)
                .where(
                    Contact.campaign_id == campaign_id,
                    col(Contact.status).in_((*DIALABLE, "dialing", "wrap")),
                    col(Contact.suppressed).is_(False),
                )
            ).one()
        )


def unclaim(engine: Engine, lead: Lead) -> None:
    """Give a claimed lead back untouched (compliance blocked it, or the engine stopped)."""
    with session_scope(engine) as s:
        c = s.get(Contact, lead.contact_id)
        if c is not None and c.status == "dialing":
            c.status = "retry" if c.attempts else "new"
            s.add(c)


def withdraw(engine: Engine, call_id: str, lead: Lead) -> None:
    """Take back an attempt whose INVITE was never sent (its reserved agent became busy)."""
    with session_scope(engine) as s:
        s.execute(
            sa.delete(Attempt).where(
                col(Attempt.call_id) == call_id,
                col(Attempt.state) == "dialing",
                col(Attempt.final).is_(False),
            )
        )
    unclaim(engine, lead)


def defer(engine: Engine, lead: Lead, until: datetime | None, reason: str) -> None:
    """Compliance blocked the lead: try again at ``until`` or never (final)."""
    with session_scope(engine) as s:
        c = s.get(Contact, lead.contact_id)
        if c is None:
            return
        c.last_outcome = reason[:32]
        if until is None:
            c.status = "done"
        else:
            c.status = "retry" if c.attempts else "new"
            c.next_due_at = until
        s.add(c)


#: A runtime whose node name ends with this dials the simulated carrier (outdial serve
#: without a trunk, sip/simcarrier.py): its attempts are marked ``simulated``.
SIMULATED_NODE = "~sim"


def simulated_node(node: str) -> str:
    """``node`` marked as dialing the simulated carrier (at most 64 characters)."""
    if node.endswith(SIMULATED_NODE):
        return node
    return node[: 64 - len(SIMULATED_NODE)] + SIMULATED_NODE


def open_attempt(
    engine: Engine, call_id: str, campaign_id: int, lead: Lead, node: str, now: datetime
) -> Attempt:
    """Commit the attempt row *before* the INVITE (crash safety, issue 6)."""
    row = Attempt(
        call_id=call_id,
        campaign_id=campaign_id,
        contact_id=lead.contact_id,
        number=lead.number,
        attempt_no=lead.attempt_no,
        node=node,
        state="dialing",
        created_at=now,
        simulated=node.endswith(SIMULATED_NODE),
    )
    with session_scope(engine) as s:
        s.add(row)
        s.flush()
        s.refresh(row)
    return row


def persist_transitions(
    engine: Engine, campaign_id: int, records: list[tuple[Transition[Any, Any], datetime]]
) -> None:
    """Write state transitions and mirror each call's state onto its attempt row."""
    if not records:
        return
    with session_scope(engine) as s:
        write_transitions(s, campaign_id, records)


def write_transitions(
    s: Session, campaign_id: int, records: list[tuple[Transition[Any, Any], datetime]]
) -> None:
    """:func:`persist_transitions` inside the caller's transaction (dialer/writer.py)."""
    if records:
        for t, at in records:
            s.add(
                StateChange(
                    at=at,
                    campaign_id=campaign_id,
                    machine=t.machine,
                    entity=t.entity,
                    source=t.source.value,
                    event=t.event.value,
                    target=t.target.value,
                    reason=(t.reason or "")[:255],
                )
            )
            if t.machine == "call":
                s.execute(
                    sa.update(Attempt)
                    .where(col(Attempt.call_id) == t.entity)
                    .values(state=t.target.value)
                )
                if t.target.value == "answered":
                    s.execute(
                        sa.update(Attempt)
                        .where(col(Attempt.call_id) == t.entity)
                        .values(answered_at=at)
                    )
                elif t.target.value == "bridged":
                    s.execute(
                        sa.update(Attempt)
                        .where(col(Attempt.call_id) == t.entity)
                        .values(bridged_at=at)
                    )
                if t.event.value == "transfer_ivr":  # transfer rate (reports, domain.md)
                    s.execute(
                        sa.update(Attempt)
                        .where(col(Attempt.call_id) == t.entity)
                        .values(transferred_at=at)
                    )


@dataclass(frozen=True)
class Finished:
    call_id: str
    state: str
    sip_outcome: str
    sip_status: int
    reason: str
    abandoned: bool
    agent_user_id: int | None
    answer_to_bridge: float | None
    amd: str = ""


def close_attempt(
    engine: Engine, f: Finished, policy: RetryPolicy, now: datetime
) -> Attempt | None:
    """Record a call's outcome and move its contact on per the retry rules."""
    with session_scope(engine) as s:
        return close_in(s, f, policy, now)


def close_in(s: Session, f: Finished, policy: RetryPolicy, now: datetime) -> Attempt | None:
    """:func:`close_attempt` inside the caller's transaction (dialer/writer.py)."""
    att = s.exec(select(Attempt).where(Attempt.call_id == f.call_id)).first()
    if att is None:
        return None
    att.state, att.final, att.ended_at = f.state, True, now
    att.sip_outcome, att.sip_status, att.reason = f.sip_outcome, f.sip_status, f.reason[:255]
    att.abandoned, att.agent_user_id = f.abandoned, f.agent_user_id
    att.amd = f.amd or att.amd
    if f.answer_to_bridge is not None:
        att.answer_to_bridge_ms = f.answer_to_bridge * 1000.0
    s.add(att)
    contact = s.get(Contact, att.contact_id)
    if contact is not None:
        _advance(contact, att, f, policy, now)
        s.add(contact)
    s.flush()
    s.refresh(att)
    return att


#: ``last_outcome`` prefixes of a contact ended outside the call (campaigns/contacts.py ``end``:
#: an order's verdict, a finished return visit), which no call outcome or disposition reopens
ENDED_ELSEWHERE = ("verdict_", "task_")


def _ended_elsewhere(c: Contact) -> bool:
    return c.status == "done" and c.last_outcome.startswith(ENDED_ELSEWHERE)


def _advance(c: Contact, att: Attempt, f: Finished, policy: RetryPolicy, now: datetime) -> None:
    c.attempts = max(c.attempts, att.attempt_no)
    c.last_attempt_at = now
    if _ended_elsewhere(c):  # e.g. the agent entered the order's verdict during this call
        return
    state = "machine" if f.amd == "machine" else f.state
    if f.amd == "announcement":  # a carrier's "not in service" (issue 20)
        state = announcement_outcome(f.reason).value
    c.last_outcome = state
    # as_utc: SQLite hands timestamps back naive (UTC)
    c.callback_at = None if c.callback_at and as_utc(c.callback_at) <= now else c.callback_at
    if c.callback_at is None:  # dialed: the team callback's hold is over
        c.callback_team = None
    if f.state == "completed" and f.agent_user_id is not None:
        if att.disposition_at is None:  # else the agent was quicker than this write
            c.status = "wrap"  # the agent's disposition decides what happens next
        return
    if f.state == "completed" and state != "machine":
        c.status = "done"  # an IVR (agentless) call that completed
        return
    outcome = RETRY_OUTCOME.get(state, "failure")
    decision = retry_decision(policy, outcome, c.attempts, now)
    if decision.final:
        c.status = "done"
    else:
        c.status, c.next_due_at = "retry", decision.next_due_at


def record_disposition(
    engine: Engine,
    call_id: str,
    code: str,
    final: bool,
    callback_at: datetime | None,
    notes: str,
    now: datetime,
) -> Attempt:
    """Commit an agent's disposition (before the agent's state moves on). Idempotent."""
    from dialer.errors import UnknownCall

    with session_scope(engine) as s:
        att = s.exec(select(Attempt).where(Attempt.call_id == call_id)).first()
        if att is None:
            raise UnknownCall(f"no attempt {call_id}", call_id=call_id)
        if att.disposition == code and att.disposition_at is not None:
            return att  # a retried request: already recorded
        att.disposition, att.disposition_at, att.notes = code, now, notes
        s.add(att)
        contact = s.get(Contact, att.contact_id)
        if contact is not None and not _ended_elsewhere(contact):
            if callback_at is not None:
                contact.status, contact.callback_at = "retry", callback_at
                contact.next_due_at = callback_at
            elif final:
                contact.status = "done"
            else:
                contact.status = "retry"
                contact.next_due_at = now + timedelta(hours=1)
            s.add(contact)
        s.flush()
        s.refresh(att)
        return att


def recover_in_flight(
    engine: Engine, campaign_id: int, policy: RetryPolicy, now: datetime, node: str | None = None
) -> int:
    """Close attempts a crash left in flight; their contacts return per the retry rules."""
    with session_scope(engine) as s:
        q = select(Attempt.call_id).where(
            Attempt.campaign_id == campaign_id, col(Attempt.final).is_(False)
        )
        if node is not None:
            q = q.where(Attempt.node == node)
        call_ids = list(s.exec(q))
    for call_id in call_ids:
        close_attempt(
            engine,
            Finished(
                call_id,
                "failed",
                "engine_restart",
                0,
                "closed at start-up after a crash",
                False,
                None,
                None,
            ),
            policy,
            now,
        )
    with session_scope(engine) as s:  # claimed (by this node) but never dialed
        claimed = select(Contact).where(
            Contact.campaign_id == campaign_id, Contact.status == "dialing"
        )
        if node is not None:  # another node's fresh claim is about to become its attempt
            claimed = claimed.where(col(Contact.claimed_by).in_((node, "")))
        for c in s.exec(claimed):
            open_att = s.exec(
                select(Attempt).where(Attempt.contact_id == c.id, col(Attempt.final).is_(False))
            ).first()
            if open_att is None:
                c.status = "retry" if c.attempts else "new"
                s.add(c)
    return len(call_ids)
