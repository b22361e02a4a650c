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
    targets.set_target(engine, "success_rate", None, 0.6)
    targets.set_target(engine, "aht", None, 150)
    out = _one(engine, by="agent,campaign", interval="day")
    by_agent = {r["agent"]: r for r in out["rows"]}
    assert set(by_agent) == {"wang", ""}  # unanswered calls have no agent
    wang = by_agent["wang"]
    assert wang["contacts"] == 2 and wang["occupancy"] == pytest.approx(0.225)
    assert wang["campaign"] == "回访一"
    assert wang["success_rate"] == pytest.approx(0.5) and wang["aht"] == pytest.approx(135)
    assert wang["status"] == {"success_rate": "red", "aht": "green"}
    assert by_agent[""]["dials"] == 3


def test_connect_and_abandon_rate_are_not_split_by_agent(engine: Engine) -> None:
    """An attempt has an agent only once bridged: split by agent, wang would read 100 %
    connected / 0 % abandoned and the no-agent row 1/3 connected / 100 % abandoned. The cells
    are empty (no target colour) and a note says why; the team's rates stay."""
    timeline.build(engine)
    targets.set_target(engine, "connect_rate", None, 0.35)
    out = _one(engine, by="agent", interval="day", kpi="dials,connect_rate,abandon_rate")
    for r in out["rows"]:
        assert r["connect_rate"] is None and r["abandon_rate"] is None
        assert "connect_rate" not in r["status"]
    assert report.NOT_BY_AGENT_NOTE in out["notes"]
    team = _one(engine, interval="day", kpi="dials,connect_rate,abandon_rate")
    assert team["rows"][0]["connect_rate"] == pytest.approx(0.6)
    assert team["rows"][0]["abandon_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert report.NOT_BY_AGENT_NOTE not in team["notes"]


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


@pytest.mark.parametrize("now", [NOW, timeline.at(1, 20)], ids=["rolled-up", "live"])
def test_simulated_calls_and_agents_left_out_unless_asked(engine: Engine, now) -> None:
    """Issue 17: the same data with and without the simulated carrier's rows. Left out: the
    hand figures of the timeline alone. Included: 7 dials, 5 live answers (connect 5/7),
    3 contacts, 2 sales, abandon 2/5; sim01's 120 s of talk and 600 + 480 s ready added."""
    timeline.build_simulated(engine)
    zone = report.report_zone(engine, [], None)

    def row(simulated: bool) -> dict:
        q = query.build("2026-12-01", "2026-12-01", "30m", "", None, None, zone, simulated)
        out = report.run(engine, q, now).as_dict()
        return next(r for r in out["rows"] if r["interval"] == "2026-12-01T09:00+08:00")

    real, both = row(False), row(True)
    assert (real["dials"], real["contacts"], real["successes"]) == (5, 2, 1)
    assert real["abandon_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert (both["dials"], both["contacts"], both["successes"]) == (7, 3, 2)
    assert both["connect_rate"] == pytest.approx(5 / 7, abs=1e-6)
    assert both["abandon_rate"] == pytest.approx(2 / 5, abs=1e-6)
    assert both["talk_time"] - real["talk_time"] == pytest.approx(120)
    assert both["idle_time"] - real["idle_time"] == pytest.approx(600 + 480)
    if now == NOW:
        assert real["talk_time"] == pytest.approx(180) and real["idle_time"] == pytest.approx(928)
    by_agent = _by_agent(engine, zone, now)
    assert "sim01" not in by_agent and by_agent["wang"]["contacts"] == 2


def _by_agent(engine: Engine, zone: str, now) -> dict[str, dict]:
    q = query.build("2026-12-01", "2026-12-01", "day", "agent", None, None, zone)
    return {r["agent"]: r for r in report.run(engine, q, now).as_dict()["rows"]}


def test_include_simulated_is_a_yes_or_no(sqlite_engine: Engine) -> None:
    from reports import service

    base = {"from": "2026-12-01", "to": "2026-12-01"}
    assert service.build_query(sqlite_engine, base).simulated is False
    on = service.build_query(sqlite_engine, {**base, "include_simulated": "true"})
    assert on.simulated is True
    with pytest.raises(ReportInvalid) as err:
        service.build_query(sqlite_engine, {**base, "include_simulated": "maybe"})
    assert err.value.fields.get("field") == "include_simulated"


def test_by_team_adds_its_agents_up(engine: Engine) -> None:
    """wang is in team "A 组": the team's row is wang's; unanswered calls stay under ""."""
    from outdial import auth

    timeline.build(engine)
    auth.set_team(engine, "wang", "A 组")
    by_agent = {r["agent"]: r for r in _one(engine, by="agent", interval="day")["rows"]}
    out = _one(engine, by="team", interval="day")
    by_team = {r["team"]: r for r in out["rows"]}
    assert set(by_team) == {"A 组", ""}
    for kpi in ("dials", "aht", "occupancy", "away_time"):
        assert by_team["A 组"][kpi] == by_agent["wang"][kpi], kpi
        assert by_team[""][kpi] == by_agent[""][kpi], kpi
    # a call has an agent (and so a team) only once bridged: no connect rate per team
    assert by_team["A 组"]["connect_rate"] is None and report.NOT_BY_AGENT_NOTE in out["notes"]
    both = _one(engine, by="team,agent", interval="day")["rows"]
    assert {(r["team"], r["agent"]) for r in both} == {("A 组", "wang"), ("", "")}
    assert "plan completion" in " ".join(out["notes"])  # contacts carry no agent


def test_targets_saved_together_or_not_at_all(engine: Engine) -> None:
    targets.set_target(engine, "aht", None, 150)
    with pytest.raises(ReportInvalid) as err:
        targets.save_all(engine, {"connect_rate": (">=", 0.35), "fcr": (None, "-1")})
    assert err.value.fields["field"] == "value:fcr"
    assert targets.load(engine) == {"aht": {"op": "<=", "value": 150.0}}
    out = targets.save_all(engine, {"connect_rate": (None, "0.35"), "aht": (None, "")})
    assert out == {"connect_rate": {"op": ">=", "value": 0.35}}
