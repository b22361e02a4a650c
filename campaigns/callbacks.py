"""Callbacks in the database: schedule, list, reschedule, cancel, hand missed ones to the team.

The row owns the callback's state (issue 7): a restart loses none, and APScheduler (or the
engine's own loop) only wakes whoever calls :func:`due` and :func:`move_missed_to_team`.
The rules (legal hours, when a missed callback moves) live in campaigns/callback_times.py.

``actor_id`` is the user acting; ``None`` means a manager, an admin or the CLI (all rows).
An agent sees and changes their own callbacks and their own team's (the team of the agent a
team callback was promised to); anyone else's, other teams' included, look absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from campaigns import callback_times, contacts, store
from campaigns.errors import CallbackClosed
from campaigns.models import Callback
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.models import User, as_utc
from outdial.storage import session_scope

OWNER_KINDS = ("agent", "team")


def callback_json(cb: Callback) -> dict[str, Any]:
    return {
        "id": cb.id,
        "campaign_id": cb.campaign_id,
        "contact_ref": cb.contact_ref,
        "phone": cb.phone,
        "customer_name": cb.customer_name,
        "customer_zone": cb.customer_zone,
        "local_time": cb.local_time,
        "due_at": as_utc(cb.due_at).isoformat(),
        "owner_kind": cb.owner_kind,
        "owner_id": cb.owner_id,
        "status": cb.status,
        "reschedules": cb.reschedules,
        "note": cb.note,
        "moved_to_team_at": as_utc(cb.moved_to_team_at).isoformat()
        if cb.moved_to_team_at
        else None,
    }


def schedule(
    engine: Engine,
    campaign_id: int,
    phone: str,
    local_time: datetime,
    customer_zone: str,
    now: datetime,
    *,
    candidate_zones: Sequence[str] = (),
    owner_kind: str = "agent",
    owner_id: int | None = None,
    created_by: int | None = None,
    note: str = "",
    customer_name: str = "",
    contact_ref: str = "",
    idempotency_key: str | None = None,
    legal: callback_times.NextLegal = callback_times.next_legal_time,
) -> tuple[Callback, bool]:
    """Schedule a callback at a customer-local time; (row, created). Refused outside legal
    hours with the next legal time (rules 1, 14-16, 28, 33 via callback_times.plan_callback)."""
    if owner_kind not in OWNER_KINDS:
        raise InvalidInput("owner must be 'agent' or 'team'", field="owner")
    if owner_kind == "agent" and owner_id is None:
        raise InvalidInput("a personal callback needs its agent", field="owner_id")
    if not phone.strip():
        raise InvalidInput("a callback needs a phone number", field="phone")
    scoped = None if idempotency_key is None else store.owner_key(created_by, idempotency_key)
    campaign = store.get(engine, campaign_id)
    spec = store.spec_of(engine, campaign)
    plan = callback_times.plan_callback(
        local_time, customer_zone, candidate_zones, spec.callback_hours, now, legal
    )
    row = Callback(
        idempotency_key=scoped,
        campaign_id=campaign_id,
        contact_ref=contact_ref,
        phone=phone.strip(),
        customer_name=customer_name,
        customer_zone=plan.customer_zone,
        local_time=plan.local_time,
        due_at=plan.due_at,
        owner_kind=owner_kind,
        owner_id=owner_id if owner_kind == "agent" else None,
        created_by=created_by,
        note=note,
    )
    try:
        with session_scope(engine) as s:
            s.add(row)
            s.flush()
            s.refresh(row)
            # the hopper dials the callback's contact first once due (same transaction)
            # (a personal one only once its agent is ready, with that agent reserved)
            contact = contacts.by_ref(s, campaign_id, contact_ref)
            team = _team_name(s, created_by) if owner_kind == "team" else None
            contacts.set_callback(s, contact, plan.due_at, row.owner_id, team)
        return row, True
    except IntegrityError:
        if scoped is None:
            raise
        with session_scope(engine) as s:
            old = s.exec(select(Callback).where(Callback.idempotency_key == scoped)).one()
        if old.phone != row.phone or as_utc(old.due_at) != plan.due_at:
            raise Conflict(
                f"idempotency key {idempotency_key!r} already scheduled another callback",
                callback_id=old.id,
            ) from None
        return old, False


def _team_name(s: Session, user_id: int | None) -> str:
    """users.team of ``user_id`` ("" for none): a team callback's team (see _team_of_callback)."""
    user = s.get(User, user_id) if user_id is not None else None
    return user.team if user is not None else ""


def _visible(actor_id: int | None) -> Any:
    """What an agent sees and may change: their own callbacks and their own team's (the team
    of the callback is :func:`_team_of_callback`; agents in no team share those of agents in
    no team, as on the desk). ``None`` (a manager, an admin, the CLI): all."""
    if actor_id is None:
        return True
    me = User.__table__.alias("cb_actor")  # type: ignore[attr-defined]
    my_team = sa.select(sa.func.coalesce(me.c.team, "")).where(me.c.id == actor_id)
    same_team = sa.func.coalesce(_team_of_callback(), "") == sa.func.coalesce(
        my_team.scalar_subquery(), ""
    )
    team = sa.and_(col(Callback.owner_kind) == "team", same_team)
    return or_(col(Callback.owner_id) == actor_id, team)


def list_callbacks(
    engine: Engine,
    actor_id: int | None = None,
    status: str | None = "pending",
    campaign_id: int | None = None,
) -> list[Callback]:
    q = select(Callback).where(_visible(actor_id))
    if status:
        q = q.where(Callback.status == status)
    if campaign_id is not None:
        q = q.where(Callback.campaign_id == campaign_id)
    with session_scope(engine) as s:
        return list(s.exec(q.order_by(col(Callback.due_at), col(Callback.id))))


def get(engine: Engine, callback_id: int, actor_id: int | None = None) -> Callback:
    with session_scope(engine) as s:
        row = s.exec(
            select(Callback).where(Callback.id == callback_id).where(_visible(actor_id))
        ).first()
    if row is None:
        raise NotFound(f"no callback {callback_id}", callback_id=callback_id)
    return row


def reschedule(
    engine: Engine,
    callback_id: int,
    local_time: datetime,
    now: datetime,
    actor_id: int | None = None,
    customer_zone: str | None = None,
    candidate_zones: Sequence[str] = (),
    legal: callback_times.NextLegal = callback_times.next_legal_time,
) -> Callback:
    """Move a pending callback to another customer-local time (legal hours checked again)."""
    cb = get(engine, callback_id, actor_id)
    if cb.status != "pending":
        raise CallbackClosed(f"callback {callback_id} is {cb.status}", status=cb.status)
    spec = store.spec_of(engine, store.get(engine, cb.campaign_id))
    zone = customer_zone or cb.customer_zone
    plan = callback_times.plan_callback(
        local_time, zone, candidate_zones, spec.callback_hours, now, legal
    )
    with session_scope(engine) as s:
        row = s.get(Callback, callback_id)
        assert row is not None
        contact = contacts.by_ref(s, row.campaign_id, row.contact_ref)
        contacts.clear_callback(s, contact, row.due_at)
        row.due_at, row.local_time, row.customer_zone = plan.due_at, plan.local_time, zone
        row.reschedules += 1
        s.add(row)
        owner = row.owner_id if row.owner_kind == "agent" else None
        team = _team_name(s, row.owner_id or row.created_by) if owner is None else None
        contacts.set_callback(s, contact, plan.due_at, owner, team)
        s.flush()
        s.refresh(row)
    return row


def close(
    engine: Engine, callback_id: int, status: str, now: datetime, actor_id: int | None = None
) -> Callback:
    """Cancel (``cancelled``) or complete (``done``) a pending callback; repeating is a no-op."""
    if status not in ("done", "cancelled"):
        raise InvalidInput("status must be done or cancelled", field="status")
    cb = get(engine, callback_id, actor_id)
    if cb.status == status:
        return cb
    if cb.status != "pending":
        raise CallbackClosed(f"callback {callback_id} is {cb.status}", status=cb.status)
    with session_scope(engine) as s:
        row = s.get(Callback, callback_id)
        assert row is not None
        row.status, row.closed_at = status, now
        s.add(row)
        # cancelled: the contact is no longer held for this time; done: it has been called
        contacts.clear_callback(s, contacts.by_ref(s, row.campaign_id, row.contact_ref), row.due_at)
        s.flush()
        s.refresh(row)
    return row


def served(
    engine: Engine, campaign_id: int, phone: str, now: datetime, keep_key: str | None = None
) -> list[int]:
    """An agent reached the customer and set a disposition: the campaign's pending callbacks
    to that number that were due by ``now`` are done (else they would stay in the list for
    ever). ``keep_key``: the callback this very disposition asked for stays pending."""
    closed: list[int] = []
    with session_scope(engine) as s:
        q = (
            select(Callback)
            .where(Callback.campaign_id == campaign_id, Callback.phone == phone)
            .where(Callback.status == "pending", col(Callback.due_at) <= now)
        )
        for cb in list(s.exec(q)):
            stored = cb.idempotency_key or ""
            if keep_key is not None and keep_key in (stored, stored.partition("/")[2]):
                continue  # keys are stored scoped to their owner (store.owner_key)
            cb.status, cb.closed_at = "done", now
            s.add(cb)
            closed.append(cb.id or 0)
    return closed


def due(
    engine: Engine, now: datetime, agent_id: int | None = None, limit: int = 50
) -> list[Callback]:
    """Due callbacks, first in lead selection: this agent's own first, then the team's."""
    q = select(Callback).where(Callback.status == "pending").where(col(Callback.due_at) <= now)
    if agent_id is not None:
        q = q.where(_visible(agent_id))
    with session_scope(engine) as s:
        rows = list(s.exec(q.order_by(col(Callback.due_at)).limit(limit * 2)))
    rows.sort(key=lambda c: (c.owner_id != agent_id, as_utc(c.due_at)))
    return rows[:limit]


def move_missed_to_team(engine: Engine, now: datetime) -> list[int]:
    """Hand personal callbacks missed by more than the campaign's delay to the team."""
    moved: list[int] = []
    delays: dict[int, int] = {}
    with session_scope(engine) as s:
        q = (
            select(Callback)
            .where(Callback.status == "pending")
            .where(Callback.owner_kind == "agent")
            .where(col(Callback.due_at) <= now)
        )
        for cb in list(s.exec(q)):  # the loop queries contacts in this session
            if cb.campaign_id not in delays:
                spec = store.spec_of(engine, store.get(engine, cb.campaign_id))
                delays[cb.campaign_id] = spec.callback_team_delay_minutes
            delay = delays[cb.campaign_id]
            if callback_times.moves_to_team(
                cb.owner_kind, cb.status, as_utc(cb.due_at), now, delay
            ):
                cb.owner_kind, cb.moved_to_team_at = "team", now
                s.add(cb)
                # the hopper no longer waits for the agent: their team may take the contact
                contact = contacts.by_ref(s, cb.campaign_id, cb.contact_ref)
                contacts.release_owner(s, contact, cb.owner_id, _team_name(s, cb.owner_id))
                moved.append(cb.id or 0)
    return moved


# --- the agent's desk: their own callbacks and their team's (班组回呼) ------------------------


def _team_of_callback() -> Any:
    """The team a team callback belongs to: the team (users.team) of the agent it was first
    promised to (``owner_id``, kept when a missed callback moves to the team), else of the
    agent who scheduled it; "" when that agent is in no team."""
    u = User.__table__.alias("cb_team")  # type: ignore[attr-defined]
    who = sa.func.coalesce(col(Callback.owner_id), col(Callback.created_by))
    return sa.select(sa.func.coalesce(u.c.team, "")).where(u.c.id == who).scalar_subquery()


def due_on_desk(
    engine: Engine, agent_id: int, team: str, campaign_ids: Sequence[int], until: datetime
) -> list[Callback]:
    """Pending callbacks due before ``until`` (overdue ones too) on an agent's desk: their own,
    and every team callback of their team (``team``: the agent's users.team; agents in no team
    share the callbacks of agents in no team) in the campaigns they may take (``campaign_ids``;
    empty: any). A team callback leaves every desk once one agent takes it (:func:`take`) or
    it is served or closed. Own callbacks first, then by due time."""
    team_cond = sa.and_(
        col(Callback.owner_kind) == "team", sa.func.coalesce(_team_of_callback(), "") == team
    )
    if campaign_ids:
        team_cond = sa.and_(team_cond, col(Callback.campaign_id).in_(list(campaign_ids)))
    mine = sa.and_(col(Callback.owner_kind) == "agent", col(Callback.owner_id) == agent_id)
    q = (
        select(Callback)
        # UTC: SQLite would compare the wall time of an aware ``until`` (the offset dropped)
        .where(Callback.status == "pending", col(Callback.due_at) < until.astimezone(UTC))
        .where(or_(mine, team_cond))
        .order_by(col(Callback.due_at), col(Callback.id))
    )
    with session_scope(engine) as s:
        rows = list(s.exec(q))
    rows.sort(key=lambda c: (c.owner_kind != "agent", as_utc(c.due_at)))
    return rows


def take(engine: Engine, callback_id: int, agent_id: int) -> Callback:
    """An agent takes a team callback: it becomes theirs (the hopper waits for them, as for a
    personal callback) and leaves the other agents' desks. Taking one's own again is a no-op;
    one another agent took first, or that is closed, is a :class:`Conflict`."""
    with session_scope(engine) as s:
        # one conditional UPDATE: of two agents taking at once, exactly one changes the row
        taken = (
            s.connection()
            .execute(
                sa.update(Callback)
                .where(
                    col(Callback.id) == callback_id,
                    col(Callback.status) == "pending",
                    col(Callback.owner_kind) == "team",
                )
                .values(owner_kind="agent", owner_id=agent_id)
            )
            .rowcount
        )
        row = s.get(Callback, callback_id)
        if row is None:
            raise NotFound(f"no callback {callback_id}", callback_id=callback_id)
        s.refresh(row)
        if not taken:
            if row.owner_kind == "agent" and row.owner_id == agent_id and row.status == "pending":
                return row
            raise Conflict(
                f"callback {callback_id} is no longer the team's", callback_id=callback_id
            )
        contact = contacts.by_ref(s, row.campaign_id, row.contact_ref)
        held = contact is not None and contact.callback_at is not None
        if held and as_utc(contact.callback_at) == as_utc(row.due_at):  # type: ignore[union-attr,arg-type]
            contacts.set_callback(s, contact, row.due_at, agent_id)
        s.flush()
        s.refresh(row)
    return row
