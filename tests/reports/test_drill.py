"""The calls behind a report row (reports/drill.py) on SQLite and PostgreSQL: every row's calls
are as many as its dials, by agent, by half-hour, week and month, by region and list column;
simulated calls only when the report includes them; a label outside the report is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from reports import drill, service, store
from reports.errors import ReportInvalid
from reports.kpis import KPIS

NOW = timeline.at(3, 0)
DAY = {"from": "2026-12-01", "to": "2026-12-01", "kpi": "dials"}


def _ids(engine: Engine, params: dict, at: str, values: dict[str, str]) -> list[str]:
    got = service.drill_calls(engine, params, at, values)
    assert got.total == len(got.rows)
    return [r["call_id"] for r in got.rows]


def test_each_rows_calls_are_its_dials(engine: Engine) -> None:
    timeline.build(engine)
    for interval, by in (("day", "agent"), ("30m", ""), ("week", "campaign"), ("1h", "kind")):
        params = {**DAY, "interval": interval, "by": by}
        rep = service.kpi_report(engine, params, NOW)
        dims = list(rep.query.by)
        for r in rep.rows:
            values = {d: str(r[1 + i] or "") for i, d in enumerate(dims)}
            got = service.drill_calls(engine, params, str(r[0]), values)
            assert got.total == r[rep.columns.index("dials")], (interval, by, r)


def test_calls_behind_an_agent_and_behind_no_agent(engine: Engine) -> None:
    timeline.build(engine)
    params = {**DAY, "interval": "day", "by": "agent"}
    assert _ids(engine, params, "2026-12-01", {"agent": "wang"}) == ["c2", "c1"]  # newest first
    nobody = service.drill_calls(engine, params, "2026-12-01", {"agent": ""})
    assert [r["call_id"] for r in nobody.rows] == ["c5", "c4", "c3"]
    c5 = nobody.rows[0]
    assert c5["abandoned"] and c5["answered"] and c5["ring_seconds"] == 4.0
    assert c5["at"] == "2026-12-01T09:22:00+08:00" and c5["number"] == "+8613800000005"
    assert c5["campaign"] == "回访一" and c5["agent"] == ""
    assert nobody.rows[1]["amd"] == "machine" and nobody.rows[2]["answered"] is False


def test_by_region_list_column_and_month(engine: Engine) -> None:
    timeline.build(engine)
    params = {**DAY, "interval": "month", "by": "region,col:product"}
    assert len(_ids(engine, params, "2026-12", {"region": "CN", "col:product": "kettle"})) == 5
    assert _ids(engine, params, "2026-12", {"region": "US", "col:product": "kettle"}) == []
    half = {**DAY, "interval": "30m"}
    assert len(_ids(engine, half, "2026-12-01T09:00+08:00", {})) == 5
    assert _ids(engine, half, "2026-12-01T09:30+08:00", {}) == []


def test_simulated_calls_only_when_the_report_has_them(engine: Engine) -> None:
    timeline.build_simulated(engine)  # the hand timeline and the simulated carrier's calls
    params = {**DAY, "interval": "day"}
    real = service.drill_calls(engine, params, "2026-12-01", {})
    both = service.drill_calls(engine, {**params, "include_simulated": "true"}, "2026-12-01", {})
    assert both.total > real.total == 5


@pytest.mark.parametrize(
    ("at", "values", "field"),
    [
        ("yesterday", {}, "at"),
        ("2026-12-02", {}, "at"),  # outside the report's one day
        ("2026-12-01", {"other": "x"}, "agent"),  # the row's agent is missing
    ],
)
def test_a_row_not_in_the_report_is_refused(
    sqlite_engine: Engine, at: str, values: dict[str, str], field: str
) -> None:
    timeline.build(sqlite_engine)
    params = {**DAY, "interval": "day", "by": "agent" if field == "agent" else ""}
    with pytest.raises(ReportInvalid) as err:
        service.drill_calls(sqlite_engine, params, at, values)
    assert err.value.fields["field"] == field


# --- the calls behind one figure: the figure's own calls (issue: drill-down by KPI) ----------


def _more_calls(engine: Engine, ids: dict[str, int]) -> None:
    """Two calls more in the same half-hour: c6 a second bridged call of c1's record (a sale,
    transferred: not a first-contact resolution), c7 a person who finished the IVR; and the
    campaign made a return-visit one, so that every attempt measure has calls."""
    import sqlalchemy as sa

    from dialer.models import Attempt
    from outdial.storage import session_scope

    with engine.begin() as conn:
        first = conn.execute(sa.text("SELECT contact_id FROM attempts WHERE call_id = 'c1'"))
        contact = int(first.scalar_one())
        conn.execute(sa.text("UPDATE campaigns SET kind = 'return_visit'"))
    with session_scope(engine) as s:
        s.add(
            Attempt(
                call_id="c6",
                campaign_id=ids["campaign"],
                contact_id=contact,
                number="+8613800000001",
                created_at=timeline.at(1, 25),
                answered_at=timeline.at(1, 25, 6),
                bridged_at=timeline.at(1, 25, 7),
                transferred_at=timeline.at(1, 26),
                agent_user_id=ids["agent"],
                disposition="sale",
                state="completed",
                final=True,
            )
        )
        s.add(
            Attempt(
                call_id="c7",
                campaign_id=ids["campaign"],
                contact_id=contact,
                number="+8613800000001",
                created_at=timeline.at(1, 27),
                answered_at=timeline.at(1, 27, 3),
                amd="human",
                state="completed",
                final=True,
            )
        )


@pytest.mark.parametrize("kpi", list(drill.FIGURES))
def test_each_figure_lists_its_own_calls(engine: Engine, kpi: str) -> None:
    """For every KPI counted from attempts, the calls listed are exactly as many as the
    figure's numerator (reports/store.py attempt_sums), and its denominator is said too."""
    ids = timeline.build(engine)
    _more_calls(engine, ids)
    sums = store.attempt_sums(engine, store.Window(timeline.at(0, 0), timeline.at(4, 0)), [])
    num, den = drill.FIGURES[kpi]
    got = service.drill_calls(engine, {**DAY, "interval": "day"}, "2026-12-01", {}, kpi)
    assert got.total == int(sums[num].sum()) == len(got.rows) > 0
    assert got.of == (None if den is None else int(sums[den].sum()))
    # the figure the report shows is made of those counts
    rep = service.kpi_report(engine, {**DAY, "interval": "day", "kpi": kpi}, NOW)
    shown = rep.rows[0][rep.columns.index(kpi)]
    if den is not None:
        assert shown == pytest.approx(got.total / got.of)
    elif KPIS[kpi].unit == "count":
        assert shown == got.total


def test_figures_by_hand(engine: Engine) -> None:
    ids = timeline.build(engine)
    _more_calls(engine, ids)
    params = {**DAY, "interval": "day"}
    # by hand (tests/reports/timeline.py plus c6, c7)
    abandoned = service.drill_calls(engine, params, "2026-12-01", {}, "abandon_rate")
    assert ([r["call_id"] for r in abandoned.rows], abandoned.of) == (["c5"], 5)
    live = service.drill_calls(engine, params, "2026-12-01", {}, "connect_rate")
    assert sorted(r["call_id"] for r in live.rows) == ["c1", "c2", "c5", "c6", "c7"]
    assert live.of == 7
    fcr = service.drill_calls(engine, params, "2026-12-01", {}, "fcr")
    assert [r["call_id"] for r in fcr.rows] == ["c1"]  # c6 is the record's second contact
    contacts = service.drill_calls(engine, params, "2026-12-01", {}, "contacts")
    assert sorted(r["call_id"] for r in contacts.rows) == ["c1", "c2", "c6", "c7"]
    moved = service.drill_calls(engine, params, "2026-12-01", {}, "transfer_rate")
    assert [r["call_id"] for r in moved.rows] == ["c6"] and moved.of == 4


def test_by_agent_the_figure_and_the_row_both_filter(engine: Engine) -> None:
    ids = timeline.build(engine)
    _more_calls(engine, ids)
    params = {**DAY, "interval": "day", "by": "agent"}
    got = service.drill_calls(engine, params, "2026-12-01", {"agent": "wang"}, "successes")
    assert [r["call_id"] for r in got.rows] == ["c6", "c1"]
    assert got.rows[0]["disposition"] == "sale" and got.rows[0]["disposition_label"] == ""
    nobody = service.drill_calls(engine, params, "2026-12-01", {"agent": ""}, "abandon_rate")
    assert [r["call_id"] for r in nobody.rows] == ["c5"]


@pytest.mark.parametrize(
    ("kpi", "source"),
    [
        ("occupancy", "agent_time"),
        ("talk_time", "agent_time"),
        ("away_time:break", "agent_time"),
        ("plan_completion", "contacts"),
        ("csat", "surveys"),
        ("satisfaction:overall:mean", "surveys"),
    ],
)
def test_figures_of_agent_time_records_or_answers_have_no_calls(
    sqlite_engine: Engine, kpi: str, source: str
) -> None:
    timeline.build(sqlite_engine)
    got = service.drill_calls(sqlite_engine, {**DAY, "interval": "day"}, "2026-12-01", {}, kpi)
    assert got.total == 0 and got.rows == [] and got.no_calls == source


def test_an_unknown_kpi_is_refused(sqlite_engine: Engine) -> None:
    timeline.build(sqlite_engine)
    with pytest.raises(ReportInvalid) as err:
        service.drill_calls(sqlite_engine, {**DAY, "interval": "day"}, "2026-12-01", {}, "nope")
    assert err.value.fields["field"] == "kpi"


def test_pages_past_the_newest_two_hundred(engine: Engine) -> None:
    """450 calls, 150 of them dialled at the same second: three pages of keyset paging list
    each call once, newest first, and the last page has no older page."""
    from datetime import timedelta

    import sqlalchemy as sa

    from dialer.models import Attempt
    from outdial.storage import session_scope
    from reports import drill

    ids = timeline.build(engine)
    with engine.connect() as conn:
        contact = int(conn.execute(sa.text("SELECT MIN(id) FROM contacts")).scalar_one())
    with session_scope(engine) as s:
        for i in range(445):
            s.add(
                Attempt(
                    call_id=f"p{i}",
                    campaign_id=ids["campaign"],
                    contact_id=contact,
                    number="+8613800000001",
                    created_at=timeline.at(2, 0) + timedelta(seconds=i // 3 if i >= 150 else 0),
                    state="no_answer",
                )
            )
    params = {**DAY, "interval": "day"}
    seen: list[str] = []
    before = None
    for page in range(3):
        got = service.drill_calls(engine, params, "2026-12-01", {}, "dials", before)
        assert got.total == 450
        seen += [r["call_id"] for r in got.rows]
        before = got.older
        assert (before is None) == (page == 2)
        assert len(got.rows) == (drill.MAX_ROWS if page < 2 else 50)
    assert len(seen) == len(set(seen)) == 450
    assert seen[-5:] == ["c5", "c4", "c3", "c2", "c1"]
    with pytest.raises(ReportInvalid) as err:
        service.drill_calls(engine, params, "2026-12-01", {}, "dials", 10**9)
    assert err.value.fields["field"] == "before"
