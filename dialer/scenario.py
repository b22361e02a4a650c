"""Scenarios for ``outdial simulate``: the format of shared/pacing/scenarios.json.

A scenario is ``{"name": ..., "phases": [{"until": seconds, "agents": n, "p_human": p,
...}, ...]}``; a phase runs from the previous phase's ``until`` to its own.  Keys a phase
leaves out take the world's defaults (shared/pacing/world.md), or the scenario's own
top-level value for that key if it gives one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dialer.errors import SimulationError


@dataclass(frozen=True)
class Phase:
    until: float
    agents: int
    p_human: float
    p_machine: float = 0.0
    p_busy: float = 0.08
    p_fail: float = 0.04
    ring_mean: float = 9.0
    talk_mean: float = 150.0
    talk_cv: float = 0.9
    wrap_mean: float = 20.0


_PHASE_KEYS = {f.name for f in fields(Phase)}


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: tuple[Phase, ...]

    @property
    def duration(self) -> float:
        return self.phases[-1].until

    def phase_at(self, t: float) -> Phase:
        for phase in self.phases:
            if t < phase.until:
                return phase
        return self.phases[-1]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        name = str(data.get("name", "scenario"))
        raw = data.get("phases")
        if not isinstance(raw, list) or not raw:
            raise SimulationError(
                f"scenario {name}: needs a non-empty list of phases",
                scenario=name,
                reason="no_phases",
            )
        defaults = {k: v for k, v in data.items() if k in _PHASE_KEYS}
        phases: list[Phase] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise SimulationError(
                    f"scenario {name}: phase {i} is not an object",
                    scenario=name,
                    reason="bad_phase",
                )
            unknown = set(item) - _PHASE_KEYS
            if unknown:
                raise SimulationError(
                    f"scenario {name}: phase {i} has unknown keys {sorted(unknown)}",
                    scenario=name,
                    reason="unknown_keys",
                )
            try:
                phase = Phase(**{**defaults, **item})
                phase = Phase(
                    until=float(phase.until),
                    agents=int(phase.agents),
                    **{
                        f.name: float(getattr(phase, f.name))
                        for f in fields(Phase)
                        if f.name not in ("until", "agents")
                    },
                )
            except (TypeError, ValueError) as exc:
                raise SimulationError(
                    f"scenario {name}: phase {i}: {exc}", scenario=name, reason="bad_phase"
                ) from exc
            _check(name, i, phase, phases[-1].until if phases else 0.0)
            phases.append(phase)
        return cls(name, tuple(phases))


def _check(name: str, i: int, phase: Phase, start: float) -> None:
    problems = []
    if phase.until <= start:
        problems.append("until must grow from phase to phase")
    if phase.agents < 0:
        problems.append("agents must be >= 0")
    probs = (phase.p_human, phase.p_machine, phase.p_busy, phase.p_fail)
    if min(probs) < 0 or sum(probs) > 1.0 + 1e-9:
        problems.append("outcome probabilities must be >= 0 and sum to at most 1")
    if min(phase.ring_mean, phase.talk_mean, phase.wrap_mean) <= 0 or phase.talk_cv <= 0:
        problems.append("means and cv must be positive")
    if problems:
        raise SimulationError(
            f"scenario {name}: phase {i}: {'; '.join(problems)}", scenario=name, reason="bad_phase"
        )


def parse_scenarios(data: object) -> list[Scenario]:
    """A list of scenario objects, or one."""
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise SimulationError(
                "a scenario must be a JSON object", scenario="?", reason="not_object"
            )
        out.append(Scenario.from_dict(item))
    return out


def load_scenarios(path: str | Path) -> list[Scenario]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SimulationError(
            f"cannot read scenario file {path}: {exc}", scenario=str(path), reason="unreadable"
        ) from exc
    return parse_scenarios(data)
