from __future__ import annotations

import doctest

import dialer.pacing
from dialer.pacing import (
    Abandoned,
    Answered,
    Busy,
    Connected,
    Dialed,
    NoAnswer,
    Pacer,
    PacerConfig,
    TalkEnded,
    View,
    WrapEnded,
)
from dialer.scenario import Scenario
from dialer.simulator import Simulator


def test_module_docstring_example_runs() -> None:
    assert doctest.testmod(dialer.pacing).failed == 0


def test_no_agents_no_calls() -> None:
    pacer = Pacer()
    for t in range(100):
        assert pacer.calls_to_place(View(now=float(t), ready=0)) == 0


def test_progressive_ratio_counts_calls_in_flight() -> None:
    pacer = Pacer(PacerConfig(mode="progressive", ratio=2.0))
    assert pacer.calls_to_place(View(now=0.0, ready=3)) == 6
    assert pacer.calls_to_place(View(now=1.0, ready=3, ringing=(1.0,) * 4)) == 2
    assert pacer.calls_to_place(View(now=2.0, ready=1, ringing=(2.0,) * 4)) == 0
    assert pacer.last_decision is not None and pacer.last_decision.mode == "progressive"


def test_max_lines_caps_calls() -> None:
    pacer = Pacer(PacerConfig(mode="progressive", max_lines=4))
    assert pacer.calls_to_place(View(now=0.0, ready=10, ringing=(3.0,))) == 3


def _feed(pacer: Pacer, start: int, seconds: int, hit_every: int) -> None:
    """A synthetic timeline: 5 dials a second, each resolving after 5 s."""
    ringing: list[float] = []
    for t in range(start, start + seconds):
        pacer.calls_to_place(
            View(now=float(t), ready=0, busy=(("talk", 30.0),) * 20, ringing=tuple(ringing))
        )
        for i in range(5):
            pacer.observe(Dialed())
            if t - start >= 5:  # the ones dialed 5 s ago resolve now
                if i % hit_every == 0:
                    pacer.observe(Answered(5.0))
                    pacer.observe(Connected(0.0))
                else:
                    pacer.observe(NoAnswer(5.0) if i % 2 else Busy(5.0))
        ringing = [5.0 - k for k in range(5) for _ in range(5)]


def test_learns_a_change_of_hit_rate() -> None:
    pacer = Pacer()
    _feed(pacer, 0, 1200, hit_every=5)  # 1 in 5 answers live
    pacer.calls_to_place(View(now=1200.0, ready=0))
    low = pacer.attempts.hit_rate
    _feed(pacer, 1201, 2400, hit_every=1)  # everyone answers
    pacer.calls_to_place(View(now=3601.0, ready=0))
    high = pacer.attempts.hit_rate
    assert 0.15 < low < 0.25
    assert high > 0.8


def test_learns_talk_and_wrap_residual_life() -> None:
    pacer = Pacer()
    for t in range(0, 3600):
        pacer.calls_to_place(View(now=float(t), ready=0, busy=(("talk", float(t % 60)),)))
        if t % 60 == 59:
            pacer.observe(TalkEnded(60.0))
            pacer.observe(WrapEnded(10.0))
    # talk always lasts 60 s: at 58 s the end is near, at 5 s it is not
    assert pacer.talk.end_within(57.5, 5.0) > 0.5
    assert pacer.talk.end_within(5.0, 5.0) < 0.2


def test_external_gauge_near_cap_forces_progressive() -> None:
    pacer = Pacer()
    _feed(pacer, 0, 300, hit_every=3)
    pacer.set_abandon_gauge(abandoned=29, live_answers=1000)
    calls = pacer.calls_to_place(View(now=300.0, ready=2, busy=(("wrap", 15.0),) * 18))
    decision = pacer.last_decision
    assert decision is not None and decision.mode == "progressive"
    assert calls == 2
    assert "cap" in pacer.explain()


def test_abandons_lower_the_threshold() -> None:
    pacer = Pacer()
    before = pacer.theta
    pacer.observe(Abandoned())
    assert pacer.theta < before


def test_short_run_high_hit_small_team_stays_under_cap() -> None:
    scenario = Scenario.from_dict(
        {
            "name": "small-hot",
            "phases": [{"until": 2400, "agents": 4, "p_human": 0.6, "talk_mean": 60}],
        }
    )
    for seed in range(2):
        result = Simulator(scenario, Pacer(), seed).run()
        assert result.live_answers > 50
        assert result.abandon_rate <= 0.03


def test_predictive_beats_progressive_on_a_low_hit_team() -> None:
    scenario = Scenario.from_dict(
        {"name": "cold", "phases": [{"until": 3000, "agents": 20, "p_human": 0.15}]}
    )
    pred = Simulator(scenario, Pacer(), 1).run()
    prog = Simulator(scenario, Pacer(PacerConfig(mode="progressive")), 1).run()
    assert pred.talk_share > prog.talk_share + 0.05
    assert pred.abandon_rate <= 0.03


def test_shrinking_team_falls_back_to_progressive() -> None:
    pacer = Pacer()
    _feed(pacer, 0, 300, hit_every=3)
    pacer.calls_to_place(View(now=300.0, ready=1, busy=(("talk", 15.0),) * 10))
    decision = pacer.last_decision
    assert decision is not None and decision.mode == "progressive"
    assert "shrinking" in decision.reason
