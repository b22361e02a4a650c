"""Agent time rolled up once per closed 15-minute UTC slot (table ``report_agent_slots``).

A report over a month read every agent state change of the month through a window function
(reports/store.py ``agent_time_sums``): 5 M changes took 30 s. Agent time in a slot that has
closed no longer changes, so it is summed once, here, and a report adds up the rolled rows;
only the slots since the last roll-up are computed from ``state_changes`` (set-based SQL both
ways). The same SQL computes both, so the figures are the same to the millisecond.

Staying exact when rows arrive late: the mark keeps the highest ``state_changes.id`` rolled
up. A change with a higher id timed inside a rolled slot (an import, a node that was offline)
re-opens the rolled slots from its slot on: they are deleted and rolled again. A change only
alters time from its own instant on (it ends the segment before it), so earlier slots stay.

Rolling up is lazy (the first report after a quiet spell does it) and also runs from the
report scheduler; two rolling at once are kept apart by a conditional update of the mark.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reports import store
from reports.models import AgentTimeSlot, RollupMark

SLOT = 900
SETTLE_S = 120  # a change is written within this of its time: slots older than that are closed
CHUNK_SLOTS = 7 * 96  # roll a week at a time: bounded memory
NAME = "agent_time"
ROLL = AgentTimeSlot.__table__  # type: ignore[attr-defined]
MARK = RollupMark.__table__  # type: ignore[attr-defined]
SC = store.SC


def _slot(t: datetime | None) -> int | None:
    if t is None:
        return None
    if t.tzinfo is None:  # SQLite hands back naive UTC
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() // SLOT)


def catch_up(engine: Engine, now: datetime) -> int:
    """Roll up every closed slot not rolled yet; return the first slot not rolled up."""
    target = int((now.timestamp() - SETTLE_S) // SLOT)
    with engine.begin() as conn:
        mark = conn.execute(
            sa.select(MARK.c.until_slot, MARK.c.last_id).where(MARK.c.name == NAME)
        ).first()
        until, last_id = (int(mark[0]), int(mark[1])) if mark else (0, 0)
        max_id = int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(SC.c.id), 0))).scalar_one()
        )
        first_new = None
        if max_id > last_id:
            first_new = _slot(
                conn.execute(
                    sa.select(sa.func.min(SC.c.at)).where(
                        SC.c.id > last_id, SC.c.machine == "agent"
                    )
                ).scalar_one()
            )
        if until == 0:  # never rolled: from the first change on (none yet: nothing to roll)
            start = target if first_new is None else first_new
        else:  # a late change re-opens the slots from its own on
            start = until if first_new is None else min(until, first_new)
        new_until = max(start, target) if start < until else max(until, target)
        if new_until == until and max_id == last_id:
            return until
        if not _move_mark(conn, mark is not None, until, last_id, new_until, max_id):
            conn.rollback()
            return _read_until(engine)
        if start < until:
            conn.execute(sa.delete(ROLL).where(ROLL.c.slot >= start))
        for lo in range(start, target, CHUNK_SLOTS):
            _roll(engine, conn, lo, min(lo + CHUNK_SLOTS, target))
        return new_until


def _move_mark(
    conn: sa.Connection, exists: bool, until: int, last_id: int, new_until: int, max_id: int
) -> bool:
    """Take the mark from (until, last_id) to the new values; False if another roll-up moved
    it first (the UPDATE waits for that one's lock, then finds no row to change)."""
    if not exists:
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(MARK).values(name=NAME, until_slot=new_until, last_id=max_id)
                )
            return True
        except sa.exc.IntegrityError:
            return False
    res = conn.execute(
        sa.update(MARK)
        .where(MARK.c.name == NAME, MARK.c.until_slot == until, MARK.c.last_id == last_id)
        .values(until_slot=new_until, last_id=max_id)
    )
    return res.rowcount == 1


def _read_until(engine: Engine) -> int:
    with engine.connect() as conn:
        v = conn.execute(sa.select(MARK.c.until_slot).where(MARK.c.name == NAME)).scalar()
    return int(v or 0)


def _roll(engine: Engine, conn: sa.Connection, lo: int, hi: int) -> None:
    w = store.Window(
        datetime.fromtimestamp(lo * SLOT, tz=UTC), datetime.fromtimestamp(hi * SLOT, tz=UTC)
    )
    sums = store.agent_time_sums(engine, w, hi * SLOT, store.Slots(SLOT, 0), conn=conn)
    if sums.empty:
        return
    sums["campaign_id"] = (
        sums["campaign_id"].astype(object).where(sums["campaign_id"].notna(), None)
    )
    rows = sums.to_dict("records")
    for i in range(0, len(rows), 50_000):
        conn.execute(sa.insert(ROLL), rows[i : i + 50_000])


def agent_time(
    engine: Engine,
    w: store.Window,
    end: float,
    slots: store.Slots,
    by_agent: bool,
    by_campaign: bool,
    now: datetime,
) -> pd.DataFrame:
    """Agent seconds per (agent, campaign, report slot) as ``store.agent_time_sums`` returns
    them: rolled-up slots summed from the roll-up, the rest from the state changes. A zone
    offset that is not whole quarter hours (old local mean times) cuts 15-minute slots: then
    everything comes from the state changes."""
    if slots.size % SLOT or slots.off % SLOT:
        return store.agent_time_sums(engine, w, end, slots, by_agent, by_campaign)
    until = min(catch_up(engine, now), int(now.timestamp() // SLOT))
    first = int(w.start.timestamp() // SLOT)
    last = math.ceil(w.end.timestamp() / SLOT)
    frames = []
    if until > first:
        frames.append(_rolled(engine, w, first, min(until, last), slots, by_agent, by_campaign))
    if until < last and until * SLOT < end:
        live_w = dataclasses.replace(
            w, start=max(w.start, datetime.fromtimestamp(until * SLOT, tz=UTC))
        )
        frames.append(store.agent_time_sums(engine, live_w, end, slots, by_agent, by_campaign))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(
            columns=["entity", "campaign_id", "slot", "reason", *store.AGENT_STATES]
        )
    return pd.concat(frames, ignore_index=True)


def _rolled(
    engine: Engine,
    w: store.Window,
    lo: int,
    hi: int,
    slots: store.Slots,
    by_agent: bool,
    by_campaign: bool,
) -> pd.DataFrame:
    r = ROLL
    # a 15-minute slot into the report's slot (whole local half-hour/hour/day with one offset)
    if slots.size == SLOT and slots.off == 0:
        rslot: Any = r.c.slot
    else:  # positive numbers: truncation is floor
        rslot = (r.c.slot * SLOT + slots.off) // slots.size
    # a dimension the report does not split by is left out of the query (not a constant column
    # fetched on every row) and filled in below
    keys = [
        *([r.c.entity.label("entity")] if by_agent else []),
        *([r.c.campaign_id.label("campaign_id")] if by_campaign else []),
        rslot.label("slot"),
        r.c.reason,
    ]
    q = (
        sa.select(*keys, *(sa.func.sum(getattr(r.c, s)) for s in store.AGENT_STATES))
        .where(r.c.slot >= lo, r.c.slot < hi)
        .group_by(*keys)
    )
    if w.campaigns:
        q = q.where(r.c.campaign_id.in_(w.campaigns))
    if w.skip_agents and not w.simulated:
        q = q.where(r.c.entity.not_in([str(int(u)) for u in w.skip_agents]))
    names = [k.name for k in keys]
    with engine.connect() as conn:
        df = store.fetch_frame(conn, q, [*names, *store.AGENT_STATES])
    if not by_agent:
        df.insert(0, "entity", "")
    if not by_campaign:
        df.insert(1, "campaign_id", 0)
    return df
