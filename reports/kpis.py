"""The KPIs of shared/domain.md as pure functions over frames of additive measures.

Storage (reports/store.py) sums *measures* per slot and dimension: counts and seconds, which
add up across slots, agents and campaigns. Every KPI is then a function of those sums, so a
half-hour, a month, one agent or the whole centre all use the same definition. Ratios whose
denominator is 0 are NaN (shown empty), never 0.

Measures
- from attempts (placed at the attempt's dial time): ``dials``, ``live`` (answered by a person,
  not a machine), ``contacts`` (bridged to an agent, or an IVR call completed), ``bridged``,
  ``successes`` (disposition flagged success), ``abandoned``, ``ring_sum``/``ring_n`` (seconds
  dial → answer), ``fcr`` (first contact of the record that got a final disposition),
  ``transfers``, ``rv_done`` (contacts in return-visit campaigns);
- from contacts: ``finished`` (records done, at their last attempt), ``planned``;
- from agent state changes (engine rows ``state_changes.machine = 'agent'``): seconds in
  ``ready``, ``reserved``, ``talk``, ``wrap``, ``paused`` and ``paused:<reason>``;
- from survey answers: ``sat:<question>:n|sum|top|top2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.errors import ReportInvalid

AGENT_STATES = ("ready", "reserved", "talk", "wrap", "paused")


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is 0 (no data is not a rate of 0)."""
    den = den.astype("float64")
    return num.astype("float64") / den.where(den != 0, np.nan)


def _col(m: pd.DataFrame, name: str) -> pd.Series:
    return m[name] if name in m.columns else pd.Series(0.0, index=m.index)


@dataclass(frozen=True)
class Kpi:
    name: str
    zh: str
    unit: str  # count, ratio, seconds
    fn: Callable[[pd.DataFrame], pd.Series]
    source: str  # attempts, agent_time, both, contacts
    higher_is_better: bool = True


def _occupancy(m: pd.DataFrame) -> pd.Series:
    busy = _col(m, "talk") + _col(m, "wrap")
    return ratio(busy, _col(m, "ready") + _col(m, "reserved") + busy)


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("dials", "呼出量", "count", lambda m: _col(m, "dials"), "attempts"),
        Kpi(
            "connect_rate",
            "接通率",
            "ratio",
            lambda m: ratio(_col(m, "live"), _col(m, "dials")),
            "attempts",
        ),
        Kpi("contacts", "接通量", "count", lambda m: _col(m, "contacts"), "attempts"),
        Kpi("successes", "成功量", "count", lambda m: _col(m, "successes"), "attempts"),
        Kpi(
            "success_rate",
            "成功率",
            "ratio",
            lambda m: ratio(_col(m, "successes"), _col(m, "contacts")),
            "attempts",
        ),
        Kpi(
            "abandon_rate",
            "呼损率",
            "ratio",
            lambda m: ratio(_col(m, "abandoned"), _col(m, "live")),
            "attempts",
            higher_is_better=False,
        ),
        Kpi(
            "aht",
            "平均处理时间",
            "seconds",
            lambda m: ratio(_col(m, "talk") + _col(m, "wrap"), _col(m, "bridged")),
            "both",
            higher_is_better=False,
        ),
        Kpi("talk_time", "通话时间", "seconds", lambda m: _col(m, "talk"), "agent_time"),
        Kpi(
            "wrap_time",
            "后处理时间",
            "seconds",
            lambda m: _col(m, "wrap"),
            "agent_time",
            higher_is_better=False,
        ),
        Kpi(
            "avg_wrap_time",
            "平均后处理时间",
            "seconds",
            lambda m: ratio(_col(m, "wrap"), _col(m, "bridged")),
            "both",
            higher_is_better=False,
        ),
        Kpi("occupancy", "占有率", "ratio", _occupancy, "agent_time"),
        Kpi(
            "away_time",
            "离席时间",
            "seconds",
            lambda m: _col(m, "paused"),
            "agent_time",
            higher_is_better=False,
        ),
        Kpi("idle_time", "空闲时间", "seconds", lambda m: _col(m, "ready"), "agent_time", False),
        Kpi(
            "time_to_answer",
            "振铃时长",
            "seconds",
            lambda m: ratio(_col(m, "ring_sum"), _col(m, "ring_n")),
            "attempts",
            higher_is_better=False,
        ),
        Kpi(
            "fcr",
            "一次性解决率",
            "ratio",
            lambda m: ratio(_col(m, "fcr"), _col(m, "contacts")),
            "attempts",
        ),
        Kpi("return_visits", "回访量", "count", lambda m: _col(m, "rv_done"), "attempts"),
        Kpi(
            "plan_completion",
            "计划完成情况",
            "ratio",
            lambda m: ratio(_col(m, "finished"), _col(m, "planned")),
            "contacts",
        ),
        Kpi(
            "transfer_rate",
            "转交率",
            "ratio",
            lambda m: ratio(_col(m, "transfers"), _col(m, "contacts")),
            "attempts",
        ),
        Kpi("csat", "满意度", "ratio", lambda m: _csat(m), "surveys"),
    )
}


def _sat_columns(m: pd.DataFrame) -> list[str]:
    return sorted({c.split(":")[1] for c in m.columns if c.startswith("sat:")})


def _csat(m: pd.DataFrame) -> pd.Series:
    """CSAT over every scale answer: share in the top two boxes (campaigns/surveys.py)."""
    qs = _sat_columns(m)
    top2 = sum((_col(m, f"sat:{q}:top2") for q in qs), pd.Series(0.0, index=m.index))
    n = sum((_col(m, f"sat:{q}:n") for q in qs), pd.Series(0.0, index=m.index))
    return ratio(top2, n)


def check_kpis(names: list[str] | None) -> list[str]:
    if not names:
        return list(KPIS)
    unknown = [n for n in names if n not in KPIS]
    if unknown:
        raise ReportInvalid(
            f"unknown KPI {unknown[0]!r}: use one of {', '.join(KPIS)}", field="kpi"
        )
    return names


def compute(m: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The chosen KPIs of each row of summed measures, plus the per-reason away time and the
    per-question satisfaction (mean, top-box share) that ``away_time`` and ``csat`` carry."""
    out = pd.DataFrame(index=m.index)
    for n in names:
        out[n] = KPIS[n].fn(m)
        if n == "away_time":
            for c in sorted(c for c in m.columns if c.startswith("paused:")):
                out[f"away_time:{c.split(':', 1)[1]}"] = m[c]
        if n == "csat":
            for q in _sat_columns(m):
                out[f"satisfaction:{q}:mean"] = ratio(m[f"sat:{q}:sum"], m[f"sat:{q}:n"])
                out[f"satisfaction:{q}:top_box"] = ratio(m[f"sat:{q}:top"], m[f"sat:{q}:n"])
                out[f"satisfaction:{q}:n"] = m[f"sat:{q}:n"]
    return out


def zh_name(column: str) -> str:
    """The Chinese column name of a KPI column (zh-CN exports)."""
    base, _, rest = column.partition(":")
    if base in KPIS:
        return KPIS[base].zh + (f"（{rest}）" if rest else "")
    if base == "satisfaction":
        return "满意度（" + rest + "）"
    return DIMENSION_ZH.get(base, column)


DIMENSION_ZH = {
    "interval": "时段",
    # shared/glossary.md words, as the console says them (坐席, 外呼任务; "活动" reads as marketing)
    "agent": "坐席",
    "campaign": "外呼任务",
    "kind": "外呼任务类型",
    "list": "名单",
    "region": "地区",
    "zone": "时区",
}


# --- agent time: segments between state changes, split on slot boundaries -------------------


def agent_segments(changes: pd.DataFrame, end: float) -> pd.DataFrame:
    """Segments from agent state changes (``entity, campaign_id, target, reason, t`` with ``t``
    epoch seconds): each state lasts until the agent's next change, the last one until ``end``.
    Logged-out time is dropped: it is not logged-in time (domain.md, occupancy)."""
    c = changes.sort_values(["entity", "t"], kind="stable")
    nxt = c.groupby("entity", sort=False)["t"].shift(-1).fillna(end)
    seg = c.assign(t1=nxt.clip(upper=end))
    seg = seg[(seg["target"] != "logged_out") & (seg["t1"] > seg["t"])]
    return seg.rename(columns={"t": "t0"})


def split_slots(seg: pd.DataFrame, slot: int = 900) -> pd.DataFrame:
    """Seconds of each segment per slot (``slot`` column): a segment over a boundary is cut."""
    s0 = (seg["t0"] // slot).astype("int64")
    s1 = (np.ceil(seg["t1"] / slot) - 1).astype("int64")  # a segment ending on a boundary
    s1 = np.maximum(s1, s0)
    n = (s1 - s0 + 1).to_numpy()
    rep = seg.loc[seg.index.repeat(n)].copy()
    k = np.concatenate([np.arange(x) for x in n]) if len(n) else np.array([], dtype="int64")
    rep["slot"] = np.repeat(s0.to_numpy(), n) + k
    lo = np.maximum(rep["t0"].to_numpy(), rep["slot"].to_numpy() * slot)
    hi = np.minimum(rep["t1"].to_numpy(), (rep["slot"].to_numpy() + 1) * slot)
    rep["seconds"] = hi - lo
    rep = rep[rep["seconds"] > 0]
    return rep.drop(columns=["t0", "t1"]).reset_index(drop=True)


def agent_time_measures(parts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys``: seconds in each state, and paused seconds per reason code."""
    states = parts[parts["target"].isin(AGENT_STATES)]
    wide = states.pivot_table(
        index=keys, columns="target", values="seconds", aggfunc="sum", fill_value=0.0
    )
    paused = states[states["target"] == "paused"].assign(
        reason=lambda d: "paused:" + d["reason"].replace("", "unspecified")
    )
    if len(paused):
        by_reason = paused.pivot_table(
            index=keys, columns="reason", values="seconds", aggfunc="sum", fill_value=0.0
        )
        wide = wide.join(by_reason, how="left").fillna(0.0)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()
