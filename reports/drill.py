"""Drill-down: the calls (attempts) behind one row of a KPI report.

A report row is an interval (its label, as the report shows it) and one value per dimension
(the names the report shows: agent's user name, campaign name, list name, region code, list
column value; an empty value is "none", e.g. the dials no agent took). The same filters as
reports/store.py ``attempt_sums`` pick the attempts: dial time inside the interval and the
report's range, the report's campaigns, simulated calls only when the report includes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reports import intervals, store
from reports.errors import ReportInvalid
from reports.query import Query
from reports.report import region_of

MAX_ROWS = 200  # one page of calls


@dataclass(frozen=True)
class Calls:
    start: datetime  # aware UTC: the row's interval, clipped to the report's range
    end: datetime
    total: int  # every attempt behind the row; ``rows`` holds the first ``MAX_ROWS``
    rows: list[dict[str, Any]]


def interval_span(q: Query, label: str) -> tuple[datetime, datetime]:
    """[start, end) of a report row's interval from its label (reports/intervals.py ``label``),
    clipped to the report's range."""
    z = ZoneInfo(q.zone)
    try:
        if q.interval in ("30m", "1h"):
            start = datetime.fromisoformat(label)
            if start.tzinfo is None:
                raise ValueError(label)
            end = start + timedelta(minutes=30 if q.interval == "30m" else 60)
        elif q.interval == "month":
            first = date.fromisoformat(label + "-01")
            nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            start, end = _local_midnight(first, z), _local_midnight(nxt, z)
        else:  # day, or the Monday a week starts on
            day = date.fromisoformat(label)
            days = 7 if q.interval == "week" else 1
            start, end = _local_midnight(day, z), _local_midnight(day + timedelta(days=days), z)
    except ValueError as exc:
        raise ReportInvalid(f"not an interval of this report: {label!r}", field="at") from exc
    start, end = max(start, q.start), min(end, q.end)
    if start >= end:
        raise ReportInvalid(f"the interval {label!r} is outside the report's range", field="at")
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _local_midnight(d: date, z: ZoneInfo) -> datetime:
    return intervals.day_span(datetime(d.year, d.month, d.day, 12, tzinfo=z), z.key)[0]


def calls(engine: Engine, q: Query, label: str, values: dict[str, str]) -> Calls:
    """The attempts behind the report row ``label`` × ``values`` (one per dimension of the
    report), newest first; numbers whole (the page masks them by role)."""
    missing = [d for d in q.by if d not in values]
    if missing:
        raise ReportInvalid(f"give the row's {missing[0]}", field=missing[0])
    start, end = interval_span(q, label)
    a, c, k, u = store.ATT.alias("a"), store.CON.alias("c"), store.CAM.alias("k"), store.USR
    src = a.join(k, k.c.id == a.c.campaign_id).join(c, c.c.id == a.c.contact_id)
    src = src.outerjoin(u, u.c.id == a.c.agent_user_id)
    conds: list[Any] = [
        a.c.created_at >= store.bind(engine, start),
        a.c.created_at < store.bind(engine, end),
    ]
    if q.campaigns:
        conds.append(k.c.name.in_(q.campaigns))
    if not q.simulated:
        conds.append(sa.not_(a.c.simulated))
    for d in q.by:
        conds.append(_dim_filter(engine, d, values[d], a, c, k, u, conds))
    with engine.connect() as conn:
        total = int(
            conn.execute(sa.select(sa.func.count()).select_from(src).where(*conds)).scalar_one()
        )
        rows = conn.execute(
            sa.select(
                a.c.created_at,
                k.c.name,
                a.c.number,
                u.c.username,
                a.c.state,
                a.c.answered_at,
                a.c.amd,
                a.c.abandoned,
                a.c.disposition,
                a.c.call_id,
            )
            .select_from(src)
            .where(*conds)
            .order_by(a.c.created_at.desc(), a.c.id.desc())
            .limit(MAX_ROWS)
        ).all()
    return Calls(start, end, total, [_row(r, q.zone) for r in rows])


def _row(r: Any, zone: str) -> dict[str, Any]:
    at, answered = _aware(r[0]), _aware(r[5])
    assert at is not None  # attempts.created_at is NOT NULL
    return {
        "at": at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds"),
        "campaign": str(r[1]),
        "number": str(r[2]),
        "agent": str(r[3] or ""),
        "state": str(r[4]),
        "answered": answered is not None,
        "amd": str(r[6] or ""),
        "abandoned": bool(r[7]),
        "disposition": str(r[8] or ""),
        "ring_seconds": None if answered is None else round((answered - at).total_seconds(), 1),
        "call_id": str(r[9]),
    }


def _aware(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=ZoneInfo("UTC"))


def _dim_filter(
    engine: Engine, dim: str, value: str, a: Any, c: Any, k: Any, u: Any, conds: list[Any]
) -> Any:
    """The condition picking one dimension value, as reports/store.py groups it."""
    if dim == "agent":
        return a.c.agent_user_id.is_(None) if not value else u.c.username == value
    if dim == "campaign":
        return k.c.name == value
    if dim == "kind":
        return k.c.kind == value
    if dim == "list":
        lst = store.LST
        ids = sa.select(lst.c.id).where(lst.c.name == value).scalar_subquery()
        return c.c.list_id.is_(None) if not value else c.c.list_id.in_(ids)
    prefix = sa.func.substr(c.c.primary_number, 1, 4)
    if dim == "region":  # the report names a number's country by its first digits
        with engine.connect() as conn:
            seen = conn.execute(
                sa.select(prefix)
                .distinct()
                .select_from(a.join(k, k.c.id == a.c.campaign_id).join(c, c.c.id == a.c.contact_id))
                .where(*conds)
            ).scalars()
            picked = [p for p in seen if region_of(p) == value]
        return prefix.in_(picked)
    col = c.c.custom[dim[4:]].as_string()
    return sa.or_(col.is_(None), col == "") if not value else col == value
