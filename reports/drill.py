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
from reports.kpis import KPIS
from reports.query import Query
from reports.report import region_of

MAX_ROWS = 200  # one page of calls

#: KPI -> (the measure of reports/store.py ``attempt_sums`` its figure counts, the measure it is
#: a share of or None). Times averaged per call (handle time, wrap-up, time to answer) list the
#: calls they are averaged over.
FIGURES: dict[str, tuple[str, str | None]] = {
    "dials": ("dials", None),
    "connect_rate": ("live", "dials"),
    "contacts": ("contacts", None),
    "successes": ("successes", None),
    "success_rate": ("successes", "contacts"),
    "abandon_rate": ("abandoned", "live"),
    "aht": ("bridged", None),
    "avg_wrap_time": ("bridged", None),
    "time_to_answer": ("ring_n", None),
    "fcr": ("fcr", "contacts"),
    "return_visits": ("rv_done", None),
    "transfer_rate": ("transfers", "contacts"),
}


@dataclass(frozen=True)
class Calls:
    start: datetime  # aware UTC: the row's interval, clipped to the report's range
    end: datetime
    total: int  # every attempt the figure counts; ``rows`` holds one page of them
    rows: list[dict[str, Any]]
    measure: str = "dials"  # what the listed calls are (a key of ``FIGURES``' values)
    of: int | None = None  # the figure's denominator (calls), for a share
    of_measure: str | None = None
    older: int | None = None  # attempts.id to page on from (``before``), when there are more
    no_calls: str = ""  # the KPI's source when its figure comes from no calls (kpis.Kpi.source)


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


def measures(engine: Engine, a: Any, k: Any, d: Any) -> dict[str, Any]:
    """Each attempt measure as a condition on one attempt, built from the same per-row terms as
    reports/store.py ``attempt_sums`` (``store.attempt_terms``: one definition serves the report,
    the roll-up and this list), so a listed count equals the figure's (``a`` attempts, ``k``
    campaigns, ``d`` its disposition outer-joined on campaign and code)."""
    t = store.attempt_terms(engine, a)
    return {
        "dials": sa.true(),
        "live": t.live,
        "contacts": t.contact,
        "bridged": t.bridged,
        "successes": sa.and_(t.contact, d.c.success.is_(True)),
        "abandoned": a.c.abandoned.is_(True),
        "ring_n": a.c.answered_at.is_not(None),
        "fcr": sa.and_(t.first_bridged, d.c.final.is_(True)),
        "transfers": a.c.transferred_at.is_not(None),
        "rv_done": sa.and_(t.contact, k.c.kind == "return_visit"),
    }


def calls(
    engine: Engine,
    q: Query,
    label: str,
    values: dict[str, str],
    kpi: str = "",
    before: int | None = None,
) -> Calls:
    """The attempts behind the figure ``kpi`` (all the row's dials when empty) of the report
    row ``label`` × ``values`` (one per dimension of the report), newest first, a page of
    ``MAX_ROWS`` from the attempt ``before`` (keyset: no OFFSET); numbers whole (the page
    masks them by role)."""
    missing = [d for d in q.by if d not in values]
    if missing:
        raise ReportInvalid(f"give the row's {missing[0]}", field=missing[0])
    start, end = interval_span(q, label)
    base = kpi.split(":", 1)[0] or "dials"
    base = "csat" if base == "satisfaction" else base  # csat's per-question columns
    if base not in KPIS:
        raise ReportInvalid(f"unknown KPI {kpi!r}", field="kpi")
    if base not in FIGURES:  # agent time, records or survey answers: no calls to list
        return Calls(start, end, 0, [], measure="", no_calls=KPIS[base].source)
    measure, of_measure = FIGURES[base]
    a, c, k, u = store.ATT.alias("a"), store.CON.alias("c"), store.CAM.alias("k"), store.USR
    d = store.DIS.alias("d")
    src = a.join(k, k.c.id == a.c.campaign_id).join(c, c.c.id == a.c.contact_id)
    src = src.outerjoin(u, u.c.id == a.c.agent_user_id).outerjoin(
        d, sa.and_(d.c.campaign_id == a.c.campaign_id, d.c.code == a.c.disposition)
    )
    conds: list[Any] = [
        a.c.created_at >= store.bind(engine, start),
        a.c.created_at < store.bind(engine, end),
    ]
    if q.campaigns:
        conds.append(k.c.name.in_(q.campaigns))
    if not q.simulated:
        conds.append(sa.not_(a.c.simulated))
    for dim in q.by:
        conds.append(_dim_filter(engine, dim, values[dim], a, c, k, u, conds))
    flags = measures(engine, a, k, d)
    picked = [*conds, flags[measure]]
    with engine.connect() as conn:
        total = int(
            conn.execute(sa.select(sa.func.count()).select_from(src).where(*picked)).scalar_one()
        )
        of = None
        if of_measure is not None:
            of = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(src).where(*conds, flags[of_measure])
                ).scalar_one()
            )
        page = list(picked)
        if before is not None:
            page.append(_older_than(conn, a, before))
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
                a.c.id,
                d.c.label,
            )
            .select_from(src)
            .where(*page)
            .order_by(a.c.created_at.desc(), a.c.id.desc())
            .limit(MAX_ROWS + 1)
        ).all()
    older = int(rows[MAX_ROWS - 1][10]) if len(rows) > MAX_ROWS else None
    return Calls(
        start,
        end,
        total,
        [_row(r, q.zone) for r in rows[:MAX_ROWS]],
        measure=measure,
        of=of,
        of_measure=of_measure,
        older=older,
    )


def _older_than(conn: sa.Connection, a: Any, before: int) -> Any:
    """Attempts listed after ``before`` in newest-first order: dialled earlier, or at the same
    time with a smaller id (the order's tie-break). The index on created_at serves it."""
    t = conn.execute(sa.select(a.c.created_at).where(a.c.id == before)).scalar_one_or_none()
    if t is None:
        raise ReportInvalid(f"no call {before} to list older calls from", field="before")
    return sa.or_(a.c.created_at < t, sa.and_(a.c.created_at == t, a.c.id < before))


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
        "disposition_label": str(r[11] or ""),  # the campaign's label for the code; "" unknown
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
