from __future__ import annotations

import doctest

import dialer.pacing
from dialer.estimators import HitMonitor
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
from dialer.pacing_math import abandon_aim, ramp_room
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


def test_external_gauge_near_cap_is_cautious_and_over_it_forces_progressive() -> None:
    """Between the guard and the cap: predictive with the tiny cautious risk bound (issue
    11.7: progressive starved big teams for minutes); over the cap: progressive."""
    view = View(now=300.0, ready=2, busy=(("wrap", 15.0),) * 18)
    near = Pacer()
    _feed(near, 0, 300, hit_every=3)
    near.set_abandon_gauge(abandoned=29, live_answers=1000)
    near.calls_to_place(view)
    decision = near.last_decision
    assert decision is not None and decision.mode == "predictive"
    assert decision.threshold <= near.config.cautious_threshold  # the explanation shows it
    over = Pacer()
    _feed(over, 0, 300, hit_every=3)
    over.set_abandon_gauge(abandoned=31, live_answers=1000)
    calls = over.calls_to_place(view)
    decision = over.last_decision
    assert decision is not None and decision.mode == "progressive"
    assert calls == 2
    assert "cap" in over.explain()


def test_hit_monitor_does_not_count_a_drop_the_model_has_learned() -> None:
    """The model expected one live answer a second and two came in three seconds: the
    monitor tilts down; once the model refits to the lower rate and the monitor restates its
    expectations, the tilt is gone (it would otherwise lower the rate a second time)."""
    monitor = HitMonitor()
    for t in range(600):
        monitor.tick(1.0)
        if t % 3:
            monitor.answered()
    assert monitor.ratio() < 0.8
    monitor.rescale(2 / 3)  # the model learned the drop
    assert 0.9 <= monitor.ratio() <= 1.0


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


def test_never_dials_with_nobody_logged_in_even_after_learning() -> None:
    pacer = Pacer()
    _feed(pacer, 0, 300, hit_every=3)
    for t in range(300, 400):
        assert pacer.calls_to_place(View(now=float(t), ready=0, ringing=(3.0,) * 5)) == 0


def test_hit_monitor_reacts_to_a_jump_and_not_to_steady_noise() -> None:
    steady, jump = HitMonitor(), HitMonitor()
    for t in range(600):
        steady.tick(0.2)
        jump.tick(0.2)
        if t % 5 == 0:
            steady.answered()
            jump.answered()
    assert 0.8 <= steady.ratio() <= 1.0
    for _ in range(20):  # five times the expected live answers for 20 s
        jump.tick(0.2)
        jump.answered()
    assert jump.ratio() > 1.5


def test_ramp_room_bounds_growth_of_calls_in_flight() -> None:
    pools = [10] * 10 + [4] * 10  # newest first: 10 in flight now, 4 ten seconds ago
    assert ramp_room(pools, window=10, growth=0.5, in_flight=10) == 0  # may reach 7
    assert ramp_room([4] * 20, window=10, growth=0.5, in_flight=4) == 3


def test_ramp_room_is_bounded_in_absolute_calls() -> None:
    """Issue 11.7: 400 in flight may grow by half (200), but by no more than the step."""
    assert ramp_room([400] * 20, window=10, growth=0.5, in_flight=400) == 201
    assert ramp_room([400] * 20, window=10, growth=0.5, in_flight=400, step=55) == 55


def test_aim_is_lower_when_live_answers_are_few() -> None:
    assert abandon_aim(0.02, 0.03, 1.5, live=5000, elapsed=14400.0) == 0.02
    few = abandon_aim(0.02, 0.03, 1.5, live=150, elapsed=14400.0)
    assert 0.002 <= few < 0.015


def _run(phases: list[dict[str, float]], seed: int) -> tuple[float, int]:
    result = Simulator(Scenario.from_dict({"name": "t", "phases": phases}), Pacer(), seed).run()
    return result.abandon_rate, result.live_answers


def test_hit_rate_jump_with_a_steady_team_stays_under_cap() -> None:
    rate, live = _run(
        [
            {"until": 1500, "agents": 12, "p_human": 0.1},
            {"until": 2700, "agents": 12, "p_human": 0.5, "ring_mean": 5},
        ],
        seed=4,
    )
    assert live > 120
    assert rate <= 0.03


def test_team_tripling_while_hit_rate_quadruples_stays_under_cap() -> None:
    # the burst case: new agents invite a burst of calls sized on the old hit rate
    rate, live = _run(
        [
            {"until": 1500, "agents": 8, "p_human": 0.1},
            {"until": 2700, "agents": 24, "p_human": 0.4},
        ],
        seed=5,
    )
    assert live > 200
    assert rate <= 0.03


def test_replay_after_a_restart_learns_like_the_live_run() -> None:
    """Issue 16: after a restart the pacer relearns from recent attempts instead of starting
    from zero; what it learns matches a pacer that saw the same calls live (a fake clock)."""
    from dialer.pacing import PastCall

    past = [
        PastCall("live", 6.0, waited=0.4, talk_seconds=120.0)
        if i % 3 == 0
        else PastCall("no_answer" if i % 3 == 1 else "busy", 20.0 if i % 3 == 1 else 2.0)
        for i in range(34)
    ]
    live = Pacer(PacerConfig(mode="predictive"))
    now = 0.0
    for call in past:  # the same calls, one at a time, as the engine reports them
        live.observe(Dialed())
        ages = [0.0]
        while ages[0] < call.seconds_since_dial:
            now += 1.0
            ages[0] += 1.0
            live.calls_to_place(View(now=now, ready=2, ringing=tuple(ages)))
        if call.outcome == "live":
            live.observe(Answered(call.seconds_since_dial))
            live.observe(Connected(call.waited or 0.0))
            live.observe(TalkEnded(call.talk_seconds or 0.0))
        else:
            live.observe(NoAnswer() if call.outcome == "no_answer" else Busy())
    cold, warm = Pacer(PacerConfig(mode="predictive")), Pacer(PacerConfig(mode="predictive"))
    assert warm.replay(past) == 34
    assert (warm.resolved, warm.answered, warm.connected) == (34, 12, 12)
    view = View(now=0.0, ready=2, busy=(("talk", 30.0),))
    cold.calls_to_place(view)
    warm.calls_to_place(view)
    assert cold.last_decision is not None and warm.last_decision is not None
    assert "Still learning: only 0 attempts resolved" in cold.last_decision.reason
    assert "Still learning" not in warm.last_decision.reason
    live.attempts.refit()
    assert abs(warm.attempts.hit_rate - live.attempts.hit_rate) < 0.05
    assert warm.talk.observed == 12 and warm.talk.mean() < cold.talk.mean()
