"""Attempts rolled up per closed 15-minute slot (reports/attempt_rollup.py) on SQLite and
PostgreSQL: the same measures as the raw scan of ``attempts`` (store.attempt_sums), also after
rows change once their slot was rolled (the trigger of 0007_rollup_attempt_slots marks it
dirty), for ranges cut mid-slot, across DST, in :30/:45 zones, with two roll-ups at once."""

from __future__ import annotations

import math
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from dialer.models import Attempt
from outdial.storage import session_scope
from reports import attempt_rollup, intervals, query, report, store

NOW = timeline.at(3, 0)
DAY = store.Window(timeline.DAY, timeline.DAY + timedelta(days=1))
SHANGHAI_30M = store.Slots(1800, 8 * 3600)
ATTEMPT_KPIS = "dials,connect_rate,contacts,successes,success_rate,abandon_rate,time_to_answer"
ATTEMPT_KPIS += ",fcr,transfer_rate"


def _key(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x == "":
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _sums(df: pd.DataFrame, dims: list[str]) -> dict[tuple[str, ...], list[float]]:
    if df.empty:
        return {}
    df = df.copy()
    keys = ["slot", *dims]
    for k in keys:
        df[k] = df[k].map(_key)
    g = df.groupby(keys)[list(attempt_rollup.OUT)].sum()
    return {
        tuple(k) if isinstance(k, tuple) else (k,): [round(float(x), 3) for x in v]
        for k, v in zip(g.index, g.to_numpy(), strict=True)
        if any(v)
    }


def _same(
    engine: Engine,
    w: store.Window = DAY,
    dims: tuple[str, ...] = (),
    slots: store.Slots = store.Slots(),
    now: datetime = NOW,
) -> dict[tuple[str, ...], list[float]]:
    """Rolled and raw give the same measures; return them."""
    rolled = attempt_rollup.attempt_sums(engine, w, list(dims), slots, now)
    raw = store.attempt_sums(engine, w, list(dims), slots)
    got = _sums(rolled, list(dims))
    assert got == _sums(raw, list(dims))
    assert got  # the case has attempts
    return got


def _count(engine: Engine, table: str, col: str = "count(*)") -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT coalesce({col}, 0) FROM {table}")).scalar_one())


def _sql(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _total(got: dict[tuple[str, ...], list[float]], measure: str) -> float:
    i = attempt_rollup.OUT.index(measure)
    return sum(v[i] for v in got.values())


def _attempt(engine: Engine, call_id: str, contact: int, dial: datetime, **kw: Any) -> None:
    ids = _ids(engine)
    with session_scope(engine) as s:
        s.add(
            Attempt(
                call_id=call_id,
                campaign_id=ids["campaign"],
                contact_id=contact,
                number="+8613800000999",
                created_at=dial,
                state="completed",
                final=True,
                **kw,
            )
        )


def _ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        camp = conn.execute(sa.text("SELECT min(id) FROM campaigns")).scalar_one()
        agent = conn.execute(sa.text("SELECT min(id) FROM users")).scalar_one()
        contacts = list(conn.execute(sa.text("SELECT id FROM contacts ORDER BY id")).scalars())
    return {
        "campaign": int(camp),
        "agent": int(agent),
        **{f"c{i}": c for i, c in enumerate(contacts)},
    }


@pytest.mark.parametrize("dims", [(), ("agent",), ("campaign",), ("kind", "agent")])
def test_rolled_attempts_match_the_raw_scan(engine: Engine, dims: tuple[str, ...]) -> None:
    timeline.build(engine)
    assert attempt_rollup.watched(engine)  # every migration ran, the trigger is on attempts
    got = _same(engine, dims=dims)
    assert _count(engine, "report_attempt_slots") > 0  # read from the roll-up, not raw
    assert _total(got, "dials") == 5 and _total(got, "successes") == 1  # the hand timeline
    _same(engine, dims=dims, slots=SHANGHAI_30M)
    _same(engine, dims=dims, slots=store.Slots(86400, 8 * 3600))
    rows = _count(engine, "report_attempt_slots")
    attempt_rollup.catch_up(engine, NOW)  # nothing new: nothing rolled twice
    assert _count(engine, "report_attempt_slots") == rows
    assert _count(engine, "report_attempt_slots", "sum(dials)") == 5


def test_rows_changed_after_their_slot_was_rolled_are_rolled_again(engine: Engine) -> None:
    timeline.build(engine)
    ids = _ids(engine)
    before = _same(engine, dims=("agent",))
    assert _count(engine, "report_dirty_attempt_slots") == 0
    # wrap-up ends late: call 2's disposition becomes a sale (ORM, as campaigns/ does)
    with session_scope(engine) as s:
        a = s.get(Attempt, _attempt_id(engine, "c2"))
        assert a is not None
        a.disposition = "sale"
    # a transfer recorded late; recovery after a crash sets the agent of the abandoned call
    _sql(engine, "UPDATE attempts SET transferred_at = created_at WHERE call_id = 'c1'")
    _sql(engine, "UPDATE attempts SET agent_user_id = :a WHERE call_id = 'c5'", a=ids["agent"])
    # another node inserts an attempt into a rolled slot; and a simulated one
    _attempt(engine, "late1", ids["c3"], timeline.at(1, 3), answered_at=timeline.at(1, 3, 6))
    _attempt(
        engine,
        "late2",
        ids["c3"],
        timeline.at(1, 4),
        answered_at=timeline.at(1, 4, 2),
        simulated=True,
    )
    assert _count(engine, "report_dirty_attempt_slots") >= 4  # the trigger saw each write
    after = _same(engine, dims=("agent",))
    assert _count(engine, "report_dirty_attempt_slots") == 0  # rolled again, marks gone
    assert _total(after, "successes") == _total(before, "successes") + 1
    assert _total(after, "transfers") == 1
    assert _total(after, "dials") == 6  # the simulated one is left out ...
    sim = store.Window(DAY.start, DAY.end, simulated=True)
    assert _total(_same(engine, sim, ("agent",)), "dials") == 7  # ... unless asked for
    agent_rows = {k: v for k, v in after.items() if k[1] == str(ids["agent"])}
    assert _total(agent_rows, "abandoned") == 1  # call 5 now counts under the agent


def _attempt_id(engine: Engine, call_id: str) -> int:
    with engine.connect() as conn:
        q = sa.text("SELECT id FROM attempts WHERE call_id = :c")
        return int(conn.execute(q, {"c": call_id}).scalar_one())


def test_an_earlier_attempt_bridged_late_changes_first_contact(engine: Engine) -> None:
    timeline.build(engine)
    ids = _ids(engine)  # call 3 (01:20, no answer) is contact c2's; call it back at 01:50
    t = timeline.at(1, 50)
    _attempt(
        engine,
        "again",
        ids["c2"],
        t,
        answered_at=t,
        bridged_at=t,
        agent_user_id=ids["agent"],
        disposition="sale",
    )
    assert _total(_same(engine), "fcr") == 2  # call 1 and the call back
    # call 3 turns out to have been bridged (a late correction): the call back is no longer first
    _sql(engine, "UPDATE attempts SET bridged_at = created_at WHERE call_id = 'c3'")
    assert _total(_same(engine), "fcr") == 1
    _sql(engine, "DELETE FROM attempts WHERE call_id = 'c3'")  # and removed: first again
    assert _total(_same(engine), "fcr") == 2


def test_a_range_cut_mid_slot_reads_its_edges_raw(engine: Engine) -> None:
    timeline.build(engine)
    for a, b in (((1, 0, 5), (1, 21, 30)), ((1, 5), (1, 22)), ((1, 7), (1, 20, 30))):
        w = store.Window(timeline.at(*a), timeline.at(*b))
        _same(engine, w, ("agent",))
        _same(engine, w, (), SHANGHAI_30M)
    assert _count(engine, "report_attempt_slots") > 0


def test_open_and_dirty_slots_come_from_the_attempts(engine: Engine) -> None:
    timeline.build(engine)
    now = timeline.at(1, 21)  # the 01:15 slot is still open: only 01:00 is rolled
    _same(engine, now=now)
    with engine.connect() as conn:
        slots = set(conn.execute(sa.text("SELECT slot FROM report_attempt_slots")).scalars())
    assert slots == {int(timeline.at(1, 0).timestamp()) // 900}
    # a late write into the rolled slot, read before the slot closes fully
    _sql(engine, "UPDATE attempts SET disposition = 'sale' WHERE call_id = 'c2'")
    assert _count(engine, "report_dirty_attempt_slots") == 1
    assert _total(_same(engine, now=now), "successes") == 2


def _run(engine: Engine, day: str, zone: str, now: datetime, mp: pytest.MonkeyPatch) -> list:
    q = query.build(day, day, "30m", "agent", ATTEMPT_KPIS, None, zone)
    rolled = report.run(engine, q, now).as_dict()["rows"]
    with mp.context() as m:
        m.setattr(attempt_rollup, "servable", lambda dims, slots: False)
        raw = report.run(engine, q, now).as_dict()["rows"]
    assert rolled == raw
    assert any(r["dials"] for r in rolled)
    return rolled


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "Asia/Shanghai"])
def test_reports_in_half_and_quarter_hour_zones(
    engine: Engine, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline.build(engine)
    rows = _run(engine, "2026-12-01", zone, NOW, monkeypatch)
    assert _count(engine, "report_attempt_slots") > 0
    assert sum(r["dials"] or 0 for r in rows) == 5
    if zone == "Asia/Kathmandu":  # +05:45: 01:00-01:22 UTC is 06:45-07:07 local
        assert {r["interval"][11:16] for r in rows if r["dials"]} == {"06:30", "07:00"}


def test_report_across_dst_reads_the_roll_up(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline.build(engine)
    ids = _ids(engine)
    for i, h in enumerate((5, 6)):  # 01:10 EDT and 01:10 EST: the same wall time twice
        t = datetime(2026, 11, 1, h, 10, tzinfo=UTC)
        _attempt(
            engine,
            f"dst{i}",
            ids["c0"],
            t,
            answered_at=t,
            bridged_at=t,
            agent_user_id=ids["agent"],
            disposition="sale",
        )
    rows = _run(engine, "2026-11-01", "America/New_York", NOW, monkeypatch)
    got = {r["interval"]: r["dials"] for r in rows if r["dials"]}
    assert got == {"2026-11-01T01:00-04:00": 1, "2026-11-01T01:00-05:00": 1}
    assert _count(engine, "report_attempt_slots", "sum(dials)") == 7


def test_offsets_off_the_quarter_hour_are_computed_raw(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Monrovia kept -00:44:30 until 1972: its half-hours cut 15-minute UTC slots in two
    start, end = datetime(1971, 6, 1, tzinfo=UTC), datetime(1971, 6, 2, tzinfo=UTC)
    slots = store.Slots(*intervals.storage_slots(start, end, "30m", "Africa/Monrovia"))
    assert slots.off == -2670 and not attempt_rollup.servable(["agent"], slots)
    assert attempt_rollup.servable(["agent"], store.Slots(1800, 20700))  # Kathmandu +05:45
    assert not attempt_rollup.servable(["list"], store.Slots())
    timeline.build(engine)
    ids = _ids(engine)
    # 09:10:00, 09:14:45 (one UTC slot) and 09:20 UTC: 08:25:30, 08:30:15, 08:35:30 local
    for i, (m, sec) in enumerate(((10, 0), (14, 45), (20, 0))):
        t = datetime(1971, 6, 1, 9, m, sec, tzinfo=UTC)
        _attempt(engine, f"old{i}", ids["c0"], t, answered_at=t)
    rows = _run(engine, "1971-06-01", "Africa/Monrovia", NOW, monkeypatch)
    got = {r["interval"][11:16]: r["dials"] for r in rows if r["dials"]}
    assert got == {"08:00": 1, "08:30": 2}


def test_two_roll_ups_at_once_do_not_double_count(engine: Engine) -> None:
    timeline.build(engine)
    with ThreadPoolExecutor(max_workers=4) as pool:
        marks = list(pool.map(lambda _: attempt_rollup.catch_up(engine, NOW), range(4)))
    assert len(set(marks)) == 1
    assert _count(engine, "report_attempt_slots", "sum(dials)") == 5
    _sql(engine, "UPDATE attempts SET disposition = 'sale' WHERE call_id = 'c2'")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: attempt_rollup.catch_up(engine, NOW), range(4)))
    assert _count(engine, "report_attempt_slots", "sum(dials)") == 5
    assert _total(_same(engine), "successes") == 2


def test_writes_racing_roll_ups_are_not_lost(engine: Engine) -> None:
    """A node writes into rolled slots while roll-ups run, the mark moving each quarter hour:
    every write is either read by a roll-up or left dirty for the next one."""
    timeline.build(engine)
    ids = _ids(engine)
    t0 = timeline.at(1, 0)

    def writer() -> None:
        for i in range(40):
            dial = t0 + timedelta(minutes=i)
            _attempt(
                engine,
                f"race{i}",
                ids["c1"],
                dial,
                answered_at=dial,
                bridged_at=dial,
                agent_user_id=ids["agent"],
                disposition="sale" if i % 2 else "callback",
            )
            _sql(
                engine,
                "UPDATE attempts SET disposition = 'sale' WHERE call_id = :c",
                c=f"race{i // 2}",
            )

    def roller() -> None:
        for i in range(40):  # "now" walks on: new slots are claimed while the writer writes
            attempt_rollup.catch_up(engine, t0 + timedelta(minutes=5 + i))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(writer), pool.submit(roller)]
        for f in done:
            f.result()
    got = _same(engine, now=NOW)
    assert _total(got, "dials") == 45
    assert _count(engine, "report_attempt_slots", "sum(dials)") == 45  # all of it rolled up
