"""Orders to verify (核单), their verdicts and the webhook outbox.

A verdict and the webhook row that carries it are written in one transaction (an outbox):
once ``set_verdict`` returns, the verdict is committed and will be delivered, even if the
process dies before the sender runs. Orders are idempotent on ``(source, external_id)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaigns import contacts, rules, verdicts
from campaigns.errors import VerdictAlreadySet
from campaigns.models import Campaign, CampaignSettings, Order, WebhookDelivery
from outdial.errors import InvalidInput, NotFound
from outdial.models import as_utc
from outdial.storage import session_scope


def order_json(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "campaign_id": o.campaign_id,
        "source": o.source,
        "external_id": o.external_id,
        "customer_name": o.customer_name,
        "phone": o.phone,
        "lines": o.lines,
        "address": o.address,
        "payment": o.payment,
        "ship_by": as_utc(o.ship_by).isoformat(),
        "verdict": o.verdict,
        "verdict_details": o.verdict_details,
        "verdict_at": as_utc(o.verdict_at).isoformat() if o.verdict_at else None,
    }


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "order_id": d.order_id,
        "url": d.url,
        "status": d.status,
        "attempts": d.attempts,
        "next_at": as_utc(d.next_at).isoformat(),
        "last_error": d.last_error,
        "payload": d.payload,
    }


def _aware(value: object, name: str) -> datetime:
    try:
        t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 time with offset", field=name) from exc
    if t.tzinfo is None:
        raise InvalidInput(f"{name} needs a UTC offset, e.g. 2026-01-02T18:00:00+08:00", field=name)
    return as_utc(t)


def _order_row(campaign_id: int, source: str, raw: Mapping[str, Any]) -> Order:
    ext = str(raw.get("external_id", "")).strip()
    if not ext:
        raise InvalidInput("every order needs an external_id", field="external_id")
    phone = str(raw.get("phone", "")).strip()
    if not phone:
        raise InvalidInput(f"order {ext}: a phone number is required", field="phone")
    lines, address, payment = raw.get("lines", []), raw.get("address", {}), raw.get("payment", {})
    if not isinstance(lines, list) or not lines:
        raise InvalidInput(f"order {ext}: lines must be a non-empty list", field="lines")
    if isinstance(address, str):
        address = {"text": address}
    if not isinstance(address, dict) or not isinstance(payment, dict):
        raise InvalidInput(f"order {ext}: address and payment are objects", field="address")
    return Order(
        campaign_id=campaign_id,
        source=source,
        external_id=ext,
        customer_name=str(raw.get("customer_name", "")),
        phone=phone,
        lines=lines,
        address=address,
        payment=payment,
        ship_by=_aware(raw.get("ship_by", ""), "ship_by"),
    )


def upsert_orders(
    engine: Engine, campaign: Campaign, orders: Sequence[Mapping[str, Any]], source: str = "default"
) -> list[tuple[Order, bool]]:
    """Store orders, each with its dialable contact (campaigns/contacts.py) in one transaction.

    An external id already stored for the source is returned with ``created`` False; if it
    changed and has no verdict yet, the order and its contact take the new values. Every
    order (and its number) is validated before any is written, so a bad batch writes nothing.
    """
    if campaign.kind != rules.Kind.ORDER_VERIFICATION:
        raise InvalidInput(f"campaign {campaign.name!r} is not an order-verification campaign")
    rows = [_order_row(campaign.id or 0, source, o) for o in orders]
    numbers = [contacts.number(r.phone, campaign.region, f"order {r.external_id}") for r in rows]
    out: list[tuple[Order, bool]] = []
    for row, num in zip(rows, numbers, strict=True):
        try:
            out.append(_upsert(engine, row, num, campaign.region))
        except IntegrityError:  # a concurrent push of the same order won: update it instead
            out.append(_upsert(engine, row, num, campaign.region))
    return out


_FIELDS = ("customer_name", "phone", "lines", "address", "payment", "ship_by")


def _upsert(engine: Engine, new: Order, num: contacts.Number, region: str) -> tuple[Order, bool]:
    with session_scope(engine) as s:
        q = select(Order).where(Order.source == new.source, Order.external_id == new.external_id)
        if s.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            q = q.with_for_update()
        old = s.exec(q).first()
        if old is None:
            row = Order(**new.model_dump())
            s.add(row)
            s.flush()
            s.refresh(row)
            _sync_contact(s, row, None, num)
            return row, True
        changed = [f for f in _FIELDS if _value(old, f) != _value(new, f)]
        if old.verdict is not None or not changed:
            return old, False
        previous = contacts.number(old.phone, region, f"order {old.external_id}")
        for f in changed:
            setattr(old, f, getattr(new, f))
        s.add(old)
        s.flush()
        _sync_contact(s, old, previous, num)
        return old, False


def _value(o: Order, field: str) -> Any:
    v = getattr(o, field)
    return as_utc(v) if isinstance(v, datetime) else v


def _sync_contact(
    s: Session, order: Order, previous: contacts.Number | None, num: contacts.Number
) -> None:
    """Create the order's contact, or bring it up to date (a contact in a call keeps its
    status; the engine settles it when the call ends)."""
    list_name = contacts.orders_list(order.source)
    found = (
        contacts.find(s, order.campaign_id, list_name, previous.e164, order.external_id)
        if previous
        else None
    )
    custom = contacts.order_custom(
        order.external_id, order.source, order.lines, order.payment, order.ship_by
    )
    if found is None:
        contacts.add(
            s,
            order.campaign_id,
            list_name,
            num,
            key=order.external_id,
            name=order.customer_name,
            address=contacts.address_text(order.address),
            custom=custom,
            deadline_at=as_utc(order.ship_by),
        )
        return
    found.primary_number, found.number_type, found.timezones = num.e164, num.kind, list(num.zones)
    found.name, found.address = order.customer_name[:255], contacts.address_text(order.address)
    found.custom, found.deadline_at = custom, as_utc(order.ship_by)
    s.add(found)


def _end_contact(s: Session, order: Order, region: str) -> None:
    """An order with a verdict is not dialed again (its contact is done)."""
    try:
        num = contacts.number(order.phone, region, f"order {order.external_id}")
    except InvalidInput:
        return  # stored before orders made contacts: it has none
    list_name = contacts.orders_list(order.source)
    found = contacts.find(s, order.campaign_id, list_name, num.e164, order.external_id)
    contacts.end(s, found, f"verdict_{order.verdict}")


def get_order(engine: Engine, external_id: str, source: str = "default") -> Order:
    with session_scope(engine) as s:
        row = s.exec(
            select(Order).where(Order.source == source).where(Order.external_id == external_id)
        ).first()
    if row is None:
        raise NotFound(f"no order {external_id!r} from {source!r}", external_id=external_id)
    return row


def _enqueue(s: Session, order: Order, now: datetime) -> None:
    campaign = s.get(Campaign, order.campaign_id)
    settings = s.get(CampaignSettings, order.campaign_id)
    url = str((settings.spec if settings else {}).get("webhook_url", ""))
    if not url or campaign is None:
        return
    event_id = uuid.uuid4().hex
    payload = {
        "event": "order.verdict",
        "event_id": event_id,
        "campaign": campaign.name,
        "source": order.source,
        "external_id": order.external_id,
        "verdict": order.verdict,
        **order.verdict_details,
        "verdict_at": as_utc(order.verdict_at or now).isoformat(),
    }
    s.add(
        WebhookDelivery(
            event_id=event_id, order_id=order.id or 0, url=url, payload=payload, next_at=now
        )
    )


def set_verdict(
    engine: Engine,
    external_id: str,
    data: Mapping[str, object],
    now: datetime,
    agent_id: int | None = None,
    source: str = "default",
) -> tuple[Order, bool]:
    """Record a verdict and queue its webhook in one transaction; (order, created).

    Sending the same verdict again is a no-op (a client retry); a different one is refused.
    """
    verdict = verdicts.parse_verdict(data)
    order = get_order(engine, external_id, source)
    with session_scope(engine) as s:
        row = s.get(Order, order.id)
        assert row is not None
        s.refresh(row, with_for_update=s.bind.dialect.name == "postgresql")  # type: ignore[union-attr]
        if row.verdict is not None:
            same = row.verdict == verdict.verdict and row.verdict_details == verdict.details()
            if same:
                return row, False
            raise VerdictAlreadySet(
                f"order {external_id} already has verdict {row.verdict!r}", verdict=row.verdict
            )
        row.verdict, row.verdict_details = verdict.verdict.value, verdict.details()
        row.verdict_at, row.verdict_by = now, agent_id
        s.add(row)
        s.flush()
        _enqueue(s, row, now)
        campaign = s.get(Campaign, row.campaign_id)
        _end_contact(s, row, campaign.region if campaign else "CN")
    return row, True


def expire_overdue(engine: Engine, now: datetime) -> list[str]:
    """Orders past their ship-by deadline without a verdict become unreachable (issue 7)."""
    done: list[str] = []
    with session_scope(engine) as s:
        q = select(Order).where(col(Order.verdict).is_(None)).where(col(Order.ship_by) <= now)
        for row in list(s.exec(q)):
            if verdicts.overdue(as_utc(row.ship_by), row.verdict, now):
                row.verdict = verdicts.Verdict.UNREACHABLE.value
                row.verdict_details = {"changes": {}, "reason": "deadline passed"}
                row.verdict_at = now
                s.add(row)
                s.flush()
                _enqueue(s, row, now)
                campaign = s.get(Campaign, row.campaign_id)
                _end_contact(s, row, campaign.region if campaign else "CN")
                done.append(row.external_id)
    return done


# --- the outbox -----------------------------------------------------------------------------


def due_deliveries(engine: Engine, now: datetime, limit: int = 20) -> list[WebhookDelivery]:
    with session_scope(engine) as s:
        q = (
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .where(col(WebhookDelivery.next_at) <= now)
            .order_by(col(WebhookDelivery.next_at))
            .limit(limit)
        )
        return list(s.exec(q))


def record_attempt(
    engine: Engine, delivery_id: int, now: datetime, error: str | None, jitter: float
) -> WebhookDelivery:
    """Store one attempt's result: delivered, or the next try per verdicts.webhook_retry_at, or
    dead once the 24 h schedule is spent."""
    with session_scope(engine) as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        d.attempts += 1
        first = as_utc(d.first_at) if d.first_at else now
        d.first_at = first
        if error is None:
            d.status, d.delivered_at, d.last_error = "delivered", now, ""
        else:
            d.last_error = error[:2000]
            nxt = verdicts.webhook_retry_at(d.attempts, first, now, jitter)
            if nxt is None:
                d.status = "dead"
            else:
                d.next_at = nxt
        s.add(d)
        s.flush()
        s.refresh(d)
    return d


def deliveries(engine: Engine, status: str | None = None) -> list[WebhookDelivery]:
    q = select(WebhookDelivery)
    if status:
        q = q.where(WebhookDelivery.status == status)
    with session_scope(engine) as s:
        return list(s.exec(q.order_by(col(WebhookDelivery.id))))


def resend(engine: Engine, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Put a dead (or delivered) delivery back in the queue with a fresh 24 h schedule."""
    with session_scope(engine) as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:
            raise NotFound(f"no webhook delivery {delivery_id}", delivery_id=delivery_id)
        d.status, d.first_at, d.next_at, d.attempts = "pending", None, now, 0
        s.add(d)
        s.flush()
        s.refresh(d)
    return d


def webhook_secret(engine: Engine, order_id: int, operator: Mapping[str, str] | None = None) -> str:
    """The operator's secret for the order's campaign if one is configured, else outdial's."""
    with session_scope(engine) as s:
        order = s.get(Order, order_id)
        settings = s.get(CampaignSettings, order.campaign_id) if order else None
        campaign = s.get(Campaign, order.campaign_id) if order else None
    if campaign is not None and operator and operator.get(campaign.name):
        return operator[campaign.name]
    return settings.webhook_secret if settings else ""
