"""Storage sums: agent time cut at slot boundaries in SQL (long pauses, 15-minute slots in a
DST range), and the transfer the engine stamps on the attempt."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from dialer import hopper
from dialer.models import Attempt, StateChange
from dialer.states import CallEvent, CallState, Transition
from outdial.storage import session_scope
from reports import query, report, store

NOW = timeline.at(12, 0)


def _long_pause(engine: Engine, campaign_id: int) -> None:
    with session_scope(engine) as s:
        for t, target, reason in (
            (timeline.at(3, 0), "ready", ""),
            (timeline.at(3, 10), "paused", "lunch"),
            (timeline.at(5, 20), "ready", ""),
            (timeline.at(5, 30), "logged_out", ""),
        ):
            s.add(
                StateChange(
                    at=t,
                    campaign_id=campaign_id,
                    machine="agent",
                    entity="999",
                    source="",
                    event="x",
                    target=target,
                    reason=reason,
                )
            )


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_long_pause_cut_into_slots_adds_up(engine: Engine, zone: str) -> None:
    ids = timeline.build(engine)
    _long_pause(engine, ids["campaign"])
    # New York over 2026-11-01 (DST ends): 15-minute slots; Shanghai: whole half-hours
    q = query.build("2026-10-30", "2026-12-02", "30m", "agent", "away_time,idle_time", None, zone)
    assert store.Slots(*report.intervals.storage_slots(q.start, q.end, q.interval, q.zone)) == (
        store.Slots(900, 0) if zone != "Asia/Shanghai" else store.Slots(1800, 8 * 3600)
    )
    rows = report.run(engine, q, NOW).as_dict()["rows"]
    lunch = [r for r in rows if r["agent"] == "999"]
    assert sum(r["away_time:lunch"] for r in lunch) == pytest.approx(7800)
    assert sum(r["idle_time"] for r in lunch) == pytest.approx(1200)
    assert max(r["away_time"] for r in lunch) == pytest.approx(1800)  # a whole half hour
    wang = [r for r in rows if r["agent"] == "wang"]
    assert sum(r["idle_time"] for r in wang) == pytest.approx(928)


def test_engine_stamps_the_transfer_and_reports_count_it(engine: Engine) -> None:
    timeline.build(engine)
    t = Transition(
        0.0, "call", "c1", CallState.BRIDGED, CallEvent.TRANSFER_IVR, CallState.IVR, "transfer"
    )
    with session_scope(engine) as s:
        cid = s.get(Attempt, 1).campaign_id  # type: ignore[union-attr]
    hopper.persist_transitions(engine, cid, [(t, timeline.at(1, 1))])
    with session_scope(engine) as s:
        att = s.get(Attempt, 1)
        assert att is not None and att.transferred_at is not None
    q = query.build("2026-12-01", "2026-12-01", "day", "", "transfer_rate", None, "Asia/Shanghai")
    assert report.run(engine, q, NOW).rows[0][1] == pytest.approx(0.5)  # 1 of 2 contacts


def test_attempts_are_summed_in_the_database(engine: Engine) -> None:
    timeline.build(engine)
    w = store.Window(timeline.at(0, 0), timeline.at(3, 0))
    half_hours = store.attempt_sums(engine, w, [], store.Slots(1800, 8 * 3600))
    assert half_hours[["slot", "dials", "live", "contacts"]].values.tolist() == [
        [(timeline.at(1, 0).timestamp() + 8 * 3600) // 1800, 5, 3, 2]
    ]
    quarters = store.attempt_sums(engine, w, ["agent"], store.Slots())
    assert sorted(quarters["dials"].tolist()) == [2, 3]  # 01:00-01:15, by agent and none


def test_survey_answers_of_simulated_calls_left_out_unless_asked(engine: Engine) -> None:
    """Issue 17: answers given to the IVR on a simulated call (key ``sys/ivr:<call id>``) or to
    a simulated agent are not counted; the real IVR call's answer is."""
    import sqlalchemy as sa

    from campaigns.models import Survey, SurveyAnswer, SurveyResponse
    from outdial import auth

    ids = timeline.build(engine)
    sim = auth.create_user(engine, "sim01", "password-1", "agent", "", "sip:agent-sim01@127.0.0.1")
    with engine.connect() as conn:
        contact = conn.execute(sa.text("SELECT MIN(id) FROM contacts")).scalar()
    t = timeline.at(2, 0)
    with session_scope(engine) as s:
        s.add(Attempt(call_id="simcall", campaign_id=ids["campaign"], contact_id=contact,
                      number="+8613800000001", created_at=t, simulated=True))  # fmt: skip
        survey = Survey(name="满意度", definition={})
        s.add(survey)
        s.flush()
        for key, agent, value in (
            ("sys/ivr:c1", None, 5),  # a real call
            ("sys/ivr:simcall", None, 1),  # the simulated carrier's customer
            (f"u{sim.id}/x", sim.id, 2),  # a simulated agent's form
        ):
            r = SurveyResponse(idempotency_key=key, survey_id=survey.id or 0,
                               campaign_id=ids["campaign"], agent_id=agent)  # fmt: skip
            s.add(r)
            s.flush()
            s.add(SurveyAnswer(response_id=r.id or 0, question_id="q1", value=value, answered_at=t))
    day = store.Window(timeline.at(0, 0), timeline.at(23, 0))
    real = store.Window(day.start, day.end, skip_agents=store.simulated_agents(engine))
    both = store.Window(day.start, day.end, simulated=True)
    assert store.simulated_agents(engine) == (sim.id,)
    assert sorted(store.survey_answers(engine, real)["value"]) == [5]
    assert sorted(store.survey_answers(engine, both)["value"]) == [1, 2, 5]


def test_fetch_frame_reads_the_same_values_as_sqlalchemy_rows(engine: Engine) -> None:
    """The driver's tuples (no SQLAlchemy conversion) hold the same numbers and text as the
    Row objects, on SQLite and PostgreSQL: ints, floats, text and NULL."""
    import sqlalchemy as sa

    timeline.build(engine)
    a = store.ATT.alias("a")
    t = store.attempt_terms(engine, a)
    q = (
        sa.select(
            store.slot_of(engine, a.c.created_at).label("slot"),
            a.c.agent_user_id,
            a.c.disposition,
            sa.func.count(),
            sa.func.sum(t.ring),
        )
        .group_by(sa.text("1"), a.c.agent_user_id, a.c.disposition)
        .order_by(sa.text("1"), a.c.agent_user_id, a.c.disposition)
    )
    cols = ["slot", "agent", "disposition", "n", "ring"]
    with engine.connect() as conn:
        fast = store.fetch_frame(conn, q, cols)
        rows = store.frame(conn.execute(q).all(), cols)
    assert len(fast) >= 2 and fast["agent"].isna().any()  # a call no agent took: NULL
    assert fast.astype(object).where(fast.notna(), None).values.tolist() == (
        rows.astype(object).where(rows.notna(), None).values.tolist()
    )
    assert [type(x) for x in fast.iloc[0, [0, 3]]] == [type(x) for x in rows.iloc[0, [0, 3]]]
    with engine.connect() as conn:  # no rows: the columns still
        empty = store.fetch_frame(conn, q.where(sa.false()), cols)
    assert empty.empty and list(empty.columns) == cols


def test_gc_paused_nests_across_threads_and_restores_the_collector() -> None:
    import gc
    import threading

    assert gc.isenabled()
    inside: list[bool] = []
    go, done = threading.Event(), threading.Event()

    def other() -> None:
        with store.gc_paused():
            go.set()
            done.wait(5)
            inside.append(gc.isenabled())

    th = threading.Thread(target=other)
    with store.gc_paused():
        th.start()
        go.wait(5)
        with store.gc_paused():
            inside.append(gc.isenabled())
        inside.append(gc.isenabled())
    inside.append(gc.isenabled())  # the other thread still inside: still off
    done.set()
    th.join(5)
    assert inside == [False, False, False, False] and gc.isenabled()
    gc.disable()  # a caller that turned it off itself keeps it off
    try:
        with store.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
