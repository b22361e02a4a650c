"""The alert webhook against a real aiohttp receiver on 127.0.0.1 (quality/alert_webhook.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import consolekit
import qcdata
from aiohttp import web
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from campaigns import webhook_targets, webhooks
from outdial.roles import Role
from quality import alert_webhook, review, store
from quality.models import QcAlert

SECRET = "alert-secret"
LOOPBACK_OK = webhook_targets.TargetPolicy(allow_http=True, allow_private=True)
T0 = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@dataclass
class Receiver:
    fail_first: int = 0
    delay: float = 0.0
    url: str = ""
    hits: int = 0
    bad_signatures: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if not webhooks.verify(SECRET, request.headers, body, int(time.time())):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.hits <= self.fail_first:
            return web.Response(status=503)
        self.accepted.append(await request.json())
        self.event_ids.append(request.headers[webhooks.EVENT_HEADER])
        return web.Response(status=204)


async def serve(rx: Receiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", rx.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rx.url = f"http://127.0.0.1:{port}/hook"
    return runner


def an_alert(**kw: Any) -> QcAlert:
    row = {
        "id": 7,
        "threshold_id": 3,
        "metric": "abandon_rate",
        "scope": "campaign",
        "subject": "Spring sale",
        "value": 0.041,
        "limit": 0.025,
        "raised_at": T0,
        **kw,
    }
    return QcAlert(**row)


def test_the_payload_names_rule_subject_kpi_value_threshold_period_and_time() -> None:
    body = alert_webhook.payload(an_alert(), min_volume=20)
    assert body == {
        "event": "qc.alert.raised",
        "alert_id": 7,
        "rule": {
            "id": 3,
            "kpi": "abandon_rate",
            "scope": "campaign",
            "limit": 0.025,
            "min_volume": 20,
        },
        "scope": "campaign",
        "campaign": "Spring sale",
        "agent": None,
        "kpi": "abandon_rate",
        "value": 0.041,
        "threshold": 0.025,
        "period": "today (UTC)",
        "time": "2026-12-07T09:30:00+00:00",
    }
    agent = alert_webhook.payload(an_alert(metric="qa_score", scope="agent", subject="li"))
    assert agent["agent"] == "li" and agent["campaign"] is None
    assert agent["period"] == "last 7 days"


async def test_a_failed_post_is_retried_logged_and_then_delivered_signed() -> None:
    rx = Receiver(fail_first=2)
    runner = await serve(rx)
    try:
        hook = alert_webhook.AlertWebhook(
            alert_webhook.Target(rx.url, SECRET, LOOPBACK_OK), delays=(0.05, 0.05, 0.05)
        )
        with capture_logs() as logs:
            assert await hook.deliver(alert_webhook.payload(an_alert()))
    finally:
        await runner.cleanup()
    assert rx.hits == 3 and rx.bad_signatures == 0
    assert rx.accepted == [alert_webhook.payload(an_alert())]
    assert rx.event_ids == ["qc-alert-7"]
    failures = [e for e in logs if e["event"] == "alert webhook failed"]
    assert [(e["attempt"], e["error"]) for e in failures] == [(1, "HTTP 503"), (2, "HTTP 503")]


async def test_it_gives_up_with_an_error_line_and_a_wrong_secret_is_refused() -> None:
    rx = Receiver()
    runner = await serve(rx)
    try:
        hook = alert_webhook.AlertWebhook(
            alert_webhook.Target(rx.url, "not-the-secret", LOOPBACK_OK), delays=(0.01,)
        )
        with capture_logs() as logs:
            assert not await hook.deliver(alert_webhook.payload(an_alert()))
    finally:
        await runner.cleanup()
    assert rx.bad_signatures == 2 and not rx.accepted
    assert [e["attempts"] for e in logs if e["event"] == "alert webhook given up"] == [2]


async def test_a_loopback_target_is_refused_without_the_operators_permission() -> None:
    rx = Receiver()
    runner = await serve(rx)
    try:
        hook = alert_webhook.AlertWebhook(
            alert_webhook.Target(rx.url, SECRET, webhook_targets.TargetPolicy()), delays=()
        )
        with capture_logs() as logs:
            assert not await hook.deliver(alert_webhook.payload(an_alert()))
    finally:
        await runner.cleanup()
    assert rx.hits == 0
    assert "refused" in next(e["error"] for e in logs if e["event"] == "alert webhook failed")


async def test_fire_returns_at_once_while_a_slow_receiver_answers() -> None:
    rx = Receiver(delay=0.5)
    runner = await serve(rx)
    try:
        hook = alert_webhook.AlertWebhook(alert_webhook.Target(rx.url, SECRET, LOOPBACK_OK))
        t = time.monotonic()
        hook.fire([alert_webhook.payload(an_alert()), alert_webhook.payload(an_alert(id=8))])
        assert time.monotonic() - t < 0.05  # the checker is not held up
        assert not rx.accepted
        await hook.drain()
    finally:
        await runner.cleanup()
    assert sorted(rx.event_ids) == ["qc-alert-7", "qc-alert-8"]


async def test_the_server_posts_a_raised_alert_to_the_configured_url(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """A threshold on the QA score, Check now: the receiver gets li's alert once."""
    engine = sqlite_engine
    now = datetime.now(UTC)
    agents = {"li": qcdata.agent(engine, "li")}
    calls = qcdata.floor(engine, now - timedelta(hours=3), agents, calls_each=2)["calls"]
    card = store.save_card(engine, qcdata.card_definition(), None, now)
    bad = {"greeting": "no", "identity": "yes", "clarity": "2", "recap": "no"}
    for c in calls["li"]:
        review.evaluate(engine, c, card.id or 0, bad, "", None, now)
    rx = Receiver()
    runner = await serve(rx)
    try:
        env = {
            "OUTDIAL_ALERT_WEBHOOK_URL": rx.url,
            "OUTDIAL_ALERT_WEBHOOK_SECRET": SECRET,
            "OUTDIAL_WEBHOOK_ALLOW_HTTP": "true",
            "OUTDIAL_WEBHOOK_ALLOW_PRIVATE": "true",
        }
        consolekit.user(engine, "mgr", Role.MANAGER)
        app = consolekit.app_for(engine, tmp_path, env)
        client = await aiohttp_client(app)
        csrf = await consolekit.login(client, "mgr")
        h = {"Accept-Language": "en", "X-CSRF-Token": csrf, "HX-Request": "1"}
        form = {"metric": "qa_score", "scope": "agent", "limit": "75", "min_volume": "1"}
        page = await (await client.post("/quality/thresholds", data=form, headers=h)).text()
        assert "also sent to 127.0.0.1" in page and SECRET not in page and "/hook" not in page
        for _ in range(2):  # the second check sees the same episode: no second POST
            await client.post("/quality/alerts/check", headers=h)
        from web.pages_quality_alerts import WEBHOOK

        await app[WEBHOOK].drain()
    finally:
        await runner.cleanup()
    assert len(rx.accepted) == 1
    got = rx.accepted[0]
    assert (got["agent"], got["kpi"], got["value"], got["threshold"]) == (
        "li",
        "qa_score",
        33.1,
        75,
    )
    assert got["rule"]["min_volume"] == 1 and got["period"] == "last 7 days"
