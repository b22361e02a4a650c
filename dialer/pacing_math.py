"""The pacer's arithmetic, as pure functions: tails, agents freeing up, the abandon aim and
the ramp.  :class:`dialer.pacing.Pacer` holds the state and calls these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from dialer.estimators import DurationModel


def expected_excess(mu: float, var: float) -> float:
    """E[max(0, X)] for X ~ Normal(mu, var)."""
    if var < 1e-9:
        return max(0.0, mu)
    sd = math.sqrt(var)
    z = mu / sd
    return mu * 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) + sd * math.exp(
        -0.5 * z * z
    ) / math.sqrt(2.0 * math.pi)


def free_probs(
    talk: DurationModel,
    wrap: DurationModel,
    talking: bool,
    bucket: int,
    ks: Sequence[int],
    grace: float,
) -> list[float]:
    """P(an agent is free by k + ``grace`` s) per checkpoint k, for one (state, age bucket).

    Wrap buckets are 1 s wide, talk buckets 5 s; an agent in talk is free after the rest of
    the talk and then a whole wrap, so the two are convolved in 1 s steps.
    """
    if not talking:
        age = bucket + 0.5
        return [wrap.end_within(age, k + grace) for k in ks]
    age = bucket * 5.0 + 2.5
    top = int(ks[-1] + grace) + 1
    h0 = talk.cum_hazard(age)
    surv = [math.exp(h0 - talk.cum_hazard(age + s)) for s in range(top + 1)]
    ends = [surv[s] - surv[s + 1] for s in range(top)]
    wrap_cdf = [1.0 - wrap.survival(m + 0.5) for m in range(top)]
    probs = []
    for k in ks:
        x = int(k + grace)
        probs.append(sum(ends[s] * wrap_cdf[x - s - 1] for s in range(x)))
    return probs


def abandon_aim(target: float, cap: float, z: float, live: int, elapsed: float) -> float:
    """The abandon rate to aim at: ``target``, lowered when live answers are few.

    The whole-run rate of a small team rests on a few hundred live answers, and its count of
    abandons is noisy (a Poisson count with a mean of a few): aiming at 2 % would cross 3 %
    on an unlucky run.  So the aim stays ``z`` standard errors of the cap's own sampling
    noise below the cap, for the live answers seen so far plus one more hour's worth at the
    rate seen (compliance rule 3: the cap holds over the campaign, not on average).
    """
    per_hour = live * 3600.0 / max(elapsed, 600.0)
    count = max(1.0, live + per_hour)
    return max(0.002, min(target, cap - z * math.sqrt(cap / count)))


def ramp_room(
    pools: Iterable[int], window: int, growth: float, in_flight: int, step: int | None = None
) -> int:
    """New calls the ramp allows: calls in flight may reach ``1 + growth`` times their
    largest count between ``window`` and ``2 * window`` seconds ago (``pools`` newest first),
    and at most ``step`` calls more than that count (an absolute bound, issue 11.7).

    A burst sized on a stale hit rate (forty agents logging in as a new list starts) is then
    seen answering before it grows further; the pacer adds progressive's lines on top, which
    carry no risk.
    """
    old = list(pools)[window:]
    before = max(old) if old else 0
    allowed = math.floor((1.0 + growth) * before) + 1
    if step is not None:
        allowed = min(allowed, before + step)
    return max(0, allowed - in_flight)


def live_next_second(live_within: Callable[[int, int], float], ringing: Iterable[float]) -> float:
    """Live answers expected within 1 s from the calls in flight (ages in seconds)."""
    ages: dict[int, int] = {}
    for age in ringing:
        a = int(age + 0.5)
        ages[a] = ages.get(a, 0) + 1
    return sum(count * live_within(a, 1) for a, count in ages.items())
