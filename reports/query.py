"""A report request, validated the same way for the CLI and the API (field names on errors)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reports.errors import ReportInvalid
from reports.intervals import check_interval
from reports.kpis import check_kpis

DIMENSIONS = ("agent", "team", "campaign", "kind", "list", "region")
MAX_DAYS = 400
_COL = re.compile(r"^col:[^\s:]{1,64}$")


@dataclass(frozen=True)
class Query:
    start: datetime  # aware
    end: datetime  # aware, exclusive
    interval: str
    by: tuple[str, ...]
    kpis: tuple[str, ...]
    campaigns: tuple[str, ...]
    zone: str
    simulated: bool = False  # include the simulated carrier's calls and simulated agents


def check_dims(by: list[str]) -> list[str]:
    for d in by:
        if d not in DIMENSIONS and not _COL.match(d):
            raise ReportInvalid(
                f"unknown dimension {d!r}: use {', '.join(DIMENSIONS)} or col:<list column>",
                field="by",
            )
    if len(set(by)) != len(by):
        raise ReportInvalid("a dimension is named twice", field="by")
    return by


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportInvalid(f"unknown time zone {zone!r}", field="zone") from exc
    return zone


def parse_time(text: str, zone: str, field: str, end: bool = False) -> datetime:
    """An ISO date or date-time; a naive one is in ``zone``. A date as ``to`` means the end
    of that day (``--from 2026-12-01 --to 2026-12-01`` is that one day)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            d = date.fromisoformat(text.strip()) + timedelta(days=1 if end else 0)
            return datetime.combine(d, time(0), ZoneInfo(zone))
        t = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ReportInvalid(f"{field}: not an ISO date or time: {text!r}", field=field) from exc
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(zone))


def split_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [x.strip() for part in items for x in part.split(",") if x.strip()]


def build(
    start: str,
    end: str,
    interval: str,
    by: str | list[str] | None,
    kpis: str | list[str] | None,
    campaigns: str | list[str] | None,
    zone: str,
    simulated: bool = False,
) -> Query:
    """Validate a request; ``zone`` is the report's zone (reports/report.py report_zone)."""
    check_zone(zone)
    if not start:
        raise ReportInvalid("from is required", field="from")
    if not end:
        raise ReportInvalid("to is required", field="to")
    t0 = parse_time(start, zone, "from")
    t1 = parse_time(end, zone, "to", end=True)
    if t0 >= t1:
        raise ReportInvalid("from must be before to", field="from")
    if t1 - t0 > timedelta(days=MAX_DAYS):
        raise ReportInvalid(f"a report covers at most {MAX_DAYS} days", field="to")
    return Query(
        t0,
        t1,
        check_interval(interval),
        tuple(check_dims(split_list(by))),
        tuple(check_kpis(split_list(kpis))),
        tuple(split_list(campaigns)),
        zone,
        simulated,
    )


def check_flag(value: object, field: str) -> bool:
    """A yes/no option as the API (``1``, ``true``, ``on``...) or the CLI passes it."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ReportInvalid(f"{field}: say true or false, not {str(value)[:40]!r}", field=field)
