"""Verdict webhooks against a real aiohttp receiver on 127.0.0.1, with a hand-driven clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import Engine

from campaigns import orders, rules, store, webhook_targets, webhooks
from outdial.models import as_utc

SECRET = "hook-secret"
#: the receivers here listen on 127.0.0.1 over http, which only an operator can allow
LOOPBACK_OK = webhook_targets.TargetPolicy(allow_http=True, allow_private=True)
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Receiver:
    fail_first: int
    url: str = ""
    hits: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    clock: Clock = field(default_factory=Clock)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hits += 1
        now = int(self.clock().timestamp())
        if not webhooks.verify(SECRET, request.headers, body, now):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.hits <= self.fail_first:
            return web.Response(status=503, text="try later")
        self.accepted.append(await request.json())
        return web.Response(status=204)


async def start(rx: Receiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", rx.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rx.url = f"http://127.0.0.1:{port}/hook"
    return runner


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def verdict_for(engine: Engine, url: str, external_id: str = "SO-1") -> None:
    spec = rules.parse_campaign(
        {
            "name": "verify",
            "kind": "order_verification",
            "caller_id": "+861012345678",
            "webhook_url": url,
        }
    )
    row, _ = store.save_spec(engine, spec, webhook_secret=SECRET)
    order = {
        "external_id": external_id,
        "phone": "+8613800000009",
        "lines": [1],
        "ship_by": "2026-03-05T00:00:00+00:00",
    }
    orders.upsert_orders(engine, row, [order])
    orders.set_verdict(
        engine, external_id, {"verdict": "cancelled", "reason": "customer changed mind"}, T0
    )


def test_signature_round_trip_and_replay_window() -> None:
    body = b'{"a":1}'
    headers = {
        webhooks.TIMESTAMP_HEADER: "1000",
        webhooks.SIGNATURE_HEADER: webhooks.sign("k", 1000, body),
    }
    assert headers[webhooks.SIGNATURE_HEADER].startswith("sha256=")
    assert webhooks.verify("k", headers, body, 1000 + 300)
    assert not webhooks.verify("k", headers, body, 1000 + 301)  # replayed too late
    assert not webhooks.verify("k", headers, b'{"a":2}', 1000)
    assert not webhooks.verify("other", headers, body, 1000)


async def test_receiver_failing_twice_then_accepting(
    sqlite_engine: Engine, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    rx = Receiver(fail_first=2, clock=clock)
    runner = await start(rx)
    try:
        verdict_for(sqlite_engine, rx.url)
        sender = webhooks.WebhookSender(
            sqlite_engine, clock=clock, jitter=lambda: 0.5, policy=LOOPBACK_OK
        )
        statuses = []
        for _ in range(3):
            [d] = await sender.tick(session)
            statuses.append(d.status)
            assert await sender.tick(session) == []  # nothing is due before next_at
            clock.now = as_utc(d.next_at)
        assert statuses == ["pending", "pending", "delivered"]
        assert rx.hits == 3 and rx.bad_signatures == 0
        [payload] = rx.accepted
        assert payload["external_id"] == "SO-1" and payload["verdict"] == "cancelled"
        assert payload["reason"] == "customer changed mind"
    finally:
        await runner.cleanup()


async def test_dead_letter_after_24h_then_manual_resend(
    sqlite_engine: Engine, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    rx = Receiver(fail_first=10_000, clock=clock)
    runner = await start(rx)
    try:
        verdict_for(sqlite_engine, rx.url)
        sender = webhooks.WebhookSender(
            sqlite_engine, clock=clock, jitter=lambda: 0.0, policy=LOOPBACK_OK
        )
        status = "pending"
        while status == "pending":
            [d] = await sender.tick(session)
            status = d.status
            clock.now = as_utc(d.next_at) if status == "pending" else clock.now
            assert clock.now <= T0 + timedelta(hours=24)
        assert status == "dead" and d.last_error == "HTTP 503"  # never the body ("try later")
        assert clock.now >= T0 + timedelta(hours=23)  # it kept trying for the whole day
        [dead] = orders.deliveries(sqlite_engine, "dead")
        rx.fail_first = 0
        orders.resend(sqlite_engine, dead.id or 0, clock.now)
        [again] = await sender.tick(session)
        assert again.status == "delivered" and orders.deliveries(sqlite_engine, "dead") == []
    finally:
        await runner.cleanup()


async def test_unreachable_receiver_and_overdue_order(
    sqlite_engine: Engine, session: aiohttp.ClientSession
) -> None:
    spec = rules.parse_campaign(
        {
            "name": "v2",
            "kind": "order_verification",
            "caller_id": "+861012345678",
            "webhook_url": "http://127.0.0.1:9/x",
        }
    )
    row, _ = store.save_spec(sqlite_engine, spec, webhook_secret=SECRET)
    order = {
        "external_id": "SO-9",
        "phone": "+8613800000009",
        "lines": [1],
        "ship_by": "2026-03-02T03:00:00+00:00",
    }
    orders.upsert_orders(sqlite_engine, row, [order])
    clock = Clock(T0 + timedelta(hours=1))
    sender = webhooks.WebhookSender(
        sqlite_engine, clock=clock, jitter=lambda: 0.0, policy=LOOPBACK_OK
    )
    [d] = await sender.tick(session)
    assert orders.get_order(sqlite_engine, "SO-9").verdict == "unreachable"
    assert d.status == "pending" and d.last_error == "connection failed"
