"""The pre-launch compliance preview, set-based (issue 4; issue 13 item 4).

The dialing gate (:class:`compliance.gate.DbGate`) reads a number's DNC entries, consents and
attempt history with one query each, right before the INVITE — right for one dial, but a
preview of 20,000 records made 80,000 queries (~17 s). Here each rule family's facts are
read for the whole campaign at once (one query for the internal DNC, one for consents, one
for the attempt history, registries and gauges once), grouped by number in memory, and then
the same pure :func:`compliance.decision.check` decides each record with a
:class:`~compliance.decision.Context` holding the same facts the gate would have read. The
decisions are therefore the gate's; tests/compliance/test_preview.py compares them record by
record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from compliance import store
from compliance.caps import Attempt as CapAttempt
from compliance.decision import (
    Category,
    ConsentRecord,
    Context,
    Decision,
    DncEntry,
    Summary,
    check,
    summarize,
)
from outdial.models import as_utc
from outdial.storage import session_scope

if TYPE_CHECKING:
    from compliance.gate import DbGate

#: records listed by name in a preview's ``missing_basis`` (all of them are counted)
MISSING_BASIS_SHOWN = 200
#: example records kept per blocking reason (``rule:category``), shown on the preview page
SAMPLES_PER_REASON = 3


@dataclass(frozen=True)
class Record:
    """One record still to call, as the preview reads it."""

    contact_id: int
    row: int
    list_name: str
    list_id: int
    number: str
    zones: tuple[str, ...]
    number_type: str


@dataclass
class Facts:
    """Every stored fact the rules need about the campaign's numbers, grouped by number."""

    dnc: dict[str, list[DncEntry]] = field(default_factory=lambda: defaultdict(list))
    consents: dict[str, list[ConsentRecord]] = field(default_factory=lambda: defaultdict(list))
    attempts: dict[str, list[CapAttempt]] = field(default_factory=lambda: defaultdict(list))


def _callable(campaign_id: int) -> Any:
    from lists.models import Contact

    return sa.and_(
        col(Contact.campaign_id) == campaign_id,
        col(Contact.suppressed).is_(False),
        col(Contact.status).in_(("new", "retry")),
    )


def records(db: Engine, campaign_id: int) -> list[Record]:
    """The campaign's records still to call, in contact order."""
    from lists.models import CallList, Contact

    with session_scope(db) as s:
        rows = s.execute(
            sa.select(
                col(Contact.id),
                col(Contact.row_number),
                col(CallList.name),
                col(Contact.list_id),
                col(Contact.primary_number),
                col(Contact.timezones),
                col(Contact.number_type),
            )
            .join(CallList, col(CallList.id) == col(Contact.list_id))
            .where(_callable(campaign_id))
            .order_by(col(Contact.id))
        )
        return [Record(c, r, ln, li, n, tuple(z or ()), t) for c, r, ln, li, n, z, t in rows]


def facts_for(db: Engine, campaign_id: int, at: datetime, seller: str) -> Facts:
    """One query per rule family for all the campaign's callable numbers: DNC (rules 8, 9),
    consent (rules 10, 26), attempt history of the last ``gate.HISTORY`` (caps, rules
    13-16, 21, 29) — what :meth:`DbGate.context` reads for one number, for all of them."""
    from compliance.gate import HISTORY, _cap_outcome
    from compliance.models import ConsentEvent
    from compliance.models import DncEntry as DncRow
    from dialer.models import Attempt
    from lists.models import Contact

    numbers = sa.select(col(Contact.primary_number)).where(_callable(campaign_id))
    facts = Facts()
    with session_scope(db) as s:
        for d in s.execute(sa.select(DncRow).where(col(DncRow.number).in_(numbers))).scalars():
            facts.dnc[d.number].append(store.core_dnc(d))
        consents = (
            sa.select(ConsentEvent)
            .where(col(ConsentEvent.number).in_(numbers))
            .order_by(col(ConsentEvent.at))  # as consents_for: the latest counts
        )
        for c in s.execute(consents).scalars():
            facts.consents[c.number].append(store.core_consent(c))
        history = sa.select(Attempt).where(
            col(Attempt.number).in_(numbers), col(Attempt.created_at) > at - HISTORY
        )
        for a in s.execute(history).scalars():
            facts.attempts[a.number].append(
                CapAttempt(
                    as_utc(a.created_at),
                    a.number,
                    seller,
                    None,
                    _cap_outcome(a),
                    str(a.campaign_id),
                )
            )
    return facts


def decisions(gate: DbGate, at: datetime) -> Iterator[tuple[Record, Decision]]:
    """Each record of the gate's campaign still to call, with the decision a dial at ``at``
    would get (no cap slots taken, nothing audited)."""
    db, campaign_id = gate.db, gate.facts.campaign_id
    dates = store.registry_dates(db)
    facts = facts_for(db, campaign_id, at, gate.facts.seller)
    abandon = gate.abandon_readings(at)
    for r in records(db, campaign_id):
        request = gate.request(r.number, r.zones, r.number_type, gate.list_bases(r.list_id))
        context = Context(
            rulesets=gate.rulesets,
            policy=gate.facts.policy,
            internal_dnc=tuple(facts.dnc.get(r.number, ())),
            registry_snapshots=dates,
            registry_hits=gate.registry_hits(r.number, dates),
            consents=tuple(facts.consents.get(r.number, ())),
            attempts=tuple(facts.attempts.get(r.number, ())),
            abandon=abandon,
        )
        yield r, check(request, context, at)


def preview_report(
    db: Engine, campaign_id: int, at: datetime, until: datetime
) -> tuple[Summary, dict[str, Any]]:
    """The preview's summary, plus the campaign's purpose, the records blocked for want of a
    lawful basis (each with the basis it misses, issue 16) and a few example records for
    every blocking reason (``samples``: ``rule:category`` → records)."""
    from compliance.gate import gate_for

    gate = gate_for(db, campaign_id)
    missing: list[dict[str, Any]] = []
    samples: dict[str, list[dict[str, Any]]] = {}
    total = 0

    def each() -> Iterator[Decision]:
        nonlocal total
        for r, d in decisions(gate, at):
            shown = {"contact_id": r.contact_id, "list": r.list_name, "list_id": r.list_id,
                     "row": r.row, "number": r.number}  # fmt: skip
            for reason in d.reasons:
                got = samples.setdefault(f"{reason.rule}:{reason.category}", [])
                if len(got) < SAMPLES_PER_REASON and all(g["contact_id"] != r.contact_id
                                                         for g in got):  # fmt: skip
                    got.append({**shown, "detail": reason.detail})
            basis = [
                x
                for x in d.reasons
                if x.category is Category.CONSENT and "lawful basis" in x.detail
            ]
            if basis:
                total += 1
                if len(missing) < MISSING_BASIS_SHOWN:
                    missing.append({**shown, "rule": basis[0].rule, "missing": basis[0].detail})
            yield d

    summary = summarize(each(), until)
    extra = {
        "purpose": gate.facts.call_purpose.value,
        "missing_basis_total": total,
        "missing_basis": missing,
        "samples": samples,
    }
    return summary, extra
