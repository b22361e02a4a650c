"""Pushed orders, return visits and callbacks become the contacts the hopper dials
(campaigns/contacts.py), on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns import callbacks, orders, return_visits, rules, store
from dialer import hopper
from lists import store as list_store
from lists.models import CallList, Contact, ImportJob
from outdial.errors import InvalidInput
from outdial.models import as_utc
from outdial.storage import session_scope

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai
SHIP_BY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ORDER = {
    "external_id": "SO-1",
    "customer_name": "王女士",
    "phone": "13800000001",  # national form: normalized with the campaign's region
    "lines": [{"sku": "KT-1", "qty": 1}],
    "address": "上海市浦东新区",
    "payment": {"method": "cod", "amount": "199.00"},
    "ship_by": "2026-03-03T18:00:00+08:00",
}


def make(engine: Engine, kind: str = "order_verification", **extra: object) -> int:
    spec = rules.parse_campaign(
        {"name": f"c-{kind}", "kind": kind, "caller_id": "+861012345678", **extra}
    )
    row, _ = store.save_spec(engine, spec)
    assert row.id is not None
    return row.id


def contacts_of(engine: Engine, cid: int) -> list[Contact]:
    with session_scope(engine) as s:
        q = select(Contact).where(Contact.campaign_id == cid).order_by(col(Contact.id))
        return list(s.exec(q))


def test_api_list_is_one_ready_list_and_one_job_per_campaign_and_name(engine: Engine) -> None:
    cid = make(engine)
    with session_scope(engine) as s:
        first = list_store.api_list(s, cid)
    with session_scope(engine) as s:
        assert list_store.api_list(s, cid) == first
        other = list_store.api_list(s, cid, "return_visits")
    assert other != first
    cl = list_store.get_list(engine, first[0])
    assert (cl.name, cl.status, cl.campaign_id) == ("orders", "ready", cid)
    assert list_store.get_job(engine, first[1]).status == "done"
    with session_scope(engine) as s:
        assert len(list(s.exec(select(CallList)))) == 2
        assert len(list(s.exec(select(ImportJob)))) == 2


def test_a_pushed_order_is_a_dialable_contact_once(engine: Engine) -> None:
    cid = make(engine)
    campaign = store.get(engine, cid)
    [(o, created)] = orders.upsert_orders(engine, campaign, [ORDER])
    [(_, again)] = orders.upsert_orders(engine, campaign, [ORDER])
    assert created and not again
    [c] = contacts_of(engine, cid)
    assert c.primary_number == "+8613800000001" and c.number_type == "mobile"
    assert c.timezones == ["Asia/Shanghai"] and c.status == "new"
    assert (c.name, c.order_id, c.address) == ("王女士", "SO-1", "上海市浦东新区")
    assert c.deadline_at is not None and as_utc(c.deadline_at) == SHIP_BY
    assert json.loads(c.custom["lines"]) == ORDER["lines"]
    assert json.loads(c.custom["payment"]) == ORDER["payment"]
    assert list_store.get_job(engine, c.job_id).rows_done == 1
    [lead] = hopper.claim(engine, cid, 5, NOW)
    assert lead.contact_id == c.id and lead.data["order_id"] == "SO-1"
    assert o.phone == "13800000001"  # the order keeps what the order system sent


def test_a_changed_order_updates_its_contact_until_the_verdict(engine: Engine) -> None:
    cid = make(engine)
    campaign = store.get(engine, cid)
    orders.upsert_orders(engine, campaign, [ORDER])
    changed = {**ORDER, "phone": "+8613900000002", "ship_by": "2026-03-04T18:00:00+08:00"}
    [(o, created)] = orders.upsert_orders(engine, campaign, [changed])
    assert not created and o.phone == "+8613900000002"
    [c] = contacts_of(engine, cid)
    assert c.primary_number == "+8613900000002"
    assert c.deadline_at is not None and as_utc(c.deadline_at) == SHIP_BY + timedelta(days=1)
    orders.set_verdict(engine, "SO-1", {"verdict": "confirmed"}, NOW)
    [c] = contacts_of(engine, cid)
    assert c.status == "done" and c.last_outcome == "verdict_confirmed"
    [(o2, _)] = orders.upsert_orders(engine, campaign, [ORDER])  # after the verdict: unchanged
    assert o2.phone == "+8613900000002" and len(contacts_of(engine, cid)) == 1
    assert hopper.claim(engine, cid, 5, NOW) == []


def test_a_verdict_during_the_call_keeps_the_contact_done(engine: Engine) -> None:
    cid = make(engine)
    orders.upsert_orders(engine, store.get(engine, cid), [ORDER])
    [lead] = hopper.claim(engine, cid, 1, NOW)
    hopper.open_attempt(engine, "call-1", cid, lead, "n1", NOW)
    orders.set_verdict(engine, "SO-1", {"verdict": "cancelled", "reason": "不要了"}, NOW)
    done = hopper.Finished("call-1", "completed", "bye", 200, "", False, None, None)
    hopper.close_attempt(engine, done, rules.RetryPolicy(), NOW + timedelta(minutes=2))
    hopper.record_disposition(engine, "call-1", "cb", False, NOW + timedelta(hours=2), "", NOW)
    [c] = contacts_of(engine, cid)
    assert c.status == "done" and c.attempts == 1 and c.callback_at is None
    assert hopper.remaining(engine, cid) == 0


def test_an_overdue_order_ends_its_contact(engine: Engine) -> None:
    cid = make(engine)
    orders.upsert_orders(engine, store.get(engine, cid), [ORDER])
    assert orders.expire_overdue(engine, SHIP_BY) == ["SO-1"]
    [c] = contacts_of(engine, cid)
    assert c.status == "done" and c.last_outcome == "verdict_unreachable"


def test_a_bad_number_in_a_batch_writes_nothing(engine: Engine) -> None:
    cid = make(engine)
    bad = {**ORDER, "external_id": "SO-2", "phone": "12"}
    with pytest.raises(InvalidInput, match="SO-2"):
        orders.upsert_orders(engine, store.get(engine, cid), [ORDER, bad])
    assert contacts_of(engine, cid) == []
    with pytest.raises(Exception, match="no order"):
        orders.get_order(engine, "SO-1")


def test_orders_from_two_sources_with_one_id_are_two_contacts(engine: Engine) -> None:
    cid = make(engine)
    campaign = store.get(engine, cid)
    orders.upsert_orders(engine, campaign, [ORDER])
    orders.upsert_orders(engine, campaign, [ORDER], source="shop-b")
    orders.set_verdict(engine, "SO-1", {"verdict": "confirmed"}, NOW, source="shop-b")
    statuses = sorted(c.status for c in contacts_of(engine, cid))
    assert statuses == ["done", "new"]


def test_return_visits_are_contacts_due_at_the_task(engine: Engine) -> None:
    cid = make(engine, "return_visit", return_visit_delay_days=3)
    task = {
        "external_id": "R1",
        "customer_name": "李先生",
        "phone": "+8613800000002",
        "subject": "洗衣机安装",
        "happened_at": "2026-03-01T12:00:00+08:00",
    }
    [(t, _)] = return_visits.add_tasks(engine, store.get(engine, cid), [task])
    return_visits.add_tasks(engine, store.get(engine, cid), [task])
    [c] = contacts_of(engine, cid)
    due = datetime(2026, 3, 4, 4, 0, tzinfo=UTC)
    assert c.next_due_at is not None and as_utc(c.next_due_at) == due
    assert c.custom["subject"] == "洗衣机安装" and c.name == "李先生"
    assert hopper.claim(engine, cid, 5, due - timedelta(minutes=1)) == []
    [lead] = hopper.claim(engine, cid, 5, due)
    hopper.unclaim(engine, lead)
    return_visits.complete(engine, t.id or 0, "satisfied")
    assert contacts_of(engine, cid)[0].status == "done"


def test_callbacks_put_their_contact_first_when_due(engine: Engine) -> None:
    cid = make(engine)
    campaign = store.get(engine, cid)
    early = {**ORDER, "external_id": "SO-9", "phone": "+8613800000009", "ship_by": NOW.isoformat()}
    orders.upsert_orders(engine, campaign, [ORDER, early])
    c1 = contacts_of(engine, cid)[0]
    cb, _ = callbacks.schedule(
        engine, cid, c1.primary_number, datetime(2026, 3, 2, 15, 0), "Asia/Shanghai", NOW,
        owner_kind="team", contact_ref=str(c1.id),
    )  # fmt: skip
    due = as_utc(cb.due_at)
    [c1] = [c for c in contacts_of(engine, cid) if c.id == c1.id]
    assert c1.status == "retry" and c1.callback_at and as_utc(c1.callback_at) == due
    [before] = hopper.claim(engine, cid, 1, NOW)  # not due yet: the earliest deadline first
    assert before.contact_id != c1.id
    hopper.unclaim(engine, before)
    [first] = hopper.claim(engine, cid, 1, due)
    assert first.contact_id == c1.id  # due callback beats the earlier deadline
    hopper.unclaim(engine, first)

    later = callbacks.reschedule(engine, cb.id or 0, datetime(2026, 3, 3, 11, 0), NOW)
    [c1] = [c for c in contacts_of(engine, cid) if c.id == c1.id]
    assert c1.callback_at and as_utc(c1.callback_at) == as_utc(later.due_at)
    assert c1.next_due_at and as_utc(c1.next_due_at) == as_utc(later.due_at)
    callbacks.close(engine, cb.id or 0, "cancelled", NOW)
    [c1] = [c for c in contacts_of(engine, cid) if c.id == c1.id]
    assert c1.callback_at is None and c1.next_due_at is None


def test_a_callback_by_call_id_finds_the_contact_of_that_call(engine: Engine) -> None:
    cid = make(engine)
    orders.upsert_orders(engine, store.get(engine, cid), [ORDER])
    [lead] = hopper.claim(engine, cid, 1, NOW)
    hopper.open_attempt(engine, "call-7", cid, lead, "n1", NOW)
    callbacks.schedule(
        engine, cid, lead.number, datetime(2026, 3, 2, 16, 0), "Asia/Shanghai", NOW,
        owner_kind="team", contact_ref="call-7",
    )  # fmt: skip
    [c] = contacts_of(engine, cid)
    assert c.status == "dialing"  # in the call: its end decides the status
    assert c.callback_at is not None and as_utc(c.callback_at) == datetime(
        2026, 3, 2, 8, 0, tzinfo=UTC
    )
    with engine.begin() as conn:  # an unknown ref changes no contact
        before = conn.execute(sa.text("SELECT count(*) FROM contacts")).scalar_one()
    callbacks.schedule(
        engine, cid, lead.number, datetime(2026, 3, 2, 17, 0), "Asia/Shanghai", NOW,
        owner_kind="team", contact_ref="nope",
    )  # fmt: skip
    [c2] = contacts_of(engine, cid)
    assert before == 1 and c2.callback_at == c.callback_at
