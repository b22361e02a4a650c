"""Verdict webhooks: HMAC-signed POSTs from the outbox, retried for 24 h, then dead-lettered.

Each request carries::

    X-Outdial-Event-Id:   the delivery's event id (receivers dedupe on it)
    X-Outdial-Timestamp:  Unix seconds when signed
    X-Outdial-Signature:  sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed by the secret>

A receiver recomputes the HMAC with :func:`verify` and refuses timestamps older than five
minutes, so a captured request cannot be replayed later. Any 2xx answer is a delivery;
anything else, a timeout or a connection error is retried per verdicts.webhook_retry_at.
Redirects are not followed, and a failed attempt records the status and a short reason,
never the answer's body (a webhook must not become a way to read internal services).
Targets are checked at send time against campaigns/webhook_targets.py.
The clock and the jitter source are passed in, so tests drive the schedule by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog
from sqlalchemy.engine import Engine

from campaigns import callbacks, orders, webhook_targets
from campaigns.models import WebhookDelivery
from campaigns.webhook_targets import TargetPolicy, TargetRefused

log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-Outdial-Signature"
TIMESTAMP_HEADER = "X-Outdial-Timestamp"
EVENT_HEADER = "X-Outdial-Event-Id"
REPLAY_TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        ts = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), headers.get(SIGNATURE_HEADER, ""))


def body_of(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookSender:
    """Delivers due webhooks; one ``tick`` is one pass over the outbox."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
        timeout_s: float = 10.0,
        policy: TargetPolicy | None = None,
        secrets_file: Path | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.jitter = jitter
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.policy = policy or TargetPolicy()
        self.secrets_file = secrets_file

    async def tick(self, session: aiohttp.ClientSession) -> list[WebhookDelivery]:
        """Expire overdue orders (they get ``unreachable`` and a webhook), then send what is due."""
        now = self.clock()
        await asyncio.to_thread(orders.expire_overdue, self.engine, now)
        due = await asyncio.to_thread(orders.due_deliveries, self.engine, now)
        return [await self.send(session, d) for d in due]

    async def send(self, session: aiohttp.ClientSession, d: WebhookDelivery) -> WebhookDelivery:
        operator = await asyncio.to_thread(webhook_targets.operator_secrets, self.secrets_file)
        secret = await asyncio.to_thread(orders.webhook_secret, self.engine, d.order_id, operator)
        error = await self._post(session, d, secret) if secret else "campaign has no webhook secret"
        done = await asyncio.to_thread(
            orders.record_attempt, self.engine, d.id or 0, self.clock(), error, self.jitter()
        )
        log.info("webhook attempt", delivery=d.id, status=done.status, error=error or "")
        return done

    async def _post(
        self, session: aiohttp.ClientSession, d: WebhookDelivery, secret: str
    ) -> str | None:
        ts = int(self.clock().timestamp())
        return await post_signed(
            session, d.url, body_of(d.payload), secret, d.event_id, ts, self.policy, self.timeout
        )


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    secret: str,
    event_id: str,
    timestamp: int,
    policy: TargetPolicy,
    timeout: aiohttp.ClientTimeout,
) -> str | None:
    """POST one signed body; None on a 2xx answer, else a short reason (never the body).

    Shared by the order-verdict sender and the alert webhook (quality/alert_webhook.py).
    """
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    refused = webhook_targets.check_url(url, policy)
    if refused:
        return f"refused: {refused}"
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as r:
            if 200 <= r.status < 300:
                return None
            if 300 <= r.status < 400:
                return f"HTTP {r.status} (redirects are not followed)"
            return f"HTTP {r.status}"
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, TargetRefused):
            return "refused: the target is not a public address"
        return "connection failed"
    except TimeoutError:
        return "timed out"
    except aiohttp.ClientError as exc:
        return f"request failed ({type(exc).__name__})"


def housekeeping(engine: Engine, now: datetime) -> None:
    """Hand missed personal callbacks to the team (callback_times.moves_to_team)."""
    callbacks.move_missed_to_team(engine, now)


async def run_forever(sender: WebhookSender, interval_s: float = 5.0) -> None:
    """The background loop the web app starts: never dies on one bad pass."""
    async with webhook_targets.client_session(sender.policy) as session:
        while True:
            try:
                await asyncio.to_thread(housekeeping, sender.engine, sender.clock())
                await sender.tick(session)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign background pass failed")
            await asyncio.sleep(interval_s)
