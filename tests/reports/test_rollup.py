"""Agent time rolled up per closed 15-minute slot (reports/rollup.py) on SQLite and PostgreSQL:
the same seconds as computing from the state changes, late rows re-open rolled slots, open
slots come from the changes, and a DST day still has 50 half-hours."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from dialer.models import StateChange
from outdial.storage import session_scope
from reports import query, report, rollup, store

NOW = timeline.at(3, 0)
DAY_START = datetime(2026, 11, 30, 16, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai
DAY_END = DAY_START + timedelta(days=1)
STATES = list(store.AGENT_STATES)


def _live(engine: Engine, end: datetime) -> pd.DataFrame:
    w = store.Window(DAY_START, DAY_END)
    return store.agent_time_sums(engine, w, end.timestamp(), store.Slots())


def _summed(df: pd.DataFrame) -> dict[tuple[str, int, str], list[float]]:
    g = df.groupby(["entity", "slot", "reason"])[STATES].sum()
    return {
        (str(k[0]), int(k[1]), str(k[2])): [round(float(x), 3) for x in v]
        for k, v in zip(g.index, g.to_numpy(), strict=True)
        if any(v)
    }


def _rolled(engine: Engine, now: datetime) -> pd.DataFrame:
    w = store.Window(DAY_START, DAY_END)
    end = min(DAY_END, now).timestamp()
    return rollup.agent_time(engine, w, end, store.Slots(), True, True, now)


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM report_agent_slots")).scalar_one())


def test_rolled_slots_hold_the_same_seconds_as_the_changes(engine: Engine) -> None:
    timeline.build(engine)
    got = _rolled(engine, NOW)
    assert _rows(engine) > 0  # rolled up, not computed live
    assert _summed(got) == _summed(_live(engine, NOW))
    total = got[got["reason"] == ""][STATES].sum()
    assert total["talk"] == pytest.approx(180)  # the timeline's hand figures
    assert total["paused"] == pytest.approx(600)
    assert rollup.catch_up(engine, NOW) == int((NOW.timestamp() - rollup.SETTLE_S) // 900)
    rows = _rows(engine)
    _rolled(engine, NOW)  # nothing new: nothing rolled twice
    assert _rows(engine) == rows


def test_a_late_change_reopens_the_rolled_slots(engine: Engine) -> None:
    ids = timeline.build(engine)
    _rolled(engine, NOW)
    with session_scope(engine) as s:  # a node that was offline reports a pause at 01:25
        s.add(
            StateChange(
                at=timeline.at(1, 25),
                campaign_id=ids["campaign"],
                machine="agent",
                entity=str(ids["agent"]),
                source="ready",
                event="x",
                target="paused",
                reason="meeting",
            )
        )
    got = _rolled(engine, NOW)
    assert _summed(got) == _summed(_live(engine, NOW))
    meeting = got[got["reason"] == "paused:meeting"]["paused"].sum()
    assert meeting == pytest.approx(300)  # 01:25 to the logout at 01:30


def test_open_slots_come_from_the_changes(engine: Engine) -> None:
    timeline.build(engine)
    now = timeline.at(1, 10)  # mid-shift: the 01:00 slot is still open
    got = _rolled(engine, now)
    assert _summed(got) == _summed(_live(engine, now))
    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(slot) FROM report_agent_slots")).scalar()
    assert last is None or int(last) < int(now.timestamp() // 900)


def test_report_through_the_rollup_on_a_dst_day(engine: Engine) -> None:
    ids = timeline.build(engine)
    start = datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT; clocks go back at 06:00 UTC
    with session_scope(engine) as s:
        for t, target in ((start, "ready"), (start + timedelta(hours=2), "logged_out")):
            s.add(
                StateChange(
                    at=t,
                    campaign_id=ids["campaign"],
                    machine="agent",
                    entity=str(ids["agent"]),
                    source="",
                    event="x",
                    target=target,
                    reason="",
                )
            )
    q = query.build("2026-11-01", "2026-11-01", "30m", "", "idle_time", None, "America/New_York")
    out = report.run(engine, q, NOW).as_dict()
    assert len(out["rows"]) == 50  # the fall-back day has 50 half-hours
    idle = {r["interval"]: r["idle_time"] for r in out["rows"] if r["idle_time"]}
    assert idle == {
        "2026-11-01T01:00-04:00": 1800,
        "2026-11-01T01:30-04:00": 1800,
        "2026-11-01T01:00-05:00": 1800,
        "2026-11-01T01:30-05:00": 1800,
    }
    assert _rows(engine) > 0


def test_an_offset_off_the_quarter_hour_is_computed_from_the_changes(engine: Engine) -> None:
    timeline.build(engine)
    w = store.Window(DAY_START, DAY_END)
    monrovia = store.Slots(1800, -2670)  # -00:44:30 until 1972: half-hours end at :14:30
    got = rollup.agent_time(engine, w, NOW.timestamp(), monrovia, True, True, NOW)
    live = store.agent_time_sums(engine, w, NOW.timestamp(), monrovia)
    assert _summed(got) == _summed(live)
    assert len({k[1] for k in _summed(got)}) == 2  # 01:00-01:30 UTC spans two such half-hours
