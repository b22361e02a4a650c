"""KPI targets a manager sets (connect rate >= 35 %, abandon <= 3 %), shown red/green."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from outdial.models import utcnow
from outdial.storage import session_scope
from reports.errors import ReportInvalid
from reports.kpis import KPIS
from reports.models import KpiTarget

OPS = (">=", "<=")


def met(op: str, target: float, value: float) -> bool:
    return value >= target if op == ">=" else value <= target


def load(engine: Engine) -> dict[str, dict[str, Any]]:
    with session_scope(engine) as s:
        rows = list(s.exec(select(KpiTarget)))
    return {t.kpi: {"op": t.op, "value": t.value} for t in sorted(rows, key=lambda t: t.kpi)}


def set_target(
    engine: Engine, kpi: str, op: str | None, value: object, user_id: int | None = None
) -> dict[str, Any]:
    """Set (or replace) the target of one KPI; ``op`` defaults to its good direction."""
    if kpi not in KPIS:
        raise ReportInvalid(f"unknown KPI {kpi!r}", field="kpi")
    op = op or (">=" if KPIS[kpi].higher_is_better else "<=")
    if op not in OPS:
        raise ReportInvalid("op must be >= or <=", field="op")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReportInvalid("value must be a number", field="value")
    try:
        number = float(value)
    except ValueError as exc:
        raise ReportInvalid("value must be a number", field="value") from exc
    with session_scope(engine) as s:
        row = s.get(KpiTarget, kpi) or KpiTarget(kpi=kpi, op=op, value=number)
        row.op, row.value, row.updated_by, row.updated_at = op, number, user_id, utcnow()
        s.add(row)
    return {"kpi": kpi, "op": op, "value": number}


def delete_target(engine: Engine, kpi: str) -> None:
    with session_scope(engine) as s:
        s.execute(sa.delete(KpiTarget).where(KpiTarget.kpi == kpi))  # type: ignore[arg-type]


def save_all(
    engine: Engine, wanted: dict[str, tuple[str | None, object]], user_id: int | None = None
) -> dict[str, dict[str, Any]]:
    """Set several targets at once, ``kpi -> (op, value)``; an empty value clears that KPI's
    target. Every entry is checked before any is written: one bad value changes nothing."""
    checked: dict[str, tuple[str, float] | None] = {}
    for kpi, (op, value) in wanted.items():
        if kpi not in KPIS:
            raise ReportInvalid(f"unknown KPI {kpi!r}", field="kpi")
        if value is None or (isinstance(value, str) and not value.strip()):
            checked[kpi] = None
            continue
        op = op or (">=" if KPIS[kpi].higher_is_better else "<=")
        if op not in OPS:
            raise ReportInvalid("op must be >= or <=", field=f"op:{kpi}")
        try:
            number = float(str(value).strip())
        except ValueError as exc:
            raise ReportInvalid(
                f"the target of {kpi} must be a number", field=f"value:{kpi}"
            ) from exc
        if number != number or number in (float("inf"), float("-inf")) or number < 0:
            raise ReportInvalid(
                f"the target of {kpi} must be a number of 0 or more", field=f"value:{kpi}"
            )
        checked[kpi] = (op, number)
    with session_scope(engine) as s:
        for kpi, t in checked.items():
            if t is None:
                s.execute(sa.delete(KpiTarget).where(KpiTarget.kpi == kpi))  # type: ignore[arg-type]
                continue
            row = s.get(KpiTarget, kpi) or KpiTarget(kpi=kpi, op=t[0], value=t[1])
            row.op, row.value, row.updated_by, row.updated_at = t[0], t[1], user_id, utcnow()
            s.add(row)
    return load(engine)
