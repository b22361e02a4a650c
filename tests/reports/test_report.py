"""The KPI engine end to end on SQLite and PostgreSQL, against the hand-computed timeline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from reports import query, report, targets
from reports.errors import ReportInvalid

NOW = timeline.at(3, 0)


def _one(engine: Engine, by: str = "", interval: str = "30m", kpi: str | None = None) -> dict:
    zone = report.report_zone(engine, [], None)
    q = query.build("2026-12-01", "2026-12-01", interval, by, kpi, None, zone)
    return report.run(engine, q, NOW).as_dict()


def test_hand_timeline_by_half_hour(engine: Engine) -> None:
    ids = timeline.build(engine)
    out = _one(engine)
    assert out["zone"] == "Asia/Shanghai"
    assert len(out["rows"]) == 48  # a whole day, no DST in Shanghai
    row = next(r for r in out["rows"] if r["interval"] == "2026-12-01T09:00+08:00")
    assert row["dials"] == 5
    assert row["connect_rate"] == pytest.approx(0.6)
    assert row["contacts"] == 2
    assert row["successes"] == 1
    assert row["success_rate"] == pytest.approx(0.5)
    assert row["abandon_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert row["time_to_answer"] == pytest.approx(9.75)
    assert row["talk_time"] == pytest.approx(180)
    assert row["wrap_time"] == pytest.approx(90)
    assert row["avg_wrap_time"] == pytest.approx(45)
    assert row["aht"] == pytest.approx(135)
    assert row["occupancy"] == pytest.approx(0.225)
    assert row["away_time"] == pytest.approx(600)
    assert row["away_time:break"] == pytest.approx(600)
    assert row["idle_time"] == pytest.approx(928)
    assert row["fcr"] == pytest.approx(0.5)
    assert row["transfer_rate"] == 0
    empty = next(r for r in out["rows"] if r["interval"] == "2026-12-01T10:00+08:00")
    assert empty["dials"] == 0 and empty["connect_rate"] is None
    assert ids["agent"] > 0


def test_by_agent_and_targets(engine: Engine) -> None:
    timeline.build(engine)
    targets.set_target(engine, "connect_rate", None, 0.35)
    targets.set_target(engine, "abandon_rate", None, 0.03)
    out = _one(engine, by="agent,campaign", interval="day")
    by_agent = {r["agent"]: r for r in out["rows"]}
    assert set(by_agent) == {"wang", ""}  # unanswered calls have no agent
    wang = by_agent["wang"]
    assert wang["contacts"] == 2 and wang["occupancy"] == pytest.approx(0.225)
    assert wang["campaign"] == "回访一"
    nobody = by_agent[""]
    assert nobody["dials"] == 3 and nobody["abandon_rate"] == pytest.approx(1.0)
    assert nobody["status"]["abandon_rate"] == "red"
    assert wang["status"]["connect_rate"] == "green"


def test_by_list_column_leaves_agent_time_out(engine: Engine) -> None:
    timeline.build(engine)
    out = _one(engine, by="col:product,region", interval="day", kpi="dials,occupancy")
    assert [(r["col:product"], r["region"], r["dials"]) for r in out["rows"]] == [
        ("kettle", "CN", 5)
    ]
    assert out["rows"][0]["occupancy"] is None
    assert out["notes"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("2026-12-02", "2026-12-01", "30m", "", None), "from"),
        (("2026-01-01", "2027-03-01", "day", "", None), "to"),
        (("2026-12-01", "2026-12-01", "5m", "", None), "interval"),
        (("2026-12-01", "2026-12-01", "day", "planet", None), "by"),
        (("2026-12-01", "2026-12-01", "day", "", "happiness"), "kpi"),
    ],
)
def test_bad_input_names_the_field(args: tuple, field: str) -> None:
    with pytest.raises(ReportInvalid) as err:
        query.build(*args, None, "UTC")
    assert err.value.as_dict()["field"] == field
