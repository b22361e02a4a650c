"""Rule 19: a per-campaign AMD false-positive rate measured by sampled testing.

A small share of machine verdicts is still offered to an agent (:func:`sampled`), who
marks "it was a person" or "it was a machine". :class:`FpEstimate` turns those marks
into the campaign's false-positive rate - the share of machine verdicts that were live
people - with a Wilson 95 % interval, and :meth:`FpEstimate.gauge_rate` gives the rate
the UK gauge adds to its abandoned count (``compliance.gauges.amd_estimate``).

The gauge takes the interval's upper bound, not the point estimate: rule 19 asks for a
reasoned, evidenced estimate, and with a few dozen marks the upper bound is the one
that cannot understate abandons. Until ``min_marks`` marks exist it takes the
larger of the lab rate (``bench/amd_eval.py``, held-out set) and the marks' point
estimate, so a new campaign neither starts at zero nor is blocked by an interval
as wide as [0, 0.4] after five marks.

Pure: no clock, no I/O; the call id decides the sample, so a replay decides the same.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

Z95 = 1.959964  # two-sided 95 %
#: what an attempt records as its AMD result when its machine verdict was sampled: it went
#: to an agent like a person, so the gauges count it as a live answer, not a machine
SAMPLED_MACHINE = "machine_sampled"
PERSON, MACHINE = "person", "machine"  # a reviewer's marks
#: live people called machines on the held-out corpus (``bench/amd_eval.py --deadline 6``,
#: seed 1): the estimate until a campaign has its own marks. At the 3 s default the corpus
#: gives 0 %, but a generated corpus is not the world: the larger lab figure stands in.
LAB_RATE = 0.024


def sampled(call_id: str, share: float) -> bool:
    """Whether this machine verdict is offered to an agent anyway (``share`` of them)."""
    if share <= 0.0:
        return False
    digest = hashlib.sha256(call_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < share


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``hits`` of ``n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    low = 0.0 if hits <= 0 else max(0.0, (centre - half) / scale)
    high = 1.0 if hits >= n else min(1.0, (centre + half) / scale)
    return low, high


@dataclass(frozen=True, slots=True)
class FpEstimate:
    """Agents' marks on sampled machine verdicts of one campaign."""

    persons: int = 0  # "it was a person": AMD false positives
    machines: int = 0  # "it was a machine"

    @property
    def marks(self) -> int:
        return self.persons + self.machines

    @property
    def rate(self) -> float:
        """Point estimate (0 with no marks)."""
        return self.persons / self.marks if self.marks else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.persons, self.marks)

    def mark(self, was_person: bool) -> FpEstimate:
        """The estimate with one more agent mark."""
        if was_person:
            return FpEstimate(self.persons + 1, self.machines)
        return FpEstimate(self.persons, self.machines + 1)

    def gauge_rate(self, lab_rate: float, min_marks: int = 30) -> float:
        """The rate the UK gauge uses (rule 19): the interval's upper bound, see above."""
        if self.marks >= min_marks:
            return self.interval[1]
        return max(lab_rate, self.rate)
