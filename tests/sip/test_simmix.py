"""The simulated carrier's population (sip/simmix.py): pure draws from a scenario."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from sip.errors import SipConfigError
from sip.simmix import DEFAULT_SCENARIO, Customers, Kind, draw, language_of, load_population

SHARED = Path("/work/shared/pacing/scenarios.json")


def _mix(pop_path: Path | None = None, n: int = 4000) -> Counter[Kind]:
    pop = load_population(pop_path)
    rng = random.Random(7)
    phase = pop.phase_at(0.0)
    return Counter(draw(rng, pop, phase, "+8613900100001").kind for _ in range(n))


def test_the_default_mix_follows_its_scenario() -> None:
    pop = load_population()
    phase = pop.phase_at(0.0)
    mix = _mix()
    n = sum(mix.values())
    people = mix[Kind.PERSON] + mix[Kind.REFUSE] + mix[Kind.CALLBACK]
    assert abs(people / n - phase.p_human) < 0.03
    assert abs(mix[Kind.BUSY] / n - phase.p_busy) < 0.02
    assert abs(mix[Kind.MACHINE] / n - phase.p_machine) < 0.02
    assert abs(mix[Kind.FAILURE] / n - phase.p_fail) < 0.015
    assert mix[Kind.NO_ANSWER] > 0 and mix[Kind.REFUSE] > 0 and mix[Kind.CALLBACK] > 0


def test_a_person_says_hello_talks_and_presses_scores_a_satisfied_population_favours() -> None:
    pop = load_population()
    rng = random.Random(1)
    people = [
        p
        for p in (draw(rng, pop, pop.phase_at(0), "+8613900100001") for _ in range(500))
        if p.kind is Kind.PERSON
    ]
    assert people
    for p in people:
        assert p.status == 200 and p.lang == "zh"
        assert [name for _, name in p.sounds] == ["hello", "talk"]
        assert p.talk is not None and p.talk > p.keys[-1][0]  # the keys come before the BYE
        assert all(d in "12345" for _, d in p.keys)
    keys = Counter(d for p in people for _, d in p.keys)
    assert keys["5"] > keys["4"] > keys["3"] > keys["1"]


def test_busy_and_failures_answer_with_their_status_and_no_answer_rings_on() -> None:
    pop = load_population()
    rng = random.Random(3)
    seen = {
        p.kind: p for p in (draw(rng, pop, pop.phase_at(0), "+15551230000") for _ in range(800))
    }
    assert seen[Kind.BUSY].status == 486 and 1.5 <= seen[Kind.BUSY].ring <= 5.0
    assert seen[Kind.FAILURE].status in (480, 503, 404)
    assert seen[Kind.NO_ANSWER].status == 0
    assert seen[Kind.MACHINE].sounds == ((0.3, "machine"),)
    assert seen[Kind.PERSON].lang == "en"


def test_the_shared_pacing_scenarios_load_as_populations() -> None:
    if not SHARED.exists():
        pytest.skip("shared/pacing not on this machine")
    names = [s["name"] for s in json.loads(SHARED.read_text())]
    for name in names:
        assert load_population(SHARED, name).scenario.name == name


def test_bad_scenarios_are_config_errors_with_words(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "x", "phases": [{"until": 10, "agents": 1, "p_human": 2}]}]')
    with pytest.raises(SipConfigError, match="probabilities"):
        load_population(bad)
    bad.write_text(
        '[{"name": "x", "customers": {"p_refuse": 0.9, "p_callback": 0.5}, '
        '"phases": [{"until": 10, "agents": 1, "p_human": 0.5}]}]'
    )
    with pytest.raises(SipConfigError, match="p_refuse"):
        load_population(bad)
    with pytest.raises(SipConfigError, match="no scenario named"):
        load_population(DEFAULT_SCENARIO, "nope")
    with pytest.raises(SipConfigError, match="cannot read"):
        load_population(tmp_path / "missing.json")
    with pytest.raises(SipConfigError, match="five"):
        Customers.from_dict({"scores": [1, 2]})


def test_language_follows_the_number() -> None:
    assert language_of("+8613900100001") == "zh"
    assert language_of("13900100001") == "zh"
    assert language_of("+447700900123") == "en"
