"""Who answers a simulated call: the population of the simulated carrier, drawn per call.

Pure: a ``random.Random`` and a phase of a scenario in, a :class:`Persona` out; no pjsua2,
no clock. The mix follows the world of shared/pacing/world.md (``p_human``, ``p_machine``,
``p_busy``, ``p_fail``, otherwise no answer; lognormal ring and talk times) and a scenario's
optional top-level ``customers`` object for what a person does once on the line::

    {"name": "demo",
     "customers": {"p_refuse": 0.1, "p_callback": 0.1, "scores": [5, 8, 15, 32, 40]},
     "phases": [{"until": 28800, "agents": 10, "p_human": 0.55, "talk_mean": 25}]}

``scores`` are the relative weights of survey keys 1..5 (a satisfied population by default).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dialer.scenario import Phase, Scenario, parse_scenarios
from sip.errors import SipConfigError

#: The scenario the simulated carrier uses when none is configured (shipped beside this file).
DEFAULT_SCENARIO = Path(__file__).with_name("sim_scenario.json")
SURVEY_QUESTIONS = 6  # the seeds' survey has six questions ("outdial surveys list")


class Kind(StrEnum):
    PERSON = "person"  # says "喂？", then talks; presses survey keys when asked
    REFUSE = "refuse"  # a person who says no and hangs up
    CALLBACK = "callback"  # a person who asks to be called later
    MACHINE = "machine"  # an answering machine with a long greeting
    BUSY = "busy"
    FAILURE = "failure"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True, slots=True)
class Customers:
    """What people do once they answer (the scenario's ``customers`` object)."""

    p_refuse: float = 0.08
    p_callback: float = 0.07
    scores: tuple[float, ...] = (4.0, 6.0, 12.0, 33.0, 45.0)  # keys 1..5
    keys_after: float = 4.0  # seconds after the answer before the first survey key
    keys_every: float = 3.0

    @classmethod
    def from_dict(cls, raw: object) -> Customers:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise SipConfigError("scenario 'customers' must be an object")
        known = {"p_refuse", "p_callback", "scores", "keys_after", "keys_every"}
        unknown = set(raw) - known
        if unknown:
            raise SipConfigError(f"scenario 'customers' has unknown keys {sorted(unknown)}")
        d = cls()
        try:
            out = cls(
                p_refuse=float(raw.get("p_refuse", d.p_refuse)),
                p_callback=float(raw.get("p_callback", d.p_callback)),
                scores=tuple(float(w) for w in raw.get("scores", d.scores)),
                keys_after=float(raw.get("keys_after", d.keys_after)),
                keys_every=float(raw.get("keys_every", d.keys_every)),
            )
        except (TypeError, ValueError) as exc:
            raise SipConfigError(f"scenario 'customers': {exc}") from exc
        if min(out.p_refuse, out.p_callback) < 0 or out.p_refuse + out.p_callback > 1:
            raise SipConfigError("p_refuse and p_callback must be >= 0 and sum to at most 1")
        if len(out.scores) != 5 or min(out.scores) < 0 or sum(out.scores) <= 0:
            raise SipConfigError("scores must be five non-negative weights (keys 1..5)")
        return out


@dataclass(frozen=True, slots=True)
class Population:
    """A scenario for the simulated carrier: its phases and its customers."""

    scenario: Scenario
    customers: Customers = field(default_factory=Customers)

    def phase_at(self, t: float) -> Phase:
        return self.scenario.phase_at(t)


@dataclass(frozen=True, slots=True)
class Persona:
    """One simulated callee. Times in seconds: ``ring`` from the INVITE to the final answer,
    ``talk`` from the answer to our BYE (None: waits for the caller to hang up)."""

    kind: Kind
    lang: str  # "zh" or "en": which recordings the callee plays
    ring: float
    status: int  # the final response: 200, 486, 503 ... (0: rings until CANCEL)
    talk: float | None = None
    keys: tuple[tuple[float, str], ...] = ()  # (seconds after the answer, digit)
    sounds: tuple[tuple[float, str], ...] = ()  # (seconds after the answer, sound name)


def load_population(path: str | Path | None = None, name: str | None = None) -> Population:
    """The scenario ``name`` (else the first) of a scenarios.json-format file."""
    file = Path(path) if path else DEFAULT_SCENARIO
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SipConfigError(f"cannot read the simulated carrier's scenario {file}: {exc}") from exc
    items: list[Any] = data if isinstance(data, list) else [data]
    try:
        scenarios = parse_scenarios(items)
    except Exception as exc:  # dialer's SimulationError: a bad file is a config error here
        raise SipConfigError(f"{file}: {exc}") from exc
    index = next((i for i, s in enumerate(scenarios) if s.name == name), None) if name else 0
    if index is None:
        raise SipConfigError(f"{file} has no scenario named {name!r}")
    raw = items[index].get("customers") if isinstance(items[index], dict) else None
    return Population(scenarios[index], Customers.from_dict(raw))


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation."""
    sigma2 = math.log(1.0 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


def language_of(number: str) -> str:
    """Chinese recordings for +86 and bare Chinese numbers, English otherwise."""
    if number.startswith("+"):
        return "zh" if number.startswith("+86") else "en"
    return "zh" if len(number) == 11 and number.startswith("1") else "en"


def draw(
    rng: random.Random, pop: Population, phase: Phase, number: str, ring_timeout: float = 25.0
) -> Persona:
    """The callee of one call to ``number`` (world.md's hidden outcome, drawn at the INVITE)."""
    lang = language_of(number)
    u = rng.random()
    ring = min(lognormal(rng, phase.ring_mean, 0.6), ring_timeout * 0.9)
    if u < phase.p_human:
        return _person(rng, pop.customers, phase, lang, ring)
    u -= phase.p_human
    if u < phase.p_machine:
        talk = lognormal(rng, 20.0, 0.3) + 10.0  # the greeting, then silence until a beep
        return Persona(Kind.MACHINE, lang, ring, 200, talk, sounds=((0.3, "machine"),))
    u -= phase.p_machine
    if u < phase.p_busy:
        return Persona(Kind.BUSY, lang, rng.uniform(1.5, 5.0), 486)
    u -= phase.p_busy
    if u < phase.p_fail:
        return Persona(Kind.FAILURE, lang, rng.uniform(0.5, 3.0), rng.choice((480, 503, 404)))
    return Persona(Kind.NO_ANSWER, lang, ring_timeout, 0)


def _person(rng: random.Random, c: Customers, phase: Phase, lang: str, ring: float) -> Persona:
    hello = (0.2, "hello")
    u = rng.random()
    if u < c.p_refuse:
        return Persona(
            Kind.REFUSE, lang, ring, 200, rng.uniform(4.0, 9.0), sounds=(hello, (1.5, "refuse"))
        )
    if u < c.p_refuse + c.p_callback:
        sounds = (hello, (1.5, "callback"))
        return Persona(Kind.CALLBACK, lang, ring, 200, rng.uniform(8.0, 15.0), sounds=sounds)
    talk = max(lognormal(rng, phase.talk_mean, phase.talk_cv), 6.0)
    keys = survey_keys(rng, c)
    # long enough to answer a survey after a short talk with the agent
    talk = max(talk, keys[-1][0] + 3.0) if keys else talk
    return Persona(Kind.PERSON, lang, ring, 200, talk, keys, (hello, (1.5, "talk")))


def survey_keys(rng: random.Random, c: Customers) -> tuple[tuple[float, str], ...]:
    """Scores 1..5 by the population's weights, one key per question (RFC 4733 digits),
    pressed repeatedly through the call: a survey asks when it asks, and a key pressed
    before a question is simply not read."""
    out: list[tuple[float, str]] = []
    at = c.keys_after
    for _ in range(SURVEY_QUESTIONS * 3):
        digit = rng.choices("12345", weights=c.scores)[0]
        out.append((round(at, 2), digit))
        at += c.keys_every * rng.uniform(0.8, 1.2)
    return tuple(out)
