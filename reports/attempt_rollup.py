"""Attempt measures rolled up once per closed 15-minute UTC slot (table ``report_attempt_slots``).

A month's report grouped every attempt row by a slot computed per row (``strftime`` on
SQLite) and sorted the result: 1 M attempts took 3.4 s quiet, 20 s on a loaded machine. Here
each closed slot is summed once per (campaign, agent, simulated, disposition) with the same
per-row terms as ``store.attempt_sums`` (``store.attempt_terms``), and a report by agent,
campaign or kind adds the rolled rows up, joining the campaign (kind, return visits) and the
disposition (success, final) as they are now. Slots the roll-up does not hold - the open ones,
the part of a slot cut by the report's start or end, dirty ones - come from ``attempts``.
Reports by list, region or a list column, and zones whose offset is not a whole number of
quarter hours (old local mean times: a 15-minute UTC slot would straddle two local
half-hours), are computed from ``attempts`` as before.

Staying exact. Attempt rows change after their slot closed (disposition in wrap-up or hours
later, a transfer, the agent set by crash recovery, a late insert from another node), and are
written by several code paths, so the database watches them: a trigger on ``attempts``
(migration 0007_rollup_attempt_slots) records the slot of any row inserted, updated or
deleted inside a *claimed* slot (below the ``attempts_watch`` mark) in
``report_dirty_attempt_slots``; a bridged attempt added or removed also dirties the slots of
its contact's later bridged attempts (first-contact resolution). No clock and no change column
is needed, whichever code path writes. A roll-up

1. claims the closed slots: moves the watch mark up to them. On PostgreSQL it takes an
   advisory lock the trigger holds shared until its transaction ends, so every write either
   committed before the claim (and is read below) or sees the new mark (and is recorded);
   on SQLite the database's single writer lock gives the same order.
2. under a second lock (one roll-up at a time), re-rolls the dirty slots it read and deletes
   exactly those dirty rows (ones written meanwhile stay for the next run), then rolls the
   claimed slots a week at a time, each week its own transaction, moving ``attempts``' mark.

A report first catches up, then reads rolled slots below the mark and below any slot still
dirty, and the rest from ``attempts``. Rolling up is lazy (a report) and runs from the report
scheduler (reports/files.py) with the agent-time roll-up (reports/rollup.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reports import store
from reports.models import AttemptSlot, DirtyAttemptSlot, RollupMark

SLOT = 900
SETTLE_S = 120  # an attempt row is written within this of its dial time: older slots closed
CHUNK_SLOTS = 7 * 96  # a week a transaction: bounded time holding SQLite's write lock
NAME, WATCH = "attempts", "attempts_watch"
WATCH_LOCK = 7150071  # the trigger's shared advisory lock (migration 0007_rollup_attempt_slots)
ROLL_LOCK = 7150072  # one roll-up at a time (PostgreSQL)
DIMS = {"agent", "campaign", "kind"}
ROLL = AttemptSlot.__table__  # type: ignore[attr-defined]
DIRTY = DirtyAttemptSlot.__table__  # type: ignore[attr-defined]
MARK = RollupMark.__table__  # type: ignore[attr-defined]
COUNTS: tuple[str, ...] = ("dials", "live", "contacts", "bridged", "abandoned", "ring_sum")
COUNTS += ("ring_n", "first_bridged", "transfers")


TRIGGERS = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
    "AND name LIKE 'report_attempts_dirty%'",
    "postgresql": "SELECT count(*) FROM pg_trigger WHERE tgname = 'report_attempts_dirty'",
}
_watched: dict[str, bool] = {}


def watched(engine: Engine) -> bool:
    """Whether the trigger that keeps the roll-up exact is on ``attempts`` (a later SQLite
    migration that rebuilt the table would have dropped it: then everything is read raw)."""
    key = engine.url.render_as_string()
    if key not in _watched:
        with engine.connect() as conn:
            n = int(conn.execute(sa.text(TRIGGERS[engine.dialect.name])).scalar_one())
        _watched[key] = n == (3 if engine.dialect.name == "sqlite" else 1)
    return _watched[key]


def servable(dims: list[str], slots: store.Slots) -> bool:
    """Whether rolled 15-minute UTC slots add up to this report's slots and dimensions."""
    return set(dims) <= DIMS and slots.size % SLOT == 0 and slots.off % SLOT == 0


def _mark(conn: sa.Connection, name: str) -> int | None:
    v = conn.execute(sa.select(MARK.c.until_slot).where(MARK.c.name == name)).scalar()
    return None if v is None else int(v)


def _ensure(conn: sa.Connection, name: str) -> None:
    """The mark row exists (a write: on SQLite it takes the writer lock first thing)."""
    conn.execute(
        sa.text(
            "INSERT INTO report_rollup_marks (name, until_slot, last_id) "
            "VALUES (:n, 0, 0) ON CONFLICT (name) DO NOTHING"
        ),
        {"n": name},
    )


def _lock(conn: sa.Connection, key: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def claim(engine: Engine, now: datetime) -> int:
    """Move the watch mark up to the last closed slot; return it."""
    target = int((now.timestamp() - SETTLE_S) // SLOT)
    with engine.connect() as conn:
        watch = _mark(conn, WATCH)
    if watch is not None and watch >= target:
        return watch
    with engine.begin() as conn:
        _lock(conn, WATCH_LOCK)  # waits for writers in flight that read the old mark
        _ensure(conn, WATCH)
        conn.execute(
            sa.update(MARK)
            .where(MARK.c.name == WATCH, MARK.c.until_slot < target)
            .values(until_slot=target)
        )
        return int(_mark(conn, WATCH) or target)


def catch_up(engine: Engine, now: datetime) -> int:
    """Roll up every closed slot not rolled yet and every dirty one; return the first slot not
    rolled up."""
    watch = claim(engine, now)
    with engine.connect() as conn:  # nothing to do: no write (SQLite's lock stays free)
        until = int(_mark(conn, NAME) or 0)
        if until >= watch and conn.execute(sa.select(DIRTY.c.id).limit(1)).first() is None:
            return until
    with engine.begin() as conn:
        _lock(conn, ROLL_LOCK)
        _ensure(conn, NAME)
        until = int(_mark(conn, NAME) or 0)
        dirty = conn.execute(sa.select(DIRTY.c.id, DIRTY.c.slot)).all()
        if dirty:
            again = sorted({int(r[1]) for r in dirty if int(r[1]) < until})
            for lo, hi in _runs(again):
                _roll(engine, conn, lo, hi)
            ids = [int(r[0]) for r in dirty]
            for i in range(0, len(ids), 10_000):
                conn.execute(sa.delete(DIRTY).where(DIRTY.c.id.in_(ids[i : i + 10_000])))
    while until < watch:
        with engine.begin() as conn:
            _lock(conn, ROLL_LOCK)
            _ensure(conn, NAME)
            until = int(_mark(conn, NAME) or 0)  # another roll-up may have gone on meanwhile
            if until >= watch:
                break
            nxt = conn.execute(  # skip a gap with no attempts in one step
                sa.select(sa.func.min(store.ATT.c.created_at)).where(
                    store.ATT.c.created_at >= store.bind(engine, _at(until))
                )
            ).scalar()
            until = watch if nxt is None else max(until, min(_slot(nxt), watch))
            hi = min(until + CHUNK_SLOTS, watch)
            if hi > until:
                _roll(engine, conn, until, hi)
            conn.execute(sa.update(MARK).where(MARK.c.name == NAME).values(until_slot=hi))
            until = hi
    return until


def _slot(t: datetime | str) -> int:
    if isinstance(t, str):  # SQLite without type info (an aggregate): naive UTC text
        t = datetime.fromisoformat(t)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() // SLOT)


def _runs(slots: list[int]) -> list[tuple[int, int]]:
    """Sorted slots as [lo, hi) runs of consecutive slots."""
    out: list[tuple[int, int]] = []
    for s in slots:
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], s + 1)
        else:
            out.append((s, s + 1))
    return out


def _roll(engine: Engine, conn: sa.Connection, lo: int, hi: int) -> None:
    """Sum the attempts of slots [lo, hi) into the roll-up (replacing what it held)."""
    a = store.ATT.alias("a")
    t = store.attempt_terms(engine, a)
    keys = [
        store.slot_of(engine, a.c.created_at).label("slot"),
        a.c.campaign_id,
        a.c.agent_user_id,
        a.c.simulated,
        sa.case((t.contact, a.c.disposition), else_=None).label("disposition"),
    ]

    def flag(cond: Any) -> Any:
        return sa.func.sum(sa.case((cond, 1), else_=0))

    measures = [
        sa.func.count(),
        flag(t.live),
        flag(t.contact),
        flag(t.bridged),
        flag(a.c.abandoned.is_(True)),
        sa.func.sum(t.ring),
        flag(a.c.answered_at.is_not(None)),
        flag(t.first_bridged),
        flag(a.c.transferred_at.is_not(None)),
    ]
    start = datetime.fromtimestamp(lo * SLOT, tz=UTC)
    end = datetime.fromtimestamp(hi * SLOT, tz=UTC)
    q = (
        sa.select(*keys, *measures)
        .where(
            a.c.created_at >= store.bind(engine, start), a.c.created_at < store.bind(engine, end)
        )
        .group_by(*keys)
    )
    conn.execute(sa.delete(ROLL).where(ROLL.c.slot >= lo, ROLL.c.slot < hi))
    cols = ["slot", "campaign_id", "agent_user_id", "simulated", "disposition", *COUNTS]
    conn.execute(sa.insert(ROLL).from_select(cols, q))


def attempt_sums(
    engine: Engine, w: store.Window, dims: list[str], slots: store.Slots, now: datetime
) -> pd.DataFrame:
    """``store.attempt_sums``, with whole rolled-up slots read from the roll-up."""
    if not servable(dims, slots) or not watched(engine):
        return store.attempt_sums(engine, w, dims, slots)
    until = catch_up(engine, now)
    lo = math.ceil(w.start.timestamp() / SLOT)
    hi = min(int(w.end.timestamp() // SLOT), until)
    if hi > lo:
        with engine.connect() as conn:
            dirty = conn.execute(
                sa.select(sa.func.min(DIRTY.c.slot)).where(DIRTY.c.slot >= lo, DIRTY.c.slot < hi)
            ).scalar()
        hi = hi if dirty is None else int(dirty)  # written since the catch-up: read it raw
    if hi <= lo:
        return store.attempt_sums(engine, w, dims, slots)
    frames = [_rolled(engine, w, dims, slots, lo, hi)]
    for a, b in ((w.start, _at(lo)), (_at(hi), w.end)):
        if b > a:
            frames.append(store.attempt_sums(engine, store.Window(a, b, *_rest(w)), dims, slots))
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else frames_empty(dims)


def frames_empty(dims: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=["slot", *dims, *OUT])


OUT = store.ATTEMPT_MEASURES


def _at(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * SLOT, tz=UTC)


def _rest(w: store.Window) -> tuple[Any, ...]:
    return (w.campaigns, w.simulated, w.skip_agents)


def _rolled(
    engine: Engine, w: store.Window, dims: list[str], slots: store.Slots, lo: int, hi: int
) -> pd.DataFrame:
    r, k, d = ROLL.alias("r"), store.CAM.alias("k"), store.DIS.alias("d")
    # a 15-minute slot into the report's slot (a whole local half-hour/hour/day, one offset)
    rslot: Any = r.c.slot if slots == store.Slots() else (r.c.slot * SLOT + slots.off) // slots.size
    col = {"agent": r.c.agent_user_id, "campaign": r.c.campaign_id, "kind": k.c.kind}
    keys = [rslot.label("slot"), *(col[x].label(x) for x in dims)]

    def total(c: Any, cond: Any = None) -> Any:
        return sa.func.sum(c if cond is None else sa.case((cond, c), else_=0))

    q = (
        sa.select(
            *keys,
            total(r.c.dials),
            total(r.c.live),
            total(r.c.contacts),
            total(r.c.bridged),
            total(r.c.contacts, d.c.success.is_(True)),
            total(r.c.abandoned),
            total(r.c.ring_sum),
            total(r.c.ring_n),
            total(r.c.first_bridged, d.c.final.is_(True)),
            total(r.c.transfers),
            total(r.c.contacts, k.c.kind == "return_visit"),
        )
        .select_from(
            r.join(k, k.c.id == r.c.campaign_id).outerjoin(
                d, sa.and_(d.c.campaign_id == r.c.campaign_id, d.c.code == r.c.disposition)
            )
        )
        .where(r.c.slot >= lo, r.c.slot < hi)
        .group_by(*keys)
    )
    with engine.connect() as conn:
        return store.fetch_frame(conn, store.filtered(q, r, w), ["slot", *dims, *OUT])
