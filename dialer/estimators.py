"""What the pacer learns, from observations only: attempt outcomes by age, and durations.

Two estimators, both exponentially forgetting (so a phase change in hit rate, team or talk
time is learned within minutes) and both started from weak priors (so the first minutes are
sane and the data takes over as it arrives):

* :class:`AttemptModel` — per dial, by age in whole seconds: the share of attempts still in
  flight (from the ages the dialer sees every second) and the share that turns into a live
  answer at that age (from answered events).  Their ratio gives the probability that an
  attempt already ringing for ``a`` seconds still becomes a live answer within ``k`` seconds,
  with no assumption on how busy, failed, machine or unanswered attempts are timed.
* :class:`DurationModel` — a censoring-correct hazard estimate (ends / seconds at risk, per
  age bin) for talk or wrap time: an agent in talk for ``t`` seconds is judged by the
  residual life at ``t``, not by the mean.

Pure: no clock, no I/O; the pacer calls ``tick`` once a second with what it sees.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable


def lognormal_cdf(x: float, mean: float, cv: float) -> float:
    """P(X <= x) for a lognormal with the given mean and coefficient of variation."""
    if x <= 0.0:
        return 0.0
    s2 = math.log1p(cv * cv)
    mu = math.log(mean) - s2 / 2.0
    return 0.5 * (1.0 + math.erf((math.log(x) - mu) / math.sqrt(2.0 * s2)))


class AttemptModel:
    """Live-answer and in-flight rates per dial, by attempt age (1 s bins up to ``max_age``)."""

    def __init__(
        self,
        halflife: float = 3600.0,
        halflife_live: float = 300.0,
        max_age: int = 90,
        prior_weight: float = 20.0,
        prior_hit: float = 0.3,
        prior_ring_mean: float = 9.0,
        prior_timeout: float = 25.0,
    ) -> None:
        self.max_age = max_age
        # Forget per second and per live answer expected from the dials made (dials x the hit
        # rate learned): a small team dials a few times a minute and needs a long memory for a
        # steady estimate; a big one relearns within minutes.  Counting expected live answers,
        # not dials, keeps the estimate equally sure on every hit rate: at 5 % a memory of
        # 1,000 dials rests on ~70 live answers, noise a big team's burst of calls sized on it
        # pays for in abandons (issue 11.7); after a drop the old, higher rate forgets fast.
        # A sudden jump up is caught sooner by HitMonitor.
        self._decay = 0.5 ** (1.0 / halflife)
        self._decay_live = 0.5 ** (1.0 / halflife_live)
        n = max_age + 2
        self._den = [prior_weight] * n  # dials exposed at each age
        self._inflight = [0.0] * n  # attempts seen in flight at each age
        self._live = [0.0] * n  # live answers in (age-1, age]
        for a in range(n):
            ring_left = 1.0 - lognormal_cdf(a, prior_ring_mean, 0.6)
            fast = 0.12 * max(0.0, 1.0 - a / 4.0)  # busy / failed resolve within seconds
            slow = (1.0 - prior_hit - 0.12) * (1.0 if a < prior_timeout else 0.0)
            self._inflight[a] = prior_weight * (prior_hit * ring_left + fast + slow)
            if a > 0:
                step = lognormal_cdf(a, prior_ring_mean, 0.6) - lognormal_cdf(
                    a - 1, prior_ring_mean, 0.6
                )
                self._live[a] = prior_weight * prior_hit * step
        self._inflight[0] = prior_weight
        self._history: deque[int] = deque(maxlen=max_age + 1)
        self._pending = 0
        self.dials_seen = 0
        self._cum: list[float] = []
        self._surv: list[float] = []
        self.refit()

    # --- observations -------------------------------------------------------------------
    def dialed(self, count: int = 1) -> None:
        self._pending += count
        self.dials_seen += count

    def answered(self, age: float) -> None:
        self._live[min(self.max_age, max(1, math.ceil(age - 1e-9)))] += 1.0

    def replayed(self, resolved_after: float, live: bool) -> None:
        """An attempt that ended ``resolved_after`` s after its dial before this model existed
        (a restart): exposed at every age, in flight until then, a live answer then if
        ``live``. Call :meth:`refit` after a batch."""
        for a in range(1, len(self._den)):
            self._den[a] += 1.0
            if a < resolved_after and a <= self.max_age:
                self._inflight[a] += 1.0
        if live:
            self.answered(resolved_after)
        self.dials_seen += 1

    def tick(self, ages: Iterable[float], seconds: int = 1) -> None:
        """Once a second: dials made at the last tick are now ``seconds`` old."""
        self._history.appendleft(self._pending)
        for _ in range(seconds - 1):
            self._history.appendleft(0)
        self._pending = 0
        dials = self._history[0] if self._history else 0
        d = self._decay**seconds * self._decay_live ** (dials * self._cum[-1])
        den, inflight, live = self._den, self._inflight, self._live
        for i in range(len(den)):
            den[i] *= d
            inflight[i] *= d
            live[i] *= d
        for lag, count in enumerate(self._history, start=1):
            if count and lag < len(den):
                den[lag] += count
        top = self.max_age
        for age in ages:
            a = int(age + 0.5)
            if a <= top:
                inflight[a] += 1.0
        den[0] = inflight[0] = max(den[1], 1e-9)

    # --- estimates ----------------------------------------------------------------------
    def refit(self) -> None:
        """Recompute cumulative live rate U(a) and in-flight share S(a) per dial."""
        cum = [0.0]
        for a in range(1, self.max_age + 1):
            cum.append(cum[-1] + self._live[a] / max(self._den[a], 1e-9))
        total = cum[-1]
        surv = [1.0]
        for a in range(1, self.max_age + 1):
            s = self._inflight[a] / max(self._den[a], 1e-9)
            surv.append(min(1.0, max(s, total - cum[a], 1e-6)))
        self._cum, self._surv = cum, surv

    @property
    def hit_rate(self) -> float:
        """Live answers per dial."""
        return self._cum[-1]

    def live_within(self, age: int, k: int) -> float:
        """P(an attempt in flight at ``age`` s becomes a live answer within ``k`` more s)."""
        top = self.max_age
        if age >= top:
            return 0.0
        cum = self._cum
        return min(1.0, (cum[min(top, age + k)] - cum[age]) / self._surv[age])

    def horizon(self, share: float = 0.97) -> int:
        """Seconds after dialing by which ``share`` of live answers have come in."""
        cum, goal = self._cum, share * self._cum[-1]
        for a, c in enumerate(cum):
            if c >= goal:
                return max(3, a)
        return self.max_age


class DurationModel:
    """Hazard of a duration (talk or wrap) per age bin, learned from ends and time at risk."""

    def __init__(
        self,
        prior_mean: float,
        prior_cv: float,
        halflife: float = 1800.0,
        width: float = 5.0,
        max_age: float = 7200.0,
        prior_weight: float = 60.0,
    ) -> None:
        self.width = width
        self.bins = int(max_age / width) + 1
        self._decay_per_s = 0.5 ** (1.0 / halflife)
        self._ends = [0.0] * self.bins
        self._risk = [prior_weight] * self.bins  # agent-seconds at risk
        for b in range(self.bins):
            lo, hi = b * width, (b + 1) * width
            f_lo = lognormal_cdf(lo, prior_mean, prior_cv)
            f_hi = lognormal_cdf(hi, prior_mean, prior_cv)
            hazard = (f_hi - f_lo) / max(1e-12, (1.0 - f_lo) * width)
            self._ends[b] = prior_weight * hazard
        self.observed = 0
        self._cumh: list[float] = []
        self.refit()

    def ended(self, seconds: float) -> None:
        self._ends[min(self.bins - 1, int(max(0.0, seconds) / self.width))] += 1.0
        self.observed += 1

    def replayed(self, seconds: float) -> None:
        """A duration that ended before this model existed: its end, and its time at risk in
        every bin it lived through. Call :meth:`refit` after a batch."""
        self.ended(seconds)
        full, top = int(max(0.0, seconds) / self.width), self.bins - 1
        for b in range(min(full, top)):
            self._risk[b] += self.width
        self._risk[min(full, top)] += max(0.0, seconds) - full * self.width

    def at_risk(self, ages: Iterable[float], seconds: float = 1.0) -> None:
        risk, width, top = self._risk, self.width, self.bins - 1
        for age in ages:
            risk[min(top, int(age / width))] += seconds

    def decay(self, seconds: float) -> None:
        f = self._decay_per_s**seconds
        self._ends = [e * f for e in self._ends]
        self._risk = [r * f for r in self._risk]

    def refit(self) -> None:
        cumh = [0.0]
        for e, r in zip(self._ends, self._risk, strict=True):
            cumh.append(cumh[-1] + self.width * e / max(r, 1e-9))
        self._cumh = cumh

    def cum_hazard(self, t: float) -> float:
        b = int(t / self.width)
        if b >= self.bins:
            b = self.bins - 1
        lo = self._cumh[b]
        return lo + (self._cumh[b + 1] - lo) * (t / self.width - b)

    def survival(self, t: float) -> float:
        return math.exp(-self.cum_hazard(max(0.0, t)))

    def end_within(self, age: float, x: float) -> float:
        """P(ends within ``x`` more seconds | lasted ``age`` seconds so far)."""
        return 1.0 - math.exp(self.cum_hazard(age) - self.cum_hazard(age + x))

    def mean(self, limit: float = 7200.0, step: float = 5.0) -> float:
        total, t = 0.0, 0.0
        while t < limit:
            total += step * self.survival(t + step / 2.0)
            t += step
        return total


class HitMonitor:
    """Live answers seen against those the :class:`AttemptModel` expected, over short windows.

    The attempt model forgets slowly (minutes), so that its estimate is steady; a jump in the
    hit rate (a new list, a new hour) would be learned too late to save the calls already
    placed on the old rate.  This monitor compares, over windows of tens of seconds, the live
    answers observed with those the model predicted for the attempts actually in flight, and
    gives a multiplier on the model's live-answer probabilities:

    * up, as soon as the excess is significant (a one-sided Poisson bound on the ratio, so
      noise alone rarely moves it), from the fastest window that shows it;
    * down only by what an upper confidence bound on the ratio allows, on the slow window.
    """

    def __init__(self, halflives: tuple[float, ...] = (15.0, 60.0, 240.0), z: float = 2.0) -> None:
        self._decays = [0.5 ** (1.0 / h) for h in halflives]
        self._obs = [0.0] * len(halflives)
        self._exp = [0.0] * len(halflives)
        self.z = z

    def answered(self) -> None:
        for i in range(len(self._obs)):
            self._obs[i] += 1.0

    def tick(self, expected: float, seconds: int = 1) -> None:
        """Once a second: ``expected`` live answers the model predicts in the next second."""
        for i, d in enumerate(self._decays):
            f = d**seconds
            self._obs[i] *= f
            self._exp[i] = self._exp[i] * f + expected

    def rescale(self, factor: float) -> None:
        """The model behind the expectations changed its live-answer rate by ``factor``:
        restate the expectations already summed on the new model, so that a drop (or rise)
        the model has now learned is not counted a second time by the tilt (issue 11.7)."""
        if factor > 0.0 and math.isfinite(factor):
            self._exp = [e * factor for e in self._exp]

    def ratio(self) -> float:
        """How much to scale the model's live-answer probabilities by (1.0: trust it)."""
        z = self.z
        up = 1.0
        for obs, exp in zip(self._obs, self._exp, strict=True):
            if exp > 1e-6 and obs > 0.0:
                up = max(up, (obs - z * math.sqrt(obs)) / exp)
        if up > 1.0:
            return up
        obs, exp = self._obs[-1], self._exp[-1]
        if exp < 1e-6:
            return 1.0
        return min(1.0, max(0.5, (obs + z * math.sqrt(obs + 1.0) + 1.0) / exp))
