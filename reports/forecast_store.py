"""The staffing forecast's inputs, measured from what outdial recorded for a campaign: rates
over the last days (KPI engine), the records left, their calling windows (the compliance
gate's hours rules per time-zone group, and the campaign's weekly schedule), and callbacks due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaign_store
from campaigns.models import Callback
from lists.models import Contact
from reports import forecast, intervals, report
from reports.errors import ReportInvalid
from reports.query import Query

CON = Contact.__table__  # type: ignore[attr-defined]
CBK = Callback.__table__  # type: ignore[attr-defined]


def measured_rates(
    engine: Engine, campaign: str, zone: str, now: datetime, days: int
) -> forecast.Rates:
    """Rates of the last ``days`` days (shared/domain.md definitions, reports/kpis.py)."""
    q = Query(
        now - timedelta(days=days),
        now,
        "1h",
        (),
        ("aht", "connect_rate", "occupancy", "plan_completion"),
        (campaign,),
        zone,
    )
    m, _notes = report.measures(engine, q, now)
    tot = m.drop(columns=["interval"]).sum(numeric_only=True)

    def g(name: str) -> float:
        return float(tot.get(name, 0.0))

    logged_in = g("ready") + g("reserved") + g("talk") + g("wrap")
    if g("bridged") <= 0 or logged_in <= 0:
        raise ReportInvalid(
            f"campaign {campaign!r} has no measured calls with agents in the last {days} days",
            field="campaign",
        )
    hours = (
        m.assign(h=m["interval"].dt.tz_convert(zone).dt.hour).groupby("h")[["live", "dials"]].sum()
    )
    by_hour = {int(h): float(r["live"] / r["dials"]) for h, r in hours.iterrows() if r["dials"] > 0}
    finished = g("finished")
    return forecast.Rates(
        talk_share=g("talk") / logged_in,
        talk_seconds=g("talk") / g("bridged"),
        aht=(g("talk") + g("wrap")) / g("bridged"),
        answer_rate=g("live") / g("dials") if g("dials") else 0.0,
        answer_rate_by_hour=by_hour,
        reach=min(1.0, g("contacts") / finished) if finished else 1.0,
    )


def records_left(engine: Engine, campaign_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    CON.c.campaign_id == campaign_id,
                    CON.c.status != "done",
                    sa.not_(CON.c.suppressed),
                )
            ).scalar_one()
        )


def _zone_groups(engine: Engine, campaign_id: int) -> list[tuple[tuple[str, ...], str, str, int]]:
    tz = sa.cast(CON.c.timezones, sa.Text)
    q = (
        sa.select(
            tz, sa.func.min(CON.c.primary_number), sa.func.min(CON.c.number_type), sa.func.count()
        )
        .where(CON.c.campaign_id == campaign_id, CON.c.status != "done", sa.not_(CON.c.suppressed))
        .group_by(tz)
    )
    import json

    with engine.connect() as conn:
        return [(tuple(json.loads(r[0] or "[]")), r[1], r[2], int(r[3])) for r in conn.execute(q)]


def slots(
    engine: Engine, campaign_id: int, now: datetime, deadline: datetime, zone: str
) -> list[forecast.Slot]:
    """Half hours from now to the deadline with the share of the numbers left callable."""
    from compliance import decision, gate, windows

    camp = campaign_store.get(engine, campaign_id)
    spec = campaign_store.spec_of(engine, camp)
    groups = _zone_groups(engine, campaign_id)
    g = gate.gate_for(engine, campaign_id)
    hours = []
    for zones, number, ntype, n in groups:
        eff = decision.effective_for(g.request(number, zones, ntype), g.context(number, now))
        hours.append((eff.hours, zones, n))
    total = sum(grp[3] for grp in groups) or 1
    out = []
    for start in intervals.all_buckets(now, deadline, "30m", zone):
        mid = max(start, now) + (min(start + timedelta(minutes=30), deadline) - max(start, now)) / 2
        if not rules.in_schedule(spec, mid):
            share = 0.0
        else:
            share = sum(n for h, z, n in hours if windows.evaluate(h, z, mid).allowed) / total
        out.append(forecast.Slot(start, start.astimezone(ZoneInfo(zone)).hour, share))
    return out


def callbacks_due(engine: Engine, campaign_id: int, slots_: list[forecast.Slot]) -> list[int]:
    """Pending callbacks due in each half hour (the arrivals of the callback queue)."""
    if not slots_:
        return []
    end = slots_[-1].start + timedelta(minutes=30)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(CBK.c.due_at).where(
                CBK.c.campaign_id == campaign_id,
                CBK.c.status == "pending",
                CBK.c.due_at
                < (end.replace(tzinfo=None) if engine.dialect.name == "sqlite" else end),
            )
        ).all()
    due = pd.to_datetime(pd.Series([r[0] for r in rows], dtype="object"), utc=True)
    starts = [s.start for s in slots_]
    counts = [0] * len(starts)
    for t in due:
        for i in range(len(starts) - 1, -1, -1):
            if t >= starts[i]:
                counts[i] += 1
                break
        else:
            counts[0] += 1  # overdue: now
    return counts


def plan(
    engine: Engine,
    campaign: str,
    deadline: str,
    now: datetime,
    days: int = 14,
    answer_within: float = 60.0,
    level: float = 0.8,
) -> dict[str, Any]:
    """The staffing plan of a campaign to finish its records left by ``deadline``."""
    from reports import query

    camp = campaign_store.by_name(engine, campaign)
    cid = int(camp.id or 0)
    zone = campaign_store.spec_of(engine, camp).timezone
    end = query.parse_time(deadline, zone, "deadline")
    if end <= now:
        raise ReportInvalid("the deadline has passed", field="deadline")
    if end - now > timedelta(days=31):
        raise ReportInvalid("a forecast covers at most 31 days", field="deadline")
    rates = measured_rates(engine, campaign, zone, now, days)
    sl = slots(engine, cid, now, end, zone)
    left = records_left(engine, cid)
    rows = forecast.to_finish(left, rates, sl)
    due = callbacks_due(engine, cid, sl)
    return {
        "campaign": campaign,
        "zone": zone,
        "deadline": end.isoformat(),
        "records_left": left,
        "rates": {
            "talk_share": round(rates.talk_share, 4),
            "talk_seconds": round(rates.talk_seconds, 1),
            "aht": round(rates.aht, 1),
            "answer_rate": round(rates.answer_rate, 4),
            "answer_rate_by_hour": {
                str(h): round(r, 4) for h, r in sorted(rates.answer_rate_by_hour.items())
            },
            "reach": round(rates.reach, 4),
            "history_days": days,
        },
        "half_hours": [
            {
                **r.as_dict(),
                "label": intervals.label(r.start, "30m", zone),
                "callbacks_due": d,
                "callback_agents": forecast.agents_for(d, 1800, rates.aht, answer_within, level),
            }
            for r, d in zip(rows, due, strict=True)
        ],
        "agent_half_hours": sum(r.agents for r in rows),
    }
