"""What the agent's desk reads and keeps (dialer/desk.py), on SQLite and PostgreSQL: drafts,
today's counts, the call waiting for a disposition, own calls only, callbacks due, a
callback handed to the team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dialdata
import pytest
from sqlalchemy.engine import Engine

from campaigns import callbacks
from dialer import desk
from dialer.board import day_start
from dialer.errors import NotYourCall
from dialer.models import Attempt
from outdial import auth
from outdial.errors import InvalidInput, NotFound
from outdial.roles import Role
from outdial.storage import session_scope

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def attempt(engine: Engine, cid: int, contact: int, call_id: str, agent: int, **kw: object) -> None:
    with session_scope(engine) as s:
        s.add(
            Attempt(
                call_id=call_id, campaign_id=cid, contact_id=contact, number="+8613800100001",
                agent_user_id=agent, created_at=NOW, **kw,
            )
        )  # fmt: skip


def test_the_desk_reads_and_keeps(engine: Engine) -> None:
    li = auth.create_user(engine, "li", "password-123", Role.AGENT).id or 0
    wang = auth.create_user(engine, "wang", "password-123", Role.AGENT).id or 0
    cid = dialdata.campaign_with_contacts(engine, "desk", ["+8613800100001"])
    (contact,) = dialdata.rows(engine, "SELECT id FROM contacts")
    at = NOW - timedelta(minutes=10)
    attempt(
        engine, cid, contact.id, "c1", li, bridged_at=at, ended_at=at + timedelta(seconds=90),
        talk_seconds=None, disposition="success", disposition_at=at + timedelta(seconds=120),
        notes="上次客户在开会",
    )  # fmt: skip
    attempt(engine, cid, contact.id, "c2", li, bridged_at=NOW - timedelta(minutes=1))

    # today: two calls; talk from bridged to end when the engine kept none; AHT with wrap-up
    counts = desk.today_counts(engine, li, day_start(NOW, "Asia/Shanghai"))
    assert (counts.calls, counts.talk_seconds) == (2, 90.0)
    assert counts.handle_seconds == 120.0 and counts.aht_seconds == 60.0
    assert desk.today_counts(engine, wang, day_start(NOW, "Asia/Shanghai")).calls == 0

    # the call still waiting for its disposition; only the agent's own
    assert desk.pending_call(engine, li) == "c2"
    assert desk.pending_call(engine, wang) is None
    att = desk.own_attempt(engine, li, "c2", None)
    with pytest.raises(NotYourCall):
        desk.own_attempt(engine, wang, "c2", None)
    assert desk.own_attempt(engine, wang, "c2", "c2").call_id == "c2"  # live on their phone
    with pytest.raises(NotFound):
        desk.own_attempt(engine, li, "nope", None)

    # the screen pop: masked number, earlier notes, the zone of the customer
    view = desk.call_view(engine, att)
    assert view["number"].endswith("0001") and "13800100001" not in view["number"]
    (earlier,) = view["history"]
    assert earlier["notes"] == "上次客户在开会" and earlier["outcome"] == "Success / 成功"
    assert view["zone"] == "Asia/Shanghai" and view["window"] == "09:00-20:00"

    # drafts: the latest wins, per agent and call; too large is refused
    desk.save_draft(engine, li, "c2", {"notes": "一"}, NOW)
    desk.save_draft(engine, li, "c2", {"notes": "一二", "verdict": "changed"}, NOW)
    assert desk.draft_of(engine, li, "c2") == {"notes": "一二", "verdict": "changed"}
    assert desk.draft_of(engine, wang, "c2") == {}
    with pytest.raises(InvalidInput):
        desk.save_draft(engine, li, "c2", {"notes": "x" * (desk.DRAFT_MAX + 1)}, NOW)
    desk.drop_draft(engine, li, "c2")
    assert desk.draft_of(engine, li, "c2") == {}


def test_callbacks_due_are_the_agents_own(engine: Engine) -> None:
    li = auth.create_user(engine, "li", "password-123", Role.AGENT).id or 0
    wang = auth.create_user(engine, "wang", "password-123", Role.AGENT).id or 0
    cid = dialdata.campaign_with_contacts(engine, "cb", ["+8613800100001"])
    (contact,) = dialdata.rows(engine, "SELECT id FROM contacts")
    attempt(engine, cid, contact.id, "c9", li, bridged_at=NOW)
    today = datetime(2026, 12, 7, 16, 0)  # customer-local
    for owner, when, ref in ((li, today, "call:c9"), (li, today + timedelta(days=1), ""),
                             (wang, today, "")):  # fmt: skip
        callbacks.schedule(
            engine, cid, "+8613800100001", when, "Asia/Shanghai", NOW,
            owner_kind="agent", owner_id=owner, created_by=owner, contact_ref=ref,
        )  # fmt: skip
    end = desk.end_of_day(NOW, "Asia/Shanghai")
    assert end == datetime(2026, 12, 8, tzinfo=ZoneInfo("Asia/Shanghai"))
    (due,) = desk.callbacks_due(engine, li, end)  # li's own, today only
    assert due.local_time == "2026-12-07T16:00"
    callbacks.schedule(
        engine, cid, "+8613800100001", today, "Asia/Shanghai", NOW,
        owner_kind="team", created_by=li, contact_ref="call:c9",
    )  # fmt: skip
    # a team callback is on the desk of every agent of the team (li and wang are in none)
    own, team = desk.callbacks_due(engine, li, end)
    assert (own.owner_kind, team.owner_kind) == ("agent", "team")
    assert [c.owner_kind for c in desk.callbacks_due(engine, wang, end)] == ["agent", "team"]
    auth.set_team(engine, "wang", "B")  # now in another team than li's
    assert [c.owner_kind for c in desk.callbacks_due(engine, wang, end)] == ["agent"]


def test_todays_counts_start_at_local_midnight_on_both_backends(engine: Engine) -> None:
    """Calls bridged after midnight in Shanghai (16:00 UTC) count on SQLite too."""
    li = auth.create_user(engine, "li-midnight", "password-123", Role.AGENT).id or 0
    cid = dialdata.campaign_with_contacts(engine, "desk-midnight", ["+8613800100001"])
    (contact,) = dialdata.rows(engine, "SELECT id FROM contacts")
    now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 01:00 on 8 December in Shanghai
    attempt(engine, cid, contact.id, "m1", li, bridged_at=datetime(2026, 12, 7, 16, 30, tzinfo=UTC))
    attempt(engine, cid, contact.id, "m2", li, bridged_at=datetime(2026, 12, 7, 15, 30, tzinfo=UTC))
    assert desk.today_counts(engine, li, day_start(now, "Asia/Shanghai")).calls == 1


def test_drafts_saved_at_once_for_a_new_call_keep_one_row(engine: Engine) -> None:
    """The desk saves the notes and the callback time as each changes: two saves of a new
    draft at once once raised a unique-key error (a 500 on the page) instead of updating."""
    import threading

    li = auth.create_user(engine, "li-drafts", "password-123", Role.AGENT).id or 0
    errors: list[BaseException] = []
    for call in range(5):
        start = threading.Barrier(6)

        def save(n: int, call_id: str = f"race{call}", gate: threading.Barrier = start) -> None:
            gate.wait()
            try:
                desk.save_draft(engine, li, call_id, {"notes": str(n)}, NOW)
            except BaseException as exc:  # collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert desk.draft_of(engine, li, f"race{call}")["notes"] in {str(n) for n in range(6)}
    assert errors == []
