"""One entry point for the CLI, the API and the scheduler: strings in, a report out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from reports import query, report
from reports.errors import ReportInvalid
from reports.query import Query


def build_query(engine: Engine, params: Mapping[str, Any]) -> Query:
    """Validate ``from, to, interval, by, kpi, campaign, zone`` as the CLI and API pass them."""
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
    )


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
