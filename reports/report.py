"""The KPI engine: a validated query in, a table of KPIs by interval and dimension out.

Storage sums measures per 15-minute UTC slot (reports/store.py); this module maps slots onto
the report zone's intervals (reports/intervals.py), adds the sources up per interval and
dimension, and applies the KPI definitions (reports/kpis.py). Each source is used where its
rows carry the dimensions asked for: agent time knows agent, campaign and kind, but not the
list or the customer's region, so agent-time KPIs are empty in a report by list.
A team is a group of agents: a report by team is computed by agent, then each agent's
summed measures are added up under the team they are in now (users.team), before the KPI
ratios are taken — so a team's connect rate is its calls' rate, not an average of rates.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns import store as campaign_store
from campaigns.models import Campaign
from outdial.storage import session_scope
from reports import attempt_rollup, intervals, kpis, rollup, store, targets
from reports.query import Query

AGENT_DIMS = {"agent", "team", "campaign", "kind"}
#: The dialer's figures, not an agent's (shared/domain.md: live answers / attempts, abandoned /
#: live answers). An attempt gets its agent only once bridged (dialer/core.py ``_finished``;
#: also in preview mode), so split by agent every agent would read 100 % connected and 0 %
#: abandoned, and the "no agent" row would hold all the rest: the cells are empty instead.
NOT_BY_AGENT = ("connect_rate", "abandon_rate")
NOT_BY_AGENT_NOTE = (
    "connect rate and abandon rate are not split by agent or team: a call has an agent only once "
    "it is answered and connected; see them without the agent or team split"
)
CONTACT_DIMS = {"campaign", "kind", "list", "region"}
DEFAULT_ZONE = "UTC"


@dataclass
class Report:
    query: Query
    columns: list[str]  # "interval", the dimensions, then KPI columns
    rows: list[list[Any]]
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def status(self, row: list[Any]) -> dict[str, str]:
        """red/green of each KPI cell that has a target."""
        out: dict[str, str] = {}
        for name, t in self.targets.items():
            if name in self.columns:
                v = row[self.columns.index(name)]
                if v is not None:
                    out[name] = "green" if targets.met(t["op"], t["value"], v) else "red"
        return out

    def as_dict(self) -> dict[str, Any]:
        with store.gc_paused():  # a dict per row, of plain values: no cycles
            return self._as_dict()

    def _as_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "zone": q.zone,
            "interval": q.interval,
            "from": q.start.isoformat(),
            "to": q.end.isoformat(),
            "by": list(q.by),
            "kpis": list(q.kpis),
            "columns": self.columns,
            "rows": [
                {**dict(zip(self.columns, r, strict=True)), "status": self.status(r)}
                for r in self.rows
            ],
            "targets": self.targets,
            "notes": self.notes,
        }


def campaign_zones(engine: Engine, campaign_names: list[str]) -> dict[str, str]:
    """Each campaign's time zone (its definition's ``timezone``), by name."""
    with session_scope(engine) as s:
        camps = list(s.exec(select(Campaign)))
    if campaign_names:
        camps = [c for c in camps if c.name in campaign_names]
    return {c.name: campaign_store.spec_of(engine, c).timezone for c in camps}


def report_zone(engine: Engine, campaign_names: list[str], zone: str | None) -> str:
    """The zone a report is counted in: the one asked for, else its campaigns' common zone,
    else UTC (the report says which it used)."""
    if zone:
        return zone
    zones = set(campaign_zones(engine, campaign_names).values())
    return zones.pop() if len(zones) == 1 else DEFAULT_ZONE


def region_of(prefix: object) -> str:
    """The region of an E.164 number's country calling code (``+861`` -> CN)."""
    digits = str(prefix or "").lstrip("+")
    for n in (1, 2, 3):
        if len(digits) >= n:
            code = phonenumbers.region_code_for_country_code(int(digits[:n]))
            if code != "ZZ":
                return code
    return ""


_region = region_of


def _bucket(df: pd.DataFrame, q: Query, keys: list[str], sl: store.Slots) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=keys)
    df = df.assign(
        interval=intervals.buckets_of_slots(df["slot"], q.interval, q.zone, sl.size, sl.off)
    )
    df = df.drop(columns=["slot"])
    for k in keys:
        df[k] = df[k].fillna("") if df[k].dtype == object else df[k]
    return df.groupby(keys, dropna=False, sort=False).sum(numeric_only=True).reset_index()


def _agent_time(
    engine: Engine, w: store.Window, q: Query, now: datetime, sl: store.Slots
) -> pd.DataFrame:
    """Agent seconds per state (and paused per reason) per interval, summed in SQL."""
    keys = ["interval", *q.by]
    end = min(q.end, now).timestamp()
    sums = rollup.agent_time(
        engine, w, end, sl, "agent" in q.by, bool({"campaign", "kind"} & set(q.by)), now
    )
    if sums.empty:
        return pd.DataFrame(columns=keys)
    sums["agent"] = pd.to_numeric(sums["entity"], errors="coerce")
    sums["campaign"] = sums["campaign_id"]
    if "kind" in q.by:
        sums["kind"] = sums["campaign_id"].map(_kinds(engine))
    sums["interval"] = intervals.buckets_of_slots(sums["slot"], q.interval, q.zone, sl.size, sl.off)
    # one grouping: a reason row adds its paused seconds to its own column only (a join of
    # a pivot on the interval index cost more than the grouping itself over a month)
    reason = sums["reason"].astype(str)
    main = (reason == "").to_numpy()
    cols = {k: sums[k] for k in keys}
    for st in kpis.AGENT_STATES:
        cols[st] = sums[st].where(main, 0.0)
    for code in sorted(set(reason[~main])):
        cols[code] = sums["paused"].where((reason == code).to_numpy(), 0.0)
    return pd.DataFrame(cols).groupby(keys, sort=False).sum().reset_index()


def _kinds(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return {int(c.id or 0): c.kind for c in s.exec(select(Campaign))}


def _surveys(engine: Engine, w: store.Window, q: Query, sl: store.Slots) -> pd.DataFrame:
    keys = ["interval", *q.by]
    ans = store.survey_answers(engine, w, sl)
    if ans.empty:
        return pd.DataFrame(columns=keys)
    scales = _scales(store.survey_definitions(engine))
    hi = [
        scales.get((int(s), str(qid)))
        for s, qid in zip(ans["survey_id"], ans["question_id"], strict=True)
    ]
    ans = ans.assign(hi=hi)
    ans = ans[ans["hi"].notna()].copy()
    ans["v"] = pd.to_numeric(ans["value"], errors="coerce")
    ans = ans[ans["v"].notna()]
    if "kind" in q.by:
        ans["kind"] = ans["campaign"].map(_kinds(engine))
    ans["interval"] = intervals.buckets_of_slots(ans["slot"], q.interval, q.zone, sl.size, sl.off)
    qid = ans["question_id"].astype(str)
    frames = []
    for name, values in (
        ("n", 1.0),
        ("sum", ans["v"]),
        ("top", (ans["v"] >= ans["hi"]).astype(float)),
        ("top2", (ans["v"] >= ans["hi"] - 1).astype(float)),
    ):
        part = ans[keys].assign(col="sat:" + qid + ":" + name, x=values)
        frames.append(part)
    long = pd.concat(frames)
    wide = long.pivot_table(index=keys, columns="col", values="x", aggfunc="sum", fill_value=0.0)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _scales(defs: dict[int, dict[str, Any]]) -> dict[tuple[int, str], float]:
    """(survey, question) -> top value of each scale question (campaigns/surveys.py)."""
    from campaigns import surveys

    out: dict[tuple[int, str], float] = {}
    for sid, d in defs.items():
        try:
            s = surveys.parse_survey(d)
        except Exception:  # a definition that no longer parses: its answers are not scored
            continue
        for qu in s.questions:
            if qu.kind is surveys.QuestionKind.SCALE:
                out[(sid, qu.id)] = float(qu.high)
    return out


def run(engine: Engine, q: Query, now: datetime) -> Report:
    """Compute the report. ``now`` ends agents' open states (the last state lasts until now)."""
    merged, notes = measures(engine, q, now)
    values = kpis.compute(merged, list(q.kpis))
    # a team is its agents' calls added up: the same holds split by team (issue 19.6)
    if {"agent", "team"} & set(q.by) and any(k in values.columns for k in NOT_BY_AGENT):
        for k in NOT_BY_AGENT:
            if k in values.columns:
                values[k] = float("nan")
        notes.append(NOT_BY_AGENT_NOTE)
    return _table(engine, q, merged, values, notes)


def measures(engine: Engine, q: Query, now: datetime) -> tuple[pd.DataFrame, list[str]]:
    """The summed measures (reports/kpis.py) per interval and dimension, and notes on the
    sources left out because their rows do not carry a dimension asked for."""
    if "team" in q.by:
        return _by_team(engine, q, now)
    camp_ids = store.campaign_ids(engine, list(q.campaigns)) if q.campaigns else ()
    w = store.Window(
        q.start,
        q.end,
        camp_ids or ((-1,) if q.campaigns else ()),
        q.simulated,
        () if q.simulated else store.simulated_agents(engine),
    )
    keys = ["interval", *q.by]
    sources = {kpis.KPIS[k].source for k in q.kpis}
    dims = set(q.by)
    col_dims = {d for d in dims if d.startswith("col:")}
    frames: list[pd.DataFrame] = []
    notes: list[str] = []
    sl = store.Slots(*intervals.storage_slots(q.start, q.end, q.interval, q.zone))
    # attempts and agent time are independent scans: the database runs them side by side
    # (sqlite3 and psycopg release the GIL while a query runs)
    with ThreadPoolExecutor(max_workers=2) as pool:
        att = agent = None
        if sources & {"attempts", "both"}:
            att = pool.submit(attempt_rollup.attempt_sums, engine, w, list(q.by), sl, now)
        if sources & {"agent_time", "both"}:
            if dims <= AGENT_DIMS:
                agent = pool.submit(_agent_time, engine, w, q, now, sl)
            else:
                notes.append("agent-time KPIs are by agent, campaign or kind only")
        if att is not None:
            frames.append(_bucket(att.result(), q, keys, sl))
        if agent is not None:
            frames.append(agent.result())
    planned = None
    if "contacts" in sources:
        if dims - col_dims <= CONTACT_DIMS:
            fin, planned = store.contact_sums(engine, w, list(q.by), sl)
            frames.append(_bucket(fin, q, keys, sl))
        else:
            notes.append("plan completion is by campaign, kind, list, region or column only")
    if "surveys" in sources:
        if dims <= AGENT_DIMS:
            frames.append(_surveys(engine, w, q, sl))
        else:
            notes.append("satisfaction is by agent, campaign or kind only")
    merged = _merge(frames, keys)
    if planned is not None:
        merged = _with_planned(merged, planned, list(q.by))
    if not q.by:
        axis = pd.DataFrame({"interval": intervals.all_buckets(q.start, q.end, q.interval, q.zone)})
        axis["interval"] = pd.to_datetime(axis["interval"], utc=True)
        merged = axis.merge(merged, on="interval", how="left")
        for c in merged.columns:
            if c not in ("interval", "planned"):
                merged[c] = merged[c].fillna(0.0)
    merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
    return merged, notes


def _by_team(engine: Engine, q: Query, now: datetime) -> tuple[pd.DataFrame, list[str]]:
    """Measures by agent, added up per team (calls no agent took: team "")."""
    keep_agent = "agent" in q.by
    by = tuple(d for d in q.by if d != "team") if keep_agent else q.by
    inner = dataclasses.replace(q, by=tuple("agent" if d == "team" else d for d in by))
    m, notes = measures(engine, inner, now)
    teams = store.agent_teams(engine)
    agent = pd.to_numeric(m["agent"], errors="coerce")
    m = m.assign(team=[teams.get(int(a), "") if pd.notna(a) else "" for a in agent])
    keys = ["interval", *q.by]
    if not keep_agent:
        m = m.drop(columns=["agent"])
    m = m.groupby(keys, sort=False, dropna=False).sum(numeric_only=True).reset_index()
    return m.sort_values(keys, kind="stable").reset_index(drop=True), notes


def _merge(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    out: pd.DataFrame | None = None
    for f in frames:
        if f.empty:
            continue
        f = f.copy()
        f["interval"] = pd.to_datetime(f["interval"], utc=True)
        out = f if out is None else out.merge(f, on=keys, how="outer")
    if out is None:
        return pd.DataFrame(columns=keys)
    measures = [c for c in out.columns if c not in keys]
    out[measures] = out[measures].fillna(0.0)
    return out


def _with_planned(m: pd.DataFrame, planned: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if not by:
        total = float(planned["planned"].sum()) if len(planned) else 0.0
        return m.assign(planned=total)
    return m.merge(planned, on=by, how="left")


def _table(engine: Engine, q: Query, m: pd.DataFrame, v: pd.DataFrame, notes: list[str]) -> Report:
    """Rows of plain values (vectorised: a month by half-hour by agent is ~150 000 rows)."""
    with store.gc_paused():  # 1.6 M cells in 73 000 lists: no cycles among them
        return _table_rows(engine, q, m, v, notes)


def _table_rows(
    engine: Engine, q: Query, m: pd.DataFrame, v: pd.DataFrame, notes: list[str]
) -> Report:
    names = store.names(engine)
    columns = ["interval", *q.by, *v.columns]
    out = pd.DataFrame(index=m.index)
    if len(m):
        uniq = m["interval"].unique()
        labels = {
            t: intervals.label(pd.Timestamp(t).to_pydatetime(), q.interval, q.zone) for t in uniq
        }
        out["interval"] = m["interval"].map(labels).astype(object)
    else:
        out["interval"] = pd.Series(dtype=object)
    for d in q.by:
        col = m[d].astype(object)
        values = {x: _dim_name(d, x, names) for x in pd.unique(col)}
        out[d] = col.map(values).astype(object)
    for c in v.columns:
        unit = (
            "count"
            if c.endswith(":n")
            else kpis.KPIS[c.split(":")[0]].unit
            if c.split(":")[0] in kpis.KPIS
            else "ratio"
        )
        x = v[c].astype("float64")
        if unit == "count":  # Python ints (None when empty), converted in C, not per cell
            arr = x.round(0).to_numpy()
            empty = np.isnan(arr)
            ints = np.where(empty, 0, arr).astype(np.int64).astype(object)
            ints[empty] = None
            out[c] = ints
            continue
        x = x.round(3 if unit == "seconds" else 6)
        out[c] = x.astype(object).where(x.notna(), None)
    rows = out.to_numpy(dtype=object).tolist()
    return Report(q, columns, rows, targets.load(engine), notes)


def _dim_name(dim: str, value: Any, names: dict[str, dict[Any, str]]) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    if dim in names:
        return names[dim].get(int(value), str(value))
    if dim == "region":
        return _region(value)
    return value
