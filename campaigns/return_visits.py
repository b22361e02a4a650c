"""Return-visit tasks (回访): a follow-up call due N days after a delivery or service.

N is the campaign's ``return_visit_delay_days`` (campaigns/rules.py). Tasks are idempotent
on ``(campaign, external_id)`` so a CRM that pushes the same task twice makes one row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from campaigns import contacts, rules, store
from campaigns.models import Campaign, ReturnVisitTask
from outdial.errors import InvalidInput, NotFound
from outdial.models import as_utc
from outdial.storage import session_scope


def task_json(t: ReturnVisitTask) -> dict[str, Any]:
    return {
        "id": t.id,
        "campaign_id": t.campaign_id,
        "external_id": t.external_id,
        "customer_name": t.customer_name,
        "phone": t.phone,
        "subject": t.subject,
        "happened_at": as_utc(t.happened_at).isoformat(),
        "due_at": as_utc(t.due_at).isoformat(),
        "status": t.status,
        "outcome": t.outcome,
    }


def _row(campaign_id: int, delay_days: int, raw: Mapping[str, Any]) -> ReturnVisitTask:
    ext = str(raw.get("external_id", "")).strip()
    phone = str(raw.get("phone", "")).strip()
    if not ext or not phone:
        raise InvalidInput("every return visit needs external_id and phone", field="external_id")
    try:
        happened = datetime.fromisoformat(str(raw.get("happened_at", "")))
    except ValueError as exc:
        raise InvalidInput(
            f"task {ext}: happened_at must be ISO 8601", field="happened_at"
        ) from exc
    if happened.tzinfo is None:
        raise InvalidInput(f"task {ext}: happened_at needs a UTC offset", field="happened_at")
    happened = as_utc(happened)
    return ReturnVisitTask(
        campaign_id=campaign_id,
        external_id=ext,
        customer_name=str(raw.get("customer_name", "")),
        phone=phone,
        subject=str(raw.get("subject", ""))[:255],
        happened_at=happened,
        due_at=happened + timedelta(days=delay_days),
    )


def add_tasks(
    engine: Engine, campaign: Campaign, tasks: Sequence[Mapping[str, Any]]
) -> list[tuple[ReturnVisitTask, bool]]:
    """Store tasks (all validated first), each with a contact due at the task's ``due_at``
    in the same transaction; an external id already stored is returned as is."""
    if campaign.kind != rules.Kind.RETURN_VISIT:
        raise InvalidInput(f"campaign {campaign.name!r} is not a return-visit campaign")
    delay = store.spec_of(engine, campaign).return_visit_delay_days
    rows = [_row(campaign.id or 0, delay, t) for t in tasks]
    nums = [contacts.number(r.phone, campaign.region, f"task {r.external_id}") for r in rows]
    out: list[tuple[ReturnVisitTask, bool]] = []
    for row, num in zip(rows, nums, strict=True):
        try:
            with session_scope(engine) as s:
                new = ReturnVisitTask(**row.model_dump())
                s.add(new)
                s.flush()
                s.refresh(new)
                contacts.add(
                    s,
                    new.campaign_id,
                    contacts.RETURN_VISITS_LIST,
                    num,
                    key=new.external_id,
                    name=new.customer_name,
                    address="",
                    custom=_custom(new),
                    next_due_at=as_utc(new.due_at),
                )
            out.append((new, True))
        except IntegrityError:
            with session_scope(engine) as s:
                old = s.exec(
                    select(ReturnVisitTask)
                    .where(ReturnVisitTask.campaign_id == row.campaign_id)
                    .where(ReturnVisitTask.external_id == row.external_id)
                ).one()
            out.append((old, False))
    return out


def _custom(t: ReturnVisitTask) -> dict[str, str]:
    """What the agent's screen shows of the task."""
    return {
        "kind": "return_visit",
        "external_id": t.external_id,
        "subject": t.subject,
        "happened_at": as_utc(t.happened_at).isoformat(),
    }


def due_tasks(
    engine: Engine, campaign_id: int, now: datetime, limit: int = 100
) -> list[ReturnVisitTask]:
    with session_scope(engine) as s:
        q = (
            select(ReturnVisitTask)
            .where(ReturnVisitTask.campaign_id == campaign_id)
            .where(ReturnVisitTask.status == "pending")
            .where(col(ReturnVisitTask.due_at) <= now)
            .order_by(col(ReturnVisitTask.due_at))
            .limit(limit)
        )
        return list(s.exec(q))


def complete(
    engine: Engine, task_id: int, outcome: str, survey_response_id: int | None = None
) -> ReturnVisitTask:
    """Mark a task done with its outcome code; the same outcome again is a no-op."""
    with session_scope(engine) as s:
        t = s.get(ReturnVisitTask, task_id)
        if t is None:
            raise NotFound(f"no return-visit task {task_id}")
        t.status, t.outcome = "done", outcome
        t.survey_response_id = survey_response_id or t.survey_response_id
        s.add(t)
        campaign = s.get(Campaign, t.campaign_id)
        try:
            num = contacts.number(t.phone, campaign.region if campaign else "CN", "task")
        except InvalidInput:
            num = None  # stored before tasks made contacts: it has none
        if num is not None:
            contact = contacts.find(
                s, t.campaign_id, contacts.RETURN_VISITS_LIST, num.e164, t.external_id
            )
            contacts.end(s, contact, f"task_{outcome}")
        s.flush()
        s.refresh(t)
    return t
