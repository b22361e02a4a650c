"""KPI alerts in the database: thresholds, the readings they are checked against, and the
log of what fired (quality/alerts.py decides; this module gathers and records).

Readings come from the reports engine (reports/service.py, read only): today's abandon
rate, connect rate, AHT and average wrap-up by campaign and by agent, and the connect rate
of the current hour against the previous one; agents paused right now from the dialer's
agent sessions; QA scores of the last seven days from the evaluations.

The log keeps one row per episode: an alert that keeps firing updates its row
(``last_seen_at``, latest value) and is cleared the first time it no longer fires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.models import Campaign
from dialer.models import AgentSession
from outdial.models import User, as_utc
from outdial.storage import session_scope
from quality import alerts
from quality.alerts import Metric, Reading, Scope
from quality.errors import QualityNotFound, ThresholdInvalid
from quality.models import QcAlert, QcEvaluation, QcThreshold
from reports import service

DAY_KPIS = ("abandon_rate", "connect_rate", "aht", "avg_wrap_time", "dials")
#: KPIs of the day report that a threshold can watch, and the count each rests on
WATCHED = {
    Metric.ABANDON_RATE: "dials",
    Metric.CONNECT_RATE: "dials",
    Metric.AHT: "dials",
    Metric.AVG_WRAP_TIME: "dials",
}


# --- thresholds -------------------------------------------------------------------------


def add_threshold(
    engine: Engine, metric: str, scope: str, subject: str, limit: float, min_volume: int = 0
) -> QcThreshold:
    try:
        m, sc = Metric(metric), Scope(scope)
    except ValueError:
        raise ThresholdInvalid(
            f"metric is one of {', '.join(Metric)}; scope campaign or agent", field="metric"
        ) from None
    if sc not in alerts.SCOPES[m]:
        raise ThresholdInvalid(f"{m.value} cannot be watched per {sc.value}", field="scope")
    if not (limit == limit) or limit < 0 or limit > 100_000:  # NaN, negative, absurd
        raise ThresholdInvalid("the limit is a number from 0", field="limit")
    if min_volume < 0 or min_volume > 1_000_000:
        raise ThresholdInvalid("the minimum volume is a whole number from 0", field="min_volume")
    row = QcThreshold(
        metric=m.value,
        scope=sc.value,
        subject=subject.strip()[:128],
        limit=limit,
        min_volume=min_volume,
    )
    with session_scope(engine) as s:
        s.add(row)
        s.commit()
        s.refresh(row)
    return row


def thresholds(engine: Engine) -> list[QcThreshold]:
    with session_scope(engine) as s:
        return list(s.exec(select(QcThreshold).order_by(col(QcThreshold.id))))


def delete_threshold(engine: Engine, threshold_id: int) -> None:
    """Remove a threshold; its alerts stay in the log (cleared now)."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        row = s.get(QcThreshold, threshold_id)
        if row is None:
            raise QualityNotFound(f"no threshold #{threshold_id}", threshold=threshold_id)
        for a in s.exec(select(QcAlert).where(QcAlert.threshold_id == threshold_id)):
            a.threshold_id = None
            a.cleared_at = a.cleared_at or now
            s.add(a)
        s.delete(row)


# --- readings ---------------------------------------------------------------------------


def _kpi_rows(engine: Engine, params: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    rep = service.kpi_report(engine, {**params, "zone": "UTC"}, now)
    return [dict(zip(rep.columns, r, strict=True)) for r in rep.rows]


def _day_readings(engine: Engine, now: datetime) -> list[Reading]:
    day = now.astimezone(UTC).date().isoformat()
    out: list[Reading] = []
    for scope in (Scope.CAMPAIGN, Scope.AGENT):
        rows = _kpi_rows(
            engine,
            {
                "from": day,
                "to": day,
                "interval": "day",
                "by": scope.value,
                "kpi": ",".join(DAY_KPIS),
            },
            now,
        )
        for row in rows:
            subject = row.get(scope.value)
            if subject is None:
                continue
            for metric, volume in WATCHED.items():
                if scope not in alerts.SCOPES[metric] or row.get(metric.value) is None:
                    continue
                out.append(
                    Reading(
                        metric,
                        scope,
                        str(subject),
                        float(row[metric.value]),
                        int(row.get(volume) or 0),
                    )
                )
    return out


def _drop_readings(engine: Engine, now: datetime) -> list[Reading]:
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = _kpi_rows(
        engine,
        {
            "from": (hour - timedelta(hours=1)).isoformat(),
            "to": now.isoformat(),
            "interval": "1h",
            "by": "campaign",
            "kpi": "connect_rate,dials",
        },
        now,
    )
    by_campaign: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_campaign.setdefault(str(row.get("campaign")), []).append(row)
    out = []
    for name, rs in by_campaign.items():
        if len(rs) < 2:
            continue
        prev, cur = rs[-2], rs[-1]
        drop = alerts.connect_drop(cur.get("connect_rate"), prev.get("connect_rate"))
        if drop is not None:
            volume = min(int(cur.get("dials") or 0), int(prev.get("dials") or 0))
            out.append(Reading(Metric.CONNECT_DROP, Scope.CAMPAIGN, name, drop, volume))
    return out


def _paused_readings(engine: Engine, now: datetime) -> list[Reading]:
    with session_scope(engine) as s:
        rows = s.exec(
            select(AgentSession, User)
            .join(User, col(User.id) == AgentSession.user_id)
            .where(AgentSession.state == "paused")
        ).all()
    return [
        Reading(
            Metric.PAUSED_SECONDS,
            Scope.AGENT,
            u.display_name or u.username,
            (now - as_utc(sess.since)).total_seconds(),
            1,
        )
        for sess, u in rows
    ]


def _qa_readings(engine: Engine, now: datetime) -> list[Reading]:
    since = now - timedelta(days=7)
    with session_scope(engine) as s:
        evals = s.exec(
            select(QcEvaluation).where(
                col(QcEvaluation.created_at) >= since, QcEvaluation.status != "revised"
            )
        ).all()
        users = {u.id: u.display_name or u.username for u in s.exec(select(User))}
        camps = {c.id: c.name for c in s.exec(select(Campaign))}
    groups: dict[tuple[Scope, str], list[float]] = {}
    for e in evals:
        if e.agent_user_id is not None:
            groups.setdefault((Scope.AGENT, users.get(e.agent_user_id, "")), []).append(e.score)
        groups.setdefault((Scope.CAMPAIGN, camps.get(e.campaign_id, "")), []).append(e.score)
    return [
        Reading(Metric.QA_SCORE, scope, name, sum(v) / len(v), len(v))
        for (scope, name), v in groups.items()
    ]


def readings(engine: Engine, now: datetime) -> list[Reading]:
    """Every value a threshold can watch, as of ``now``."""
    return [
        *_day_readings(engine, now),
        *_drop_readings(engine, now),
        *_paused_readings(engine, now),
        *_qa_readings(engine, now),
    ]


# --- the log ----------------------------------------------------------------------------


def check(engine: Engine, now: datetime) -> list[QcAlert]:
    """Evaluate every threshold now and record the result; returns the alerts newly raised."""
    rules = [
        alerts.Threshold(
            t.id or 0, Metric(t.metric), Scope(t.scope), t.subject, t.limit, t.min_volume
        )
        for t in thresholds(engine)
    ]
    found = alerts.evaluate(rules, readings(engine, now)) if rules else []
    return record(engine, found, now)


def record(engine: Engine, found: list[alerts.Alert], now: datetime) -> list[QcAlert]:
    new: list[QcAlert] = []
    with session_scope(engine) as s:
        open_rows = {
            (a.threshold_id, a.subject): a
            for a in s.exec(select(QcAlert).where(col(QcAlert.cleared_at).is_(None)))
        }
        for f in found:
            row = open_rows.pop((f.threshold_id, f.subject), None)
            if row is None:
                row = QcAlert(
                    threshold_id=f.threshold_id,
                    metric=f.metric.value,
                    scope=f.scope.value,
                    subject=f.subject,
                    raised_at=now,
                )
                new.append(row)
            row.value, row.limit, row.last_seen_at = f.value, f.limit, now
            s.add(row)
        for gone in open_rows.values():
            gone.cleared_at = now
            s.add(gone)
    return new


def active(engine: Engine) -> list[QcAlert]:
    with session_scope(engine) as s:
        return list(
            s.exec(
                select(QcAlert)
                .where(col(QcAlert.cleared_at).is_(None))
                .order_by(col(QcAlert.raised_at).desc())
            )
        )


def log(engine: Engine, limit: int = 200) -> list[QcAlert]:
    with session_scope(engine) as s:
        return list(s.exec(select(QcAlert).order_by(col(QcAlert.raised_at).desc()).limit(limit)))
