"""Staffing forecast: Erlang C against published tables, rounding, and the simulator check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.scenario import Scenario
from dialer.simulator import simulate
from reports import forecast
from reports.errors import ReportInvalid

T0 = datetime(2026, 12, 1, 1, tzinfo=UTC)


def test_erlang_c_published_table() -> None:
    # 100 calls per half hour, AHT 180 s: 10 Erlangs (the textbook example; 80 % in 20 s)
    assert forecast.erlang_c(10.0, 11) == pytest.approx(0.6821, abs=1e-4)
    assert forecast.erlang_c(10.0, 12) == pytest.approx(0.4494, abs=1e-4)
    assert forecast.erlang_c(10.0, 14) == pytest.approx(0.1741, abs=1e-4)
    assert forecast.erlang_c(10.0, 13) == pytest.approx(0.2853, abs=1e-4)
    assert forecast.service_level(10.0, 13, 180, 20) == pytest.approx(0.796, abs=1e-3)
    assert forecast.agents_for(100, 1800, 180, 20, 0.8) == 14
    assert forecast.erlang_c(10.0, 10) == 1.0


def test_whole_agents_keep_the_total() -> None:
    assert forecast.whole_agents([2.5, 2.5, 2.5, 2.5]) == [3, 3, 2, 2]
    assert sum(forecast.whole_agents([1.2, 0.3, 4.4])) == 6


def test_no_window_before_the_deadline_is_refused() -> None:
    rates = forecast.Rates(0.7, 150, 170, 0.25)
    slots = [forecast.Slot(T0, 9, 0.0)]
    with pytest.raises(ReportInvalid) as err:
        forecast.to_finish(100, rates, slots)
    assert err.value.as_dict()["field"] == "deadline"


def test_contacts_go_where_numbers_may_be_called() -> None:
    rates = forecast.Rates(0.75, 150, 170, 0.25, {9: 0.5})
    slots = [forecast.Slot(T0 + timedelta(minutes=30 * i), 9, s) for i, s in enumerate((1, 0, 1))]
    plan = forecast.to_finish(90, rates, slots)
    assert [r.contacts for r in plan] == [45, 0, 45]
    assert plan[0].dials == pytest.approx(90)  # the 09:00 answer rate: 0.5
    assert plan[0].agents_exact == pytest.approx(45 / (1800 * 0.75 / 150))
    assert plan[1].agents == 0


@pytest.mark.parametrize(
    ("p_human", "talk", "wrap", "history_agents", "contacts"),
    [(0.25, 150, 20, 10, 220), (0.15, 150, 20, 20, 400), (0.35, 100, 40, 7, 160)],
)
def test_forecast_staffing_finishes_in_the_simulator_within_10_percent(
    p_human: float, talk: float, wrap: float, history_agents: int, contacts: int
) -> None:
    world = {"p_human": p_human, "talk_mean": talk, "wrap_mean": wrap}
    history = simulate(
        Scenario.from_dict(
            {"name": "h", "phases": [{"until": 3600, "agents": history_agents, **world}]}
        ),
        "predictive",
        seed=1,
    )
    rates = forecast.Rates(
        talk_share=history.talk_share,
        talk_seconds=history.talk_seconds / history.connected,
        aht=0.0,
        answer_rate=history.live_answers / history.dials,
    )
    slots = [forecast.Slot(T0 + timedelta(minutes=30 * i), 9, 1.0) for i in range(2)]
    plan = forecast.to_finish(contacts, rates, slots)
    phases = [
        {"until": 1800.0 * (i + 1), "agents": max(r.agents, 1), **world} for i, r in enumerate(plan)
    ]
    run = simulate(Scenario.from_dict({"name": "f", "phases": phases}), "predictive", seed=2)
    finish = 3600.0 * contacts / run.connected  # contacts come at a steady rate
    assert abs(finish - 3600.0) <= 360.0, (plan, run.connected)
