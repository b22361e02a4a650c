"""One entry point for the CLI, the API and the scheduler: strings in, a report out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from reports import query, report
from reports.query import Query


def build_query(engine: Engine, params: Mapping[str, Any]) -> Query:
    """Validate ``from, to, interval, by, kpi, campaign, zone`` as the CLI and API pass them."""
    campaigns = query.split_list(params.get("campaign"))
    zone = params.get("zone") or None
    if zone:
        query.check_zone(str(zone))
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
    return report.run(engine, build_query(engine, params), now)
