from __future__ import annotations

import pytest

from dialer.errors import SimulationError
from dialer.pacing import Pacer, PacerConfig, View
from dialer.scenario import Scenario, parse_scenarios
from dialer.simulator import SimResult, Simulator, simulate

SMALL = Scenario.from_dict(
    {
        "name": "s",
        "phases": [{"until": 1800, "agents": 6, "p_human": 0.3, "p_machine": 0.1, "talk_mean": 80}],
    }
)


def _conserved(r: SimResult) -> None:
    outcomes = r.live_answers + r.machines + r.busy + r.failed + r.no_answer
    assert r.dials == outcomes + r.in_flight_at_end  # each attempt: exactly one outcome
    assert r.live_answers == r.connected + r.abandoned + r.waiting_at_end
    assert 0.0 <= r.talk_share <= 1.0


def test_conservation_predictive_and_progressive() -> None:
    for mode in ("predictive", "progressive"):
        result = simulate(SMALL, mode, seed=3)
        assert result.dials > 100
        _conserved(result)


def test_same_seed_same_result_other_seed_differs() -> None:
    assert simulate(SMALL, seed=1) == simulate(SMALL, seed=1)
    assert simulate(SMALL, seed=1) != simulate(SMALL, seed=2)


def test_progressive_never_abandons_with_a_steady_team() -> None:
    result = simulate(SMALL, "progressive", seed=0)
    assert result.abandoned == 0 and result.connected > 50


def test_agent_seconds_follow_the_phases() -> None:
    scenario = Scenario.from_dict(
        {
            "name": "p",
            "phases": [
                {"until": 600, "agents": 4, "p_human": 0.2},
                {"until": 1200, "agents": 2, "p_human": 0.2},
            ],
        }
    )
    result = Simulator(scenario, Pacer(PacerConfig(mode="progressive")), 0).run()
    # 4 agents for 600 s then 2; busy ones leave after their call, so a little more
    assert 3600.0 <= result.agent_seconds <= 3600.0 + 2 * 600.0
    _conserved(result)


class _Recorder(Pacer):
    def __init__(self) -> None:
        super().__init__()
        self.views: list[View] = []

    def calls_to_place(self, view: View) -> int:
        self.views.append(view)
        return super().calls_to_place(view)


def test_pacer_sees_only_the_observable_view_every_second() -> None:
    recorder = _Recorder()
    scenario = Scenario.from_dict(
        {
            "name": "v",
            "phases": [
                {"until": 300, "agents": 3, "p_human": 0.5},
                {"until": 600, "agents": 6, "p_human": 0.5},
            ],
        }
    )
    Simulator(scenario, recorder, 0).run()
    assert [v.now for v in recorder.views] == [float(t) for t in range(600)]
    for v in recorder.views:
        assert v.ready + len(v.busy) <= 6
        assert all(state in ("talk", "wrap") and age >= 0 for state, age in v.busy)
        assert all(0 < age <= 25.0 + 2.5 for age in v.ringing)
    assert max(v.ready + len(v.busy) for v in recorder.views[300:]) == 6


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x"},
        {"name": "x", "phases": [{"until": 10, "agents": 1, "p_human": 0.9, "p_busy": 0.5}]},
        {"name": "x", "phases": [{"until": 10, "agents": 1, "p_human": 0.1, "colour": 1}]},
        {
            "name": "x",
            "phases": [
                {"until": 10, "agents": 1, "p_human": 0.1},
                {"until": 5, "agents": 1, "p_human": 0.1},
            ],
        },
    ],
)
def test_bad_scenarios_raise_typed_error(bad: dict[str, object]) -> None:
    with pytest.raises(SimulationError):
        parse_scenarios(bad)


def test_scenario_level_defaults_apply_to_phases() -> None:
    (scenario,) = parse_scenarios(
        {"name": "d", "talk_mean": 99, "phases": [{"until": 10, "agents": 1, "p_human": 0.1}]}
    )
    assert scenario.phases[0].talk_mean == 99.0 and scenario.phases[0].wrap_mean == 20.0
