"""Issue 18 findings 1-2: webhook targets are checked when sent, redirects are not followed,
and a failed delivery records a status and a short reason, never the answer's body."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy.engine import Engine

from campaigns import orders, rules, store, webhook_targets, webhooks
from campaigns.webhook_targets import TargetPolicy

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
STRICT = TargetPolicy()
HTTP_ONLY = TargetPolicy(allow_http=True)
LOOPBACK_OK = TargetPolicy(allow_http=True, allow_private=True)
SECRET_BODY = "internal-admin-token-0xDEADBEEF"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # plain http
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://192.168.0.5/x",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
        "https://localhost/x",
        "https://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
    ],
)
def test_refused_targets(url: str) -> None:
    assert webhook_targets.check_url(url, STRICT) != ""


def test_allowed_targets() -> None:
    assert webhook_targets.check_url("https://hooks.example.com/x", STRICT) == ""
    assert webhook_targets.check_url("https://8.8.8.8/x", STRICT) == ""
    assert webhook_targets.check_url("http://127.0.0.1:9/x", LOOPBACK_OK) == ""


class FakeResolver(AbstractResolver):
    """Answers every name with one fixed address (a DNS rebinding attacker's server)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=self.address, port=port, family=socket.AF_INET, proto=0,
                flags=0,
            )
        ]  # fmt: skip

    async def close(self) -> None:
        return None


async def test_guarded_resolver_refuses_a_name_that_resolves_to_loopback() -> None:
    guard = webhook_targets.GuardedResolver(HTTP_ONLY, FakeResolver("127.0.0.1"))
    with pytest.raises(webhook_targets.TargetRefused):
        await guard.resolve("hooks.example.com", 443)
    fine = webhook_targets.GuardedResolver(HTTP_ONLY, FakeResolver("93.184.216.34"))
    assert (await fine.resolve("hooks.example.com", 443))[0]["host"] == "93.184.216.34"


class Target:
    def __init__(self) -> None:
        self.hits: list[str] = []

    async def leak(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(status=500, text=SECRET_BODY)

    async def bounce(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        raise web.HTTPFound("/leak")


@pytest.fixture
async def target() -> AsyncIterator[tuple[Target, int]]:
    t = Target()
    app = web.Application()
    app.router.add_post("/leak", t.leak)
    app.router.add_post("/bounce", t.bounce)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield t, port
    await runner.cleanup()


def queue(engine: Engine, url: str) -> None:
    spec = rules.parse_campaign(
        {"name": "v", "kind": "order_verification", "caller_id": "+861012345678",
         "webhook_url": url}
    )  # fmt: skip
    row, _ = store.save_spec(engine, spec)
    assert store.ensure_webhook_secret(engine, row.id or 0)
    order = {"external_id": "SO-1", "phone": "+8613800000009", "lines": [1],
             "ship_by": "2026-03-05T00:00:00+00:00"}  # fmt: skip
    orders.upsert_orders(engine, row, [order])
    orders.set_verdict(engine, "SO-1", {"verdict": "confirmed"}, T0)


async def send_once(engine: Engine, policy: TargetPolicy, session: aiohttp.ClientSession) -> str:
    sender = webhooks.WebhookSender(engine, clock=lambda: T0, jitter=lambda: 0.0, policy=policy)
    [d] = await sender.tick(session)
    assert d.status == "pending"
    return d.last_error


async def test_loopback_target_is_refused_by_default(
    sqlite_engine: Engine, target: tuple[Target, int]
) -> None:
    t, port = target
    queue(sqlite_engine, f"http://127.0.0.1:{port}/leak")
    async with webhook_targets.client_session(STRICT) as session:
        reason = await send_once(sqlite_engine, STRICT, session)
    assert t.hits == [] and reason.startswith("refused")


async def test_rebound_name_is_refused_at_connect_time(
    sqlite_engine: Engine, target: tuple[Target, int]
) -> None:
    """The name passes the URL check; its answer (loopback) is refused when connecting."""
    t, port = target
    queue(sqlite_engine, f"http://hooks.example.com:{port}/leak")
    guard = webhook_targets.GuardedResolver(HTTP_ONLY, FakeResolver("127.0.0.1"))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=guard)) as session:
        reason = await send_once(sqlite_engine, HTTP_ONLY, session)
    assert t.hits == [] and reason == "refused: the target is not a public address"


async def test_the_answer_body_is_never_recorded_and_redirects_are_not_followed(
    sqlite_engine: Engine, target: tuple[Target, int], capsys: pytest.CaptureFixture[str]
) -> None:
    t, port = target
    queue(sqlite_engine, f"http://127.0.0.1:{port}/bounce")
    async with webhook_targets.client_session(LOOPBACK_OK) as session:
        reason = await send_once(sqlite_engine, LOOPBACK_OK, session)
    assert t.hits == ["/bounce"] and reason == "HTTP 302 (redirects are not followed)"
    [d] = orders.deliveries(sqlite_engine)
    with orders.session_scope(sqlite_engine) as s:
        row = s.get(orders.WebhookDelivery, d.id)
        assert row is not None
        row.url, row.next_at = f"http://127.0.0.1:{port}/leak", T0
        s.add(row)
    async with webhook_targets.client_session(LOOPBACK_OK) as session:
        reason = await send_once(sqlite_engine, LOOPBACK_OK, session)
    assert reason == "HTTP 500"
    assert SECRET_BODY not in str(orders.deliveries(sqlite_engine)[0].last_error)
    assert SECRET_BODY not in capsys.readouterr().out


async def test_operator_secret_wins_over_the_generated_one(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    queue(sqlite_engine, "https://hooks.example.com/x")
    [d] = orders.deliveries(sqlite_engine)
    generated = orders.webhook_secret(sqlite_engine, d.order_id)
    assert generated.startswith("whsec_")
    f = tmp_path / "secrets.toml"
    f.write_text('v = "operator-secret"\n', encoding="utf-8")
    operator = webhook_targets.operator_secrets(f)
    assert orders.webhook_secret(sqlite_engine, d.order_id, operator) == "operator-secret"
    rotated = store.rotate_webhook_secret(sqlite_engine, 1)
    assert rotated != generated and orders.webhook_secret(sqlite_engine, d.order_id) == rotated
