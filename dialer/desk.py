"""What the agent's desk (座席, issue 14) reads and keeps beside the engine (blocking: a thread).

The engine owns the agent's state and their live call; this module reads what the desk shows
around them — today's counts, the connected customer's record with its history, the kind's
form (an order to verify, a return-visit task, the survey's questions), the callbacks due to
the agent — and keeps what the agent types as a draft per call, so a reload loses nothing.
Every read by call id checks that the call is the agent's own (an agent sees only theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from campaigns import callbacks, orders, rules, store, survey_store, surveys
from campaigns.models import Callback, ReturnVisitTask
from compliance import amd_reviews
from compliance.amd_sampling import SAMPLED_MACHINE
from compliance.models import AmdReview
from dialer.board import day_start
from dialer.errors import NotYourCall
from dialer.models import Attempt, DeskDraft
from lists.models import Contact
from outdial.errors import InvalidInput, NotFound
from outdial.logs import mask_text
from outdial.models import User, as_utc
from outdial.storage import session_scope

#: return-visit outcome codes (campaigns/return_visits.complete stores one per task)
RETURN_VISIT_OUTCOMES = ("satisfied", "problem_reported", "no_feedback", "refused")
DRAFT_MAX = 16_000  # characters of JSON an agent's draft for one call may hold


@dataclass(frozen=True)
class Counts:
    """Today's figures for one agent (shared/domain.md: AHT = (talk + wrap-up) / calls)."""

    calls: int
    talk_seconds: float
    handle_seconds: float

    @property
    def aht_seconds(self) -> float:
        return self.handle_seconds / self.calls if self.calls else 0.0


def today_counts(db: Engine, user_id: int, since: datetime) -> Counts:
    """Calls bridged to the agent since ``since``, their talk time and handle time."""
    with session_scope(db) as s:
        rows = s.exec(
            select(Attempt)
            .where(Attempt.agent_user_id == user_id)
            # UTC: SQLite keeps the wall time of what it is given and drops the offset, so a
            # Shanghai midnight bound as is would skip the calls of 00:00-08:00 local
            .where(col(Attempt.bridged_at) >= since.astimezone(UTC))
        ).all()
    talk = sum(_talk(r) for r in rows)
    wrap = sum(_gap(r.ended_at, r.disposition_at) for r in rows)
    return Counts(len(rows), talk, talk + wrap)


def _gap(start: datetime | None, end: datetime | None) -> float:
    return max(0.0, (as_utc(end) - as_utc(start)).total_seconds()) if start and end else 0.0


def _talk(att: Attempt) -> float:
    """The engine's talk time; bridged to end when it kept none (the agent hung up)."""
    return att.talk_seconds if att.talk_seconds is not None else _gap(att.bridged_at, att.ended_at)


def own_attempt(db: Engine, user_id: int, call_id: str, live_call: str | None) -> Attempt:
    """The attempt of ``call_id`` if it is this agent's (bridged to them, or live on their
    softphone now); anyone else's call is refused (403)."""
    with session_scope(db) as s:
        att = s.exec(select(Attempt).where(Attempt.call_id == call_id)).first()
    if att is None:
        raise NotFound("no such call", call_id=call_id[:64])
    if not (att.agent_user_id == user_id or live_call == call_id):
        raise NotYourCall("that call is not yours", call_id=call_id[:64])
    return att


def pending_call(db: Engine, user_id: int) -> str | None:
    """The agent's latest bridged call still waiting for its disposition (after a restart
    the engine no longer holds it: the desk shows it again until it is disposed)."""
    with session_scope(db) as s:
        att = s.exec(
            select(Attempt)
            .where(Attempt.agent_user_id == user_id)
            .where(col(Attempt.bridged_at).is_not(None))
            .where(Attempt.disposition == "")
            .order_by(col(Attempt.id).desc())
        ).first()
    return att.call_id if att else None


def masked(number: str) -> str:
    """The number as an agent sees it: only the last four digits (outdial/logs.py)."""
    return mask_text(number)


def call_view(db: Engine, att: Attempt, live_amd: str = "") -> dict[str, Any]:
    """Everything the screen pop shows for one call (the caller checked it is the agent's);
    ``live_amd``: the engine's AMD result while the call is live (the attempt has it after)."""
    camp = store.get(db, att.campaign_id)
    spec = store.spec_of(db, camp)
    with session_scope(db) as s:
        contact = s.get(Contact, att.contact_id)
        history = s.exec(
            select(Attempt)
            .where(Attempt.contact_id == att.contact_id)
            .where(Attempt.call_id != att.call_id)
            .order_by(col(Attempt.id).desc())
            .limit(20)
        ).all()
    custom = dict(contact.custom) if contact else {}
    zones = [str(z) for z in (contact.timezones if contact else None) or []]
    zone = zones[0] if zones and rules.zone_ok(zones[0]) else spec.timezone
    fields = {**custom, "name": contact.name if contact else "", "number": masked(att.number)}
    if contact is not None:
        fields["address"] = contact.address
    script, missing = rules.render_script(spec.script, fields)
    labels = {d.code: d.label for d in spec.dispositions}
    return {
        "call_id": att.call_id,
        "campaign": {"id": camp.id, "name": camp.name, "kind": spec.kind.value},
        "name": contact.name if contact else "",
        "number": masked(att.number),
        "address": contact.address if contact else "",
        "custom": {k: v for k, v in custom.items() if k not in _FORM_KEYS},
        "history": [
            {
                "at": as_utc(h.created_at).astimezone(ZoneInfo(zone)),
                "outcome": labels.get(h.disposition, h.disposition or h.sip_outcome or h.state),
                "disposition": h.disposition,  # the code: pages show its label translated
                "label": labels.get(h.disposition, ""),
                "notes": h.notes,
            }
            for h in history
        ],
        "script": script,
        "script_missing": missing,
        "dispositions": list(spec.dispositions),
        "zone": zone,
        "window": rules.format_span(spec.callback_hours),
        "window_span": spec.callback_hours,
        "order": _order(db, custom, zone),
        "task": _task(db, att.campaign_id, custom),
        "survey": _survey(db, spec) if spec.kind is rules.Kind.SATISFACTION_SURVEY else None,
        "ivr_transfer": rules.ivr_transfer_allowed(spec),
        # handed to the survey IVR: the customer answers by keypad, not to the agent
        "transferred": att.transferred_at is not None,
        "disposed": att.disposition,
        # rule 19 (issue 20): a machine verdict sampled and sent to this agent anyway; the
        # agent says what it was (compliance/amd_reviews.py), before the disposition
        "amd_sample": _sampled(att, live_amd),
        "amd_truth": amd_truth(db, att.call_id) if _sampled(att, live_amd) else "",
    }


def _sampled(att: Attempt, live_amd: str) -> bool:
    return SAMPLED_MACHINE in (att.amd, live_amd)


def amd_truth(db: Engine, call_id: str) -> str:
    """The mark on a sampled machine verdict: person, machine, or "" while unmarked."""
    with session_scope(db) as s:
        row = s.exec(select(AmdReview).where(AmdReview.call_id == call_id)).first()
    return row.truth if row else ""


def amd_mark_due(db: Engine, att: Attempt, live_amd: str = "") -> bool:
    """A sampled machine verdict the agent has not marked yet (the disposition waits)."""
    return _sampled(att, live_amd) and not amd_truth(db, att.call_id)


def amd_mark(
    db: Engine, att: Attempt, live_amd: str, truth: str, by: str, now: datetime
) -> amd_reviews.Sample:
    """The agent's mark on their sampled call (compliance/amd_reviews.py), committed at once;
    while the call is live its attempt takes the engine's AMD result first (the same value
    it records when the call ends)."""
    if live_amd == SAMPLED_MACHINE and not att.amd:
        with session_scope(db) as s:
            row = s.get(Attempt, att.id)
            if row is not None and not row.amd:
                row.amd = SAMPLED_MACHINE
                s.add(row)
    return amd_reviews.mark(db, att.call_id, truth, by, now)


#: the order's and the task's own fields: shown in their form, not among the custom fields
_FORM_KEYS = frozenset({"kind", "external_id", "source", "lines", "payment", "ship_by"})


def _order(db: Engine, custom: dict[str, str], zone: str) -> dict[str, Any] | None:
    if custom.get("kind") != "order":
        return None
    try:
        row = orders.get_order(db, custom.get("external_id", ""), custom.get("source", "default"))
    except NotFound:
        return None
    out = orders.order_json(row)
    lines = out["lines"] if isinstance(out["lines"], list) else []
    out["items"] = [dict(x) if isinstance(x, dict) else {"name": str(x)} for x in lines]
    out["ship_by_at"] = as_utc(row.ship_by).astimezone(ZoneInfo(zone))  # the customer's time
    return out


def _task(db: Engine, campaign_id: int, custom: dict[str, str]) -> ReturnVisitTask | None:
    if custom.get("kind") != "return_visit":
        return None
    with session_scope(db) as s:
        return s.exec(
            select(ReturnVisitTask)
            .where(ReturnVisitTask.campaign_id == campaign_id)
            .where(ReturnVisitTask.external_id == custom.get("external_id", ""))
        ).first()


def survey_for(db: Engine, spec: rules.CampaignSpec) -> tuple[int, surveys.Survey]:
    """The campaign's survey (its definition names one; default the seeds' template), the
    same one its IVR asks (dialer/ivr.py)."""
    name = spec.survey or surveys.SEED_TEMPLATE.name
    try:
        row, survey = survey_store.get_survey(db, name)
    except NotFound:
        if spec.survey:
            raise
        survey_store.save_survey(db, surveys.SEED_TEMPLATE)
        row, survey = survey_store.get_survey(db, name)
    return row.id or 0, survey


def _survey(db: Engine, spec: rules.CampaignSpec) -> dict[str, Any]:
    sid, survey = survey_for(db, spec)
    return {"id": sid, "questions": list(survey.questions)}


def task_outcome(db: Engine, att: Attempt, outcome: str) -> ReturnVisitTask:
    """Record the return visit's outcome for the task this call was about."""
    if outcome not in RETURN_VISIT_OUTCOMES:
        raise InvalidInput(
            f"outcome must be one of {', '.join(RETURN_VISIT_OUTCOMES)}", field="outcome"
        )
    with session_scope(db) as s:
        contact = s.get(Contact, att.contact_id)
    task = _task(db, att.campaign_id, dict(contact.custom) if contact else {})
    if task is None or task.id is None:
        raise NotFound("this call is not about a return-visit task", call_id=att.call_id)
    from campaigns import return_visits

    return return_visits.complete(db, task.id, outcome)


def order_ref(db: Engine, att: Attempt) -> tuple[str, str]:
    """(external id, source) of the order this call verifies."""
    with session_scope(db) as s:
        contact = s.get(Contact, att.contact_id)
    custom = dict(contact.custom) if contact else {}
    if custom.get("kind") != "order":
        raise NotFound("this call is not about an order", call_id=att.call_id)
    return custom.get("external_id", ""), custom.get("source", "default")


# --- drafts -----------------------------------------------------------------------------------


def save_draft(db: Engine, user_id: int, call_id: str, data: dict[str, str], now: datetime) -> None:
    """Keep what the agent typed for the call (the latest wins)."""
    size = sum(len(k) + len(v) for k, v in data.items())
    if size > DRAFT_MAX:
        raise InvalidInput(f"a draft holds at most {DRAFT_MAX} characters", field="draft")
    for tries_left in (1, 0):
        try:
            with session_scope(db) as s:
                row = _draft_row(s, user_id, call_id) or DeskDraft(user_id=user_id, call_id=call_id)
                row.data, row.updated_at = dict(data), now
                s.add(row)
            return
        except IntegrityError:
            # two saves of a new draft at once (the notes and the callback time are saved as
            # they change): the other inserted the row first; update it (was a 500)
            if not tries_left:
                raise


def draft_of(db: Engine, user_id: int, call_id: str) -> dict[str, str]:
    with session_scope(db) as s:
        row = _draft_row(s, user_id, call_id)
    return {str(k): str(v) for k, v in (row.data if row else {}).items()}


def _draft_row(s: Session, user_id: int, call_id: str) -> DeskDraft | None:
    return s.exec(
        select(DeskDraft).where(DeskDraft.user_id == user_id).where(DeskDraft.call_id == call_id)
    ).first()


def drop_draft(db: Engine, user_id: int, call_id: str) -> None:
    """The call is disposed (its notes are on the attempt): its draft goes."""
    with session_scope(db) as s:
        s.execute(
            delete(DeskDraft)
            .where(col(DeskDraft.user_id) == user_id)
            .where(col(DeskDraft.call_id) == call_id)
        )


# --- callbacks --------------------------------------------------------------------------------


def callbacks_due(db: Engine, user_id: int, until: datetime) -> list[Callback]:
    """The agent's pending callbacks due before ``until`` (overdue ones included): their own,
    then their team's in the campaigns they may take (campaigns/callbacks.py ``due_on_desk``)."""
    with session_scope(db) as s:
        user = s.get(User, user_id)
        team = user.team if user is not None else ""
    return callbacks.due_on_desk(db, user_id, team, store.assigned_campaigns(db, user_id), until)


def end_of_day(now: datetime, zone: str) -> datetime:
    return day_start(now, zone) + timedelta(days=1)
