"""The pacer's timeline on one scenario and one seed: why a seed under-dials or bursts.

    .venv/bin/python bench/pacing_timeline.py C1-cold-team100-hit08 --seed 6 --every 60
    .venv/bin/python bench/pacing_timeline.py P2-team30-hit15 --seed 0 --from 600 --to 900

Prints, every ``--every`` seconds of simulated time, the pacer's mode, the team (ready /
talking), the calls in flight, the calls placed, the risk bound in use and the feedback
threshold, the abandon gauge, the hit monitor's tilt and the attempt model's hit rate; and
each abandon with its time. Scenarios: shared/pacing/scenarios.json and those of
bench/pacing_bench.py. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pacing_bench import COLD, EXTRA, _shared  # noqa: E402

from dialer import pacing as p  # noqa: E402
from dialer.scenario import Scenario, load_scenarios, parse_scenarios  # noqa: E402
from dialer.simulator import Simulator  # noqa: E402


class Traced(p.Pacer):
    """A pacer that prints its state now and then, and each abandon."""

    def __init__(self, every: int, start: float, stop: float) -> None:
        super().__init__(p.PacerConfig())
        self.every, self.start, self.stop = every, start, stop
        self.now = 0.0

    def observe(self, event: p.Event) -> None:
        if isinstance(event, p.Abandoned) and self.start <= self.now <= self.stop:
            print(f"{self.now:6.0f}   abandon (threshold was {self.theta:.4f})")
        super().observe(event)

    def calls_to_place(self, view: p.View) -> int:
        self.now = view.now
        calls = super().calls_to_place(view)
        d = self.last_decision
        if d is not None and self.start <= view.now <= self.stop and view.now % self.every == 0:
            talking = sum(1 for state, _ in view.busy if state == "talk")
            abandoned, live = self.gauge
            print(
                f"{view.now:6.0f} {d.mode[:4]:4s} ready {view.ready:3d} talk {talking:3d} "
                f"ringing {len(view.ringing):4d} place {calls:3d} bound {d.threshold:.4f} "
                f"theta {self.theta:.4f} gauge {abandoned}/{live} tilt {self._tilt:.2f} "
                f"hit {self.attempts.hit_rate:.3f}"
            )
        return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=60)
    parser.add_argument("--from", dest="start", type=float, default=0.0)
    parser.add_argument("--to", dest="stop", type=float, default=float("inf"))
    args = parser.parse_args()
    known: list[Scenario] = load_scenarios(_shared() / "pacing" / "scenarios.json")
    known += parse_scenarios(COLD) + parse_scenarios(EXTRA)
    by_name = {s.name: s for s in known}
    if args.scenario not in by_name:
        parser.error(f"unknown scenario {args.scenario!r}; known: {', '.join(by_name)}")
    pacer = Traced(max(1, args.every), args.start, args.stop)
    result = Simulator(by_name[args.scenario], pacer, args.seed).run()
    print(f"abandon rate {result.abandon_rate:.4f}, talk share {result.talk_share:.4f}")


if __name__ == "__main__":
    main()
