"""Making pushed orders, return visits and callbacks dialable: the contact rows the hopper reads.

The dialing engine only picks records from ``contacts`` (dialer/hopper.py ``claim``: due
callbacks first, then the earliest deadline, then priority, then fewest attempts). Orders
(``POST /api/orders``) and return-visit tasks (``POST /api/return-visits``) become contacts of
a per-campaign API list (lists/store.py ``api_list``) in the same transaction as their own row;
a callback sets its contact's ``callback_at`` in the same transaction as the callback row.

Every function here runs inside the caller's session, so nothing commits half a change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from compliance.errors import InvalidNumberInput
from compliance.numbers import candidate_zones
from compliance.store import normalize
from lists import phone
from lists import store as list_store
from lists.models import Contact
from outdial.errors import InvalidInput
from outdial.models import as_utc

#: list names for API pushes (one list per campaign and name)
ORDERS_LIST = "orders"
RETURN_VISITS_LIST = "return_visits"
#: contact states the engine owns while a call is in flight: leave their status alone
IN_FLIGHT = ("dialing", "wrap")
#: a contact no verdict, task or callback should reopen (rule 8: do-not-call)
NEVER = ("suppressed",)


@dataclass(frozen=True)
class Number:
    e164: str
    kind: str  # lists/phone.py type name: mobile, fixed_line, ...
    zones: tuple[str, ...]  # candidate zones (rule 32); "Etc/Unknown" blocks (rule 33)


def number(raw: str, region: str, what: str) -> Number:
    """A pushed number as E.164 with its line type and candidate time zones, or InvalidInput.

    A possible but invalid number is kept: its zones are ``Etc/Unknown``, which the
    compliance gate blocks (rule 33), rather than refusing the order system's push.
    """
    try:
        e164 = normalize(raw, region or "CN")
    except InvalidNumberInput as exc:
        raise InvalidInput(f"{what}: {exc.message}", field="phone") from exc
    got = phone.analyze(e164, region or "CN")
    kind = "unknown" if isinstance(got, str) else got[1]
    return Number(e164, kind, candidate_zones(e164))


def orders_list(source: str) -> str:
    """One API list per order source: ``(source, external_id)`` is an order's key."""
    return ORDERS_LIST if source == "default" else f"{ORDERS_LIST}:{source}"[:128]


def find(s: Session, campaign_id: int, list_name: str, e164: str, key: str) -> Contact | None:
    """The API contact of ``key`` (order_id column) for a number, through the campaign index."""
    list_id, _ = list_store.api_list(s, campaign_id, list_name)
    q = select(Contact).where(
        Contact.campaign_id == campaign_id,
        Contact.primary_number == e164,
        Contact.list_id == list_id,
        Contact.order_id == key,
    )
    return s.exec(q.order_by(col(Contact.id))).first()


def add(
    s: Session,
    campaign_id: int,
    list_name: str,
    num: Number,
    *,
    key: str,
    name: str,
    address: str,
    custom: dict[str, str],
    deadline_at: datetime | None = None,
    next_due_at: datetime | None = None,
) -> Contact:
    """A new dialable contact on the campaign's API list (suppressed if on the DNC list)."""
    list_id, job_id = list_store.api_list(s, campaign_id, list_name)
    on_dnc = bool(list_store.dnc_numbers(s.connection(), [num.e164]))  # rule 8, as an import
    row = Contact(
        list_id=list_id,
        campaign_id=campaign_id,
        job_id=job_id,
        row_number=list_store.next_api_row(s, job_id),
        primary_number=num.e164,
        number_type=num.kind,
        timezones=list(num.zones),
        name=name[:255],
        order_id=key[:128],
        address=address,
        custom=custom,
        suppressed=on_dnc,
        status="suppressed" if on_dnc else "new",
        deadline_at=deadline_at,
        next_due_at=next_due_at,
    )
    s.add(row)
    s.flush()
    return row


def end(s: Session, contact: Contact | None, outcome: str) -> None:
    """Stop dialing a contact: its order has a verdict, its task is done."""
    if contact is None or contact.status in NEVER:
        return
    contact.status, contact.callback_at = "done", None
    contact.last_outcome = outcome[:32]
    s.add(contact)


# --- orders ---------------------------------------------------------------------------------


def address_text(address: Mapping[str, Any]) -> str:
    text = address.get("text")
    if isinstance(text, str) and len(address) == 1:
        return text
    return " ".join(str(v) for v in address.values() if isinstance(v, str | int | float))


def order_custom(
    external_id: str, source: str, lines: Any, payment: Any, ship_by: datetime
) -> dict[str, str]:
    """What the agent's screen shows of an order (``custom`` holds strings; JSON for lists)."""
    return {
        "kind": "order",
        "external_id": external_id,
        "source": source,
        "lines": json.dumps(lines, ensure_ascii=False, sort_keys=True),
        "payment": json.dumps(payment, ensure_ascii=False, sort_keys=True),
        "ship_by": as_utc(ship_by).isoformat(),
    }


# --- callbacks ------------------------------------------------------------------------------


def by_ref(s: Session, campaign_id: int, ref: str) -> Contact | None:
    """The contact a callback's ``contact_ref`` names: a contact id (the IVR's), or a call id
    (an agent's disposition; ``call:`` prefix allowed) resolved through its attempt row."""
    ref = ref.strip()
    if not ref:
        return None
    contact_id: int | None = int(ref) if ref.isdigit() else None
    if contact_id is None:
        call_id = ref.removeprefix("call:")
        got = s.execute(
            sa.text("SELECT contact_id FROM attempts WHERE call_id = :c"), {"c": call_id}
        ).first()
        contact_id = int(got[0]) if got else None
    row = s.get(Contact, contact_id) if contact_id is not None else None
    return row if row is not None and row.campaign_id == campaign_id else None


def set_callback(
    s: Session,
    contact: Contact | None,
    due_at: datetime,
    owner_id: int | None = None,
    team: str | None = None,
) -> None:
    """Due callbacks go first in lead selection (hopper ``claim``); a contact in a call keeps
    its status (the call's end decides it) but keeps the callback time too. ``owner_id``: a
    personal callback's agent, whom the hopper waits for (issue 7); None for the team's.
    ``team``: a team callback's team, whose agents the hopper offers it to first
    (callback_times.team_callback_holder); None or "": anyone's."""
    if contact is None or contact.status in NEVER or contact.suppressed:
        return
    contact.callback_at = contact.next_due_at = due_at
    contact.callback_owner_id = owner_id
    contact.callback_team = (team or None) if owner_id is None else None
    if contact.status not in IN_FLIGHT:
        contact.status = "retry"
    s.add(contact)


def clear_callback(s: Session, contact: Contact | None, due_at: datetime) -> None:
    """Undo :func:`set_callback` for this callback's time (another time set since stays).

    A dial clears a due ``callback_at`` (hopper ``_advance``) but the callback stays open and
    personal until closed or handed to the team, so its owner is released here too."""
    if contact is None:
        return
    if contact.callback_at is None:
        if contact.callback_owner_id is not None or contact.callback_team is not None:
            contact.callback_owner_id = contact.callback_team = None
            s.add(contact)
        return
    if as_utc(contact.callback_at) != as_utc(due_at):
        return
    contact.callback_at = None
    contact.callback_owner_id = contact.callback_team = None
    if contact.next_due_at is not None and as_utc(contact.next_due_at) == as_utc(due_at):
        contact.next_due_at = None
    s.add(contact)


def release_owner(
    s: Session, contact: Contact | None, owner_id: int | None, team: str | None = None
) -> None:
    """A missed personal callback moved to the team (``team``: the agent's): that team's agents
    may take its contact now (anyone when "" or None; callback_times.team_callback_holder)."""
    if contact is None or owner_id is None or contact.callback_owner_id != owner_id:
        return
    contact.callback_owner_id = None
    contact.callback_team = team or None
    s.add(contact)
