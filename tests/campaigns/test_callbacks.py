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


def test_a_team_callback_is_due_on_every_desk_of_the_team_until_one_takes_it(
    engine: Engine,
) -> None:
    """Team A is li and wang, team B zhao: li's team callback (and li's missed personal one,
    moved to the team) is due on li's and wang's desks, not zhao's; li's personal one only on
    li's; once wang takes one it is wang's alone, and li taking it too is refused."""
    from zoneinfo import ZoneInfo

    import pytest

    from outdial import auth
    from outdial.errors import Conflict

    spec = rules.parse_campaign({"name": "cb", "caller_id": "+861012345678"})
    cid = store.save_spec(engine, spec)[0].id or 0
    ids = {}
    for name, team in (("li", "A"), ("wang", "A"), ("zhao", "B"), ("solo", "")):
        ids[name] = auth.create_user(engine, name, "password-1", "agent").id or 0
        auth.set_team(engine, name, team)

    def make(hour: int, kind: str, owner: int | None, by: int, day: int = 2) -> int:
        cb, _ = callbacks.schedule(
            engine, cid, f"+86138000000{hour:02d}", datetime(2026, 3, day, hour),
            "Asia/Shanghai", NOW, owner_kind=kind, owner_id=owner, created_by=by,
        )  # fmt: skip
        return cb.id or 0

    team = make(11, "team", None, ids["li"])
    personal = make(12, "agent", ids["li"], ids["li"])
    moved = make(13, "agent", ids["li"], ids["li"])
    zhaos = make(14, "team", None, ids["zhao"])
    tomorrow = make(10, "team", None, ids["li"], day=3)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE callbacks SET owner_kind = 'team' WHERE id = {moved}")
    # the end of the day in Shanghai, given in Shanghai time (SQLite must not compare wall times)
    until = datetime(2026, 3, 3, tzinfo=ZoneInfo("Asia/Shanghai"))

    def desk(name: str) -> list[int]:
        user = auth.get_user(engine, name)
        return [
            c.id or 0 for c in callbacks.due_on_desk(engine, user.id or 0, user.team, [], until)
        ]

    assert desk("li") == [personal, team, moved]  # own first, then the team's by time
    assert desk("wang") == [team, moved] and tomorrow not in desk("wang")
    assert desk("zhao") == [zhaos] and desk("solo") == []
    assert callbacks.due_on_desk(engine, ids["wang"], "A", [cid + 1], until) == []  # not his
    took = callbacks.take(engine, team, ids["wang"])
    assert (took.owner_kind, took.owner_id) == ("agent", ids["wang"])
    assert desk("li") == [personal, moved] and desk("wang") == [team, moved]
    assert callbacks.take(engine, team, ids["wang"]).owner_id == ids["wang"]  # again: no-op
    with pytest.raises(Conflict):
        callbacks.take(engine, team, ids["li"])
    with pytest.raises(Conflict):
        callbacks.take(engine, personal, ids["wang"])  # li's own is not the team's
    callbacks.close(engine, moved, "done", NOW)
    assert desk("li") == [personal] and desk("wang") == [team]


def test_an_agent_lists_their_own_and_their_teams_callbacks_only(engine: Engine) -> None:
    """GET /api/callbacks reads this list: li (team A) sees her own, her team's and the team
    callbacks li's team mate promised; zhao (team B) only B's; a manager (None) all. Another
    team's callback is absent to an agent: reading, moving or closing it is NotFound."""
    import pytest

    from outdial import auth
    from outdial.errors import NotFound

    spec = rules.parse_campaign({"name": "cb", "caller_id": "+861012345678"})
    cid = store.save_spec(engine, spec)[0].id or 0
    ids = {}
    for name, team in (("li", "A"), ("wang", "A"), ("zhao", "B"), ("solo", "")):
        ids[name] = auth.create_user(engine, name, "password-1", "agent").id or 0
        auth.set_team(engine, name, team)

    def make(hour: int, kind: str, owner: int | None, by: int) -> int:
        cb, _ = callbacks.schedule(
            engine, cid, f"+86138000000{hour:02d}", datetime(2026, 3, 2, hour),
            "Asia/Shanghai", NOW, owner_kind=kind, owner_id=owner, created_by=by,
        )  # fmt: skip
        return cb.id or 0

    a_team = make(11, "team", None, ids["wang"])
    li_own = make(12, "agent", ids["li"], ids["li"])
    b_team = make(13, "team", None, ids["zhao"])
    wang_own = make(14, "agent", ids["wang"], ids["wang"])

    def listed(name: str | None) -> list[int]:
        actor = None if name is None else ids[name]
        return [c.id or 0 for c in callbacks.list_callbacks(engine, actor)]

    assert listed("li") == [a_team, li_own]
    assert listed("wang") == [a_team, wang_own]
    assert listed("zhao") == [b_team] and listed("solo") == []
    assert listed(None) == [a_team, li_own, b_team, wang_own]
    with pytest.raises(NotFound):
        callbacks.get(engine, b_team, ids["li"])
    with pytest.raises(NotFound):
        callbacks.close(engine, a_team, "cancelled", NOW, ids["zhao"])
    assert callbacks.get(engine, a_team, ids["li"]).owner_kind == "team"
