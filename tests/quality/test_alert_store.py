"""Alert thresholds over the reports engine's KPIs, on SQLite and PostgreSQL
(quality/alert_store.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import qcdata
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialer.models import AgentSession, Attempt
from outdial.storage import session_scope
from quality import alert_store
from quality.alerts import Metric, Scope
from quality.errors import QualityNotFound, ThresholdInvalid


def today_floor(engine: Engine, now: datetime) -> dict[str, int]:
    """4 talked calls of li today plus 1 abandoned live answer: abandon rate 1/5 = 20 %."""
    start = now.replace(hour=1, minute=0, second=0, microsecond=0)  # all created today
    agents = {"li": qcdata.agent(engine, "li")}
    ids = qcdata.floor(engine, start, agents, calls_each=4)
    with session_scope(engine) as s:
        a = s.get(Attempt, ids["calls"]["li"][0])
        assert a is not None
        s.add(
            Attempt(
                call_id="abandoned-1",
                campaign_id=ids["campaign_id"],
                contact_id=a.contact_id,
                number=a.number,
                state="completed",
                final=True,
                created_at=start,
                answered_at=start + timedelta(seconds=5),
                ended_at=start + timedelta(seconds=9),
                abandoned=True,
            )
        )
        s.add(
            AgentSession(
                user_id=agents["li"],
                campaign_id=ids["campaign_id"],
                sip_uri="sip:li@x",
                state="paused",
                since=now - timedelta(minutes=25),
            )
        )
    return agents


def test_readings_from_the_reports_engine(engine: Engine) -> None:
    now = datetime.now(UTC)
    today_floor(engine, now)
    got = {(r.metric, r.scope, r.subject): r for r in alert_store.readings(engine, now)}
    abandon = got[(Metric.ABANDON_RATE, Scope.CAMPAIGN, "Spring orders")]
    assert abandon.value == pytest.approx(0.2) and abandon.volume == 5
    assert got[(Metric.CONNECT_RATE, Scope.CAMPAIGN, "Spring orders")].value == pytest.approx(1.0)
    paused = got[(Metric.PAUSED_SECONDS, Scope.AGENT, "li")]
    assert paused.value == pytest.approx(25 * 60, abs=5)
    assert (Metric.AHT, Scope.AGENT, "li") in got


def test_an_episode_is_logged_once_then_cleared(engine: Engine) -> None:
    now = datetime.now(UTC)
    today_floor(engine, now)
    t = alert_store.add_threshold(engine, "abandon_rate", "campaign", "", 0.025, 3)
    alert_store.add_threshold(engine, "paused_seconds", "agent", "li", 15 * 60, 0)
    alert_store.add_threshold(engine, "abandon_rate", "campaign", "", 0.5, 0)  # not reached
    new = alert_store.check(engine, now)
    assert sorted((a.metric, a.subject) for a in new) == [
        ("abandon_rate", "Spring orders"),
        ("paused_seconds", "li"),
    ]
    assert alert_store.check(engine, now + timedelta(minutes=1)) == []  # same episode
    assert len(alert_store.active(engine)) == 2
    with session_scope(engine) as s:
        for sess in s.exec(select(AgentSession)).all():
            sess.state = "ready"
            s.add(sess)
    alert_store.check(engine, now + timedelta(minutes=2))
    assert [a.metric for a in alert_store.active(engine)] == ["abandon_rate"]
    alert_store.delete_threshold(engine, t.id or 0)
    assert alert_store.active(engine) == []
    assert len(alert_store.log(engine)) == 2 and all(a.cleared_at for a in alert_store.log(engine))


@pytest.mark.parametrize(
    ("metric", "scope", "limit"),
    [
        ("nope", "agent", 1.0),
        ("paused_seconds", "campaign", 60.0),
        ("aht", "agent", -1.0),
        ("aht", "agent", float("nan")),
    ],
)
def test_bad_thresholds_are_refused(engine: Engine, metric: str, scope: str, limit: float) -> None:
    with pytest.raises(ThresholdInvalid):
        alert_store.add_threshold(engine, metric, scope, "", limit)
    with pytest.raises(QualityNotFound):
        alert_store.delete_threshold(engine, 999)
