"""Report files written on a schedule (daily, weekly, monthly) into ``DATA_DIR/reports``.

``period_span`` is pure: the last complete day, week (Monday to Sunday) or month before
``now`` in the report zone. ``write_period`` runs the KPI report for it and writes a CSV and
an XLSX; ``install`` adds the three cron jobs to an APScheduler scheduler (the server starts
one, web/api_reports.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.engine import Engine

from reports import export, report, service
from reports.errors import ReportFileNotFound, ReportInvalid

log = structlog.get_logger(__name__)
PERIODS = {  # period -> (interval of the rows, dimensions)
    "daily": ("30m", "campaign"),
    "weekly": ("day", "agent,campaign"),
    "monthly": ("day", "campaign"),
}
_NAME = re.compile(r"^(daily|weekly|monthly)-[0-9-]+\.(csv|xlsx)$")


def period_span(period: str, now: datetime, zone: str) -> tuple[str, str, str]:
    """(from, to, label) of the last complete period before ``now``, as local ISO dates;
    ``to`` is inclusive (reports/query.py reads a date ``to`` as the end of that day)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if period == "daily":
        day = today - timedelta(days=1)
        return day.isoformat(), day.isoformat(), day.isoformat()
    if period == "weekly":
        monday = today - timedelta(days=today.weekday() + 7)
        sunday = monday + timedelta(days=6)
        return monday.isoformat(), sunday.isoformat(), monday.isoformat()
    if period == "monthly":
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
        return first.isoformat(), last.isoformat(), first.strftime("%Y-%m")
    raise ReportInvalid(f"unknown period {period!r}", field="period")


def folder(data_dir: Path | str) -> Path:
    return Path(data_dir) / "reports"


def write_period(
    engine: Engine, data_dir: Path | str, period: str, now: datetime, lang: str = "zh-CN"
) -> list[Path]:
    """Write ``<period>-<label>.csv`` and ``.xlsx`` for the last complete period."""
    zone = report.report_zone(engine, [], None)
    start, end, label = period_span(period, now, zone)
    interval, by = PERIODS[period]
    rep = service.kpi_report(
        engine, {"from": start, "to": end, "interval": interval, "by": by, "zone": zone}, now
    )
    out = folder(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ext, data in (("csv", export.to_csv(rep, lang)), ("xlsx", export.to_xlsx(rep, lang))):
        path = out / f"{period}-{label}.{ext}"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # a download never sees half a file
        written.append(path)
    log.info("report file written", period=period, label=label, rows=len(rep.rows))
    return written


def list_files(data_dir: Path | str) -> list[dict[str, Any]]:
    d = folder(data_dir)
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.iterdir(), reverse=True):
        if _NAME.match(p.name):
            st = p.stat()
            out.append(
                {
                    "name": p.name,
                    "period": p.name.split("-", 1)[0],
                    "bytes": st.st_size,
                    "modified": datetime.fromtimestamp(st.st_mtime, ZoneInfo("UTC")).isoformat(),
                }
            )
    return out


def path_of(data_dir: Path | str, name: str) -> Path:
    """The file called ``name``; only names this module writes (no path tricks)."""
    path = folder(data_dir) / name
    if not _NAME.match(name) or not path.is_file():
        raise ReportFileNotFound(f"no report file {name!r}", name=name)
    return path


def install(scheduler: Any, engine: Engine, data_dir: Path | str, zone: str) -> None:
    """Cron jobs in the report zone: daily 00:30, weekly Monday 01:00, monthly 1st 01:30; and
    the agent-time roll-up a few minutes after each 15-minute slot closes."""
    from apscheduler.triggers.cron import CronTrigger

    from outdial.models import utcnow

    times = {
        "daily": CronTrigger(hour=0, minute=30, timezone=zone),
        "weekly": CronTrigger(day_of_week="mon", hour=1, minute=0, timezone=zone),
        "monthly": CronTrigger(day=1, hour=1, minute=30, timezone=zone),
    }
    for period, trigger in times.items():

        def job(period: str = period) -> None:
            write_period(engine, data_dir, period, utcnow())

        scheduler.add_job(job, trigger, id=f"reports-{period}", replace_existing=True)

    def roll() -> None:  # the slot that just closed (reports/rollup.py, attempt_rollup.py)
        from reports import attempt_rollup, rollup

        rollup.catch_up(engine, utcnow())
        attempt_rollup.catch_up(engine, utcnow())

    scheduler.add_job(
        roll,
        CronTrigger(minute="3,18,33,48", timezone=zone),
        id="reports-rollup",
        replace_existing=True,
    )
