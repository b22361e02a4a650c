"""campaigns/callbacks.py: a callback the agent served is done, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from campaigns import callbacks, rules, store

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai


def test_a_served_callback_leaves_the_pending_list(engine: Engine) -> None:
    spec = rules.parse_campaign({"name": "cb", "caller_id": "+861012345678"})
    cid = store.save_spec(engine, spec)[0].id or 0
    phone = "+8613800000001"

    def make(hour: int, key: str) -> int:
        cb, _ = callbacks.schedule(
            engine, cid, phone, datetime(2026, 3, 2, hour), "Asia/Shanghai", NOW,
            owner_kind="team", idempotency_key=key,
        )  # fmt: skip
        return cb.id or 0

    first, second, own = make(11, "a"), make(15, "b"), make(12, "disposition:call-1")
    other, _ = callbacks.schedule(
        engine, cid, "+8613800000002", datetime(2026, 3, 2, 11), "Asia/Shanghai", NOW,
        owner_kind="team",
    )  # fmt: skip
    at = NOW + timedelta(hours=2, minutes=30)  # 12:30 local: 11:00 and 12:00 were due
    assert callbacks.served(engine, cid, phone, at, keep_key="disposition:call-1") == [first]
    pending = [c.id for c in callbacks.list_callbacks(engine)]
    assert pending == [other.id, own, second]  # another number's, the kept one, a later one
    done = callbacks.get(engine, first)
    assert done.status == "done" and done.closed_at is not None
    assert callbacks.served(engine, cid, phone, at) == [own]
