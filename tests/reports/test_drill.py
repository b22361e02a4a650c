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

from reports import service
from reports.errors import ReportInvalid

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
