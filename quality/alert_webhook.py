"""The alert webhook (预警 webhook, issue 19 part 5): a signed JSON POST per alert raised.

Configured once for the server (``alert_webhook_url``, ``alert_webhook_secret``). Signed
exactly as the order-verdict webhooks (campaigns/webhooks.py: ``X-Outdial-Timestamp``,
``X-Outdial-Signature: sha256=<HMAC of "<timestamp>." + body>``, ``X-Outdial-Event-Id``),
so a receiver verifies both with the same code; the target obeys the same policy
(``webhook_allow_http``, ``webhook_allow_private``, checked again after resolving).

Delivery is best effort and never holds up the alert check: :meth:`AlertWebhook.fire`
starts a background task per alert, which tries ``len(delays) + 1`` times and logs each
failure, then gives up with an error line. An alert is already in the log (qc_alerts)
before it is sent, so a lost webhook loses no alert; the retries are not kept across a
restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from campaigns import webhook_targets, webhooks
from campaigns.webhook_targets import TargetPolicy
from outdial.models import as_utc
from quality.alerts import Metric
from quality.models import QcAlert

log = structlog.get_logger(__name__)
EVENT = "qc.alert.raised"
#: the period each metric's value covers (quality/alert_store.py's readings)
PERIODS = {
    Metric.ABANDON_RATE: "today (UTC)",
    Metric.CONNECT_RATE: "today (UTC)",
    Metric.AHT: "today (UTC)",
    Metric.AVG_WRAP_TIME: "today (UTC)",
    Metric.CONNECT_DROP: "this hour against the previous one",
    Metric.PAUSED_SECONDS: "now",
    Metric.QA_SCORE: "last 7 days",
}


def payload(alert: QcAlert, min_volume: int = 0) -> dict[str, Any]:
    """The JSON body for one raised alert: the rule, who, which KPI, value and limit, when."""
    metric = Metric(alert.metric)
    return {
        "event": EVENT,
        "alert_id": alert.id,
        "rule": {
            "id": alert.threshold_id,
            "kpi": metric.value,
            "scope": alert.scope,
            "limit": alert.limit,
            "min_volume": min_volume,
        },
        "scope": alert.scope,
        "campaign": alert.subject if alert.scope == "campaign" else None,
        "agent": alert.subject if alert.scope == "agent" else None,
        "kpi": metric.value,
        "value": alert.value,
        "threshold": alert.limit,
        "period": PERIODS[metric],
        "time": as_utc(alert.raised_at).isoformat(),
    }


@dataclass(frozen=True)
class Target:
    url: str
    secret: str
    policy: TargetPolicy


class AlertWebhook:
    """Sends alert payloads to one target in background tasks; ``drain`` waits for them."""

    def __init__(
        self,
        target: Target,
        delays: Sequence[float] = (2.0, 10.0, 60.0),
        timeout_s: float = 10.0,
    ) -> None:
        self.target = target
        self.delays = tuple(delays)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.tasks: set[asyncio.Task[bool]] = set()

    def fire(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        """Start one delivery per payload and return at once (the checker never waits)."""
        for body in bodies:
            task = asyncio.create_task(self.deliver(body), name="qc-alert-webhook")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        """Wait for the deliveries in flight (tests, and a clean shutdown)."""
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.drain()

    async def deliver(self, body: Mapping[str, Any]) -> bool:
        """Try, and retry after each delay; True once a 2xx answer came."""
        event_id = f"qc-alert-{body.get('alert_id')}"
        async with webhook_targets.client_session(self.target.policy) as session:
            for attempt, wait in enumerate((0.0, *self.delays), start=1):
                if wait:
                    await asyncio.sleep(wait)
                error = await webhooks.post_signed(
                    session,
                    self.target.url,
                    webhooks.body_of(body),
                    self.target.secret,
                    event_id,
                    int(time.time()),
                    self.target.policy,
                    self.timeout,
                )
                if error is None:
                    log.info("alert webhook delivered", event_id=event_id, attempt=attempt)
                    return True
                log.warning("alert webhook failed", event_id=event_id, attempt=attempt, error=error)
        log.error("alert webhook given up", event_id=event_id, attempts=len(self.delays) + 1)
        return False
