"""One entry point for the CLI, the API and the scheduler: strings in, a report out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from reports import query, report
from reports.errors import ReportInvalid
from reports.query import Query


def build_query(engine: Engine, params: Mapping[str, Any]) -> Query:
    """Validate ``from, to, interval, by, kpi, campaign, zone, include_simulated`` as the CLI
    and API pass them (simulated calls are left out unless ``include_simulated``)."""
    campaigns = query.split_list(params.get("campaign"))
    zone = params.get("zone") or None
    if zone:
        query.check_zone(str(zone))
    known = report.campaign_zones(engine, campaigns)
    missing = [c for c in campaigns if c not in known]
    if missing:
        raise ReportInvalid(f"no campaign {missing[0]!r}", field="campaign")
    zone = report.report_zone(engine, campaigns, zone)
    return query.build(
        str(params.get("from") or ""),
        str(params.get("to") or ""),
        str(params.get("interval") or "30m"),
        params.get("by"),
        params.get("kpi"),
        campaigns,
        zone,
        query.check_flag(params.get("include_simulated"), "include_simulated"),
    )


def campaign_zones(engine: Engine, campaign_names: list[str]) -> dict[str, str]:
    """Each campaign's time zone by name (all campaigns when none is named)."""
    return report.campaign_zones(engine, campaign_names)


def kpi_report(engine: Engine, params: Mapping[str, Any], now: datetime) -> report.Report:
    q = build_query(engine, params)
    rep = report.run(engine, q, now)
    zones = set(report.campaign_zones(engine, list(q.campaigns)).values())
    if len(zones) > 1 and not params.get("zone"):
        rep.notes.append(
            f"campaigns in {len(zones)} time zones ({', '.join(sorted(zones))}): intervals "
            f"counted in {q.zone}; pass zone to choose"
        )
    return rep


#: the KPIs a report page shows before the manager picks others
DEFAULT_KPIS = ("dials", "connect_rate", "contacts", "success_rate", "abandon_rate", "aht")


def kpi_units(names: list[str]) -> dict[str, str]:
    """count, ratio or seconds of each KPI column (satisfaction columns are ratios)."""
    from reports.kpis import KPIS

    return {n: KPIS[n.split(":")[0]].unit if n.split(":")[0] in KPIS else "ratio" for n in names}


def chart_series(rep: report.Report, kpi: str, top: int = 8, empty: str = "-") -> dict[str, Any]:
    """One KPI of a report as chart data: the intervals on x, one series per dimension value
    (the ``top`` values with the most rows, then by name; ``empty`` names a missing value, e.g.
    dials no agent took), ratios in percent."""
    cols = rep.columns
    i_kpi, dims = cols.index(kpi), [cols.index(d) for d in rep.query.by]
    x: list[str] = []
    seen: set[str] = set()
    series: dict[str, dict[str, Any]] = {}
    scale = 100.0 if kpi_units([kpi])[kpi] == "ratio" else 1.0
    for r in rep.rows:
        t = str(r[0])
        if t not in seen:
            seen.add(t)
            x.append(t)
        name = " · ".join(str(r[i]) or empty for i in dims) if dims else kpi
        v = r[i_kpi]
        series.setdefault(name, {})[t] = None if v is None else round(float(v) * scale, 3)
    # the same order (and so the same colour) for a dimension value in every KPI's chart
    rows_of: dict[str, int] = {}
    for r in rep.rows:
        name = " · ".join(str(r[i]) or empty for i in dims) if dims else kpi
        rows_of[name] = rows_of.get(name, 0) + 1
    ranked = sorted(series.items(), key=lambda kv: (-rows_of[kv[0]], kv[0]))
    return {
        "x": x,
        "unit": kpi_units([kpi])[kpi],
        "series": [{"name": n, "data": [s.get(t) for t in x]} for n, s in ranked[:top]],
        "more": max(len(series) - top, 0),
    }


def campaign_names(engine: Engine) -> list[str]:
    """Every campaign's name, for the report pages' choices."""
    from campaigns import store as campaign_store

    return [c.name for c in campaign_store.all_campaigns(engine)]


def staffing(engine: Engine, campaign: str, deadline: str, now: datetime) -> dict[str, Any]:
    """The staffing forecast of a campaign (reports/forecast_store.py ``plan``)."""
    from reports import forecast_store

    if not campaign:
        raise ReportInvalid("pick a campaign", field="campaign")
    if not deadline:
        raise ReportInvalid("give a deadline", field="deadline")
    return forecast_store.plan(engine, campaign, deadline, now)


def report_files(data_dir: str | Path) -> list[dict[str, Any]]:
    """The report files written on schedule (reports/files.py), newest first."""
    from reports import files

    return files.list_files(data_dir)


def drill_calls(
    engine: Engine,
    params: Mapping[str, Any],
    at: str,
    values: Mapping[str, str],
    kpi: str = "",
    before: int | None = None,
) -> Any:
    """The calls behind one figure (``kpi``; every dial when empty) of one row of the report
    ``params`` describe, a page older than the call ``before`` (reports/drill.py)."""
    from reports import drill

    q = build_query(engine, params)
    dims = {d: str(values.get(d, "")) for d in q.by if d in values}
    return drill.calls(engine, q, at, dims, kpi=kpi, before=before)
