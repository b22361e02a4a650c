"""Order verification end to end over real SIP (issue 7, "Tests over real SIP").

An order is pushed (campaigns.orders, what ``POST /api/orders`` calls); its customer is
dialed by the real engine through the real compliance gate and SIP worker pool to SIPp (the
carrier, tests/dialer/scenarios/carrier.xml: +86138001... answers with audio) and bridged to
a SIPp agent softphone (scenarios/agent.xml). While bridged, the agent records the verdict
(campaigns.orders.set_verdict, what ``POST /api/orders/{id}/verdict`` calls) and hangs up,
then sets the disposition. The verdict's webhook goes to an aiohttp receiver started here
that answers 500 twice, then 200, checking the HMAC signature every time. The sender's clock
is the test's: it is moved past each retry's backoff instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import dialdata
import pytest
import sqlalchemy as sa
from aiohttp import web
from dialdata import rows, until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from campaigns import orders, rules, webhook_targets, webhooks
from campaigns import store as campaigns
from compliance import store
from compliance.gate import gate_for
from dialer.core import CoreConfig
from dialer.engine import CampaignEngine, EngineSettings
from outdial import auth
from outdial.models import as_utc
from outdial.roles import Role
from sip import events as ev
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool

pytestmark = pytest.mark.sip

SCENARIOS = Path(__file__).parents[1] / "dialer" / "scenarios"
SECRET = "order-hook-secret"
PHONE = "+8613800100001"  # the carrier answers +86138001...
EXTERNAL_ID = "SO-20260101-0001"


class Receiver:
    """The order system's webhook endpoint: fails ``failures`` times, then accepts."""

    def __init__(self, clock: Any, failures: int = 2) -> None:
        self.clock, self.failures = clock, failures
        self.seen: list[tuple[bool, str, dict[str, Any]]] = []  # (signature ok, event id, body)
        self.at: list[datetime] = []  # on the sender's clock

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = int(self.clock().timestamp())
        ok = webhooks.verify(SECRET, request.headers, body, now)
        self.at.append(self.clock())
        self.seen.append((ok, request.headers.get(webhooks.EVENT_HEADER, ""), json.loads(body)))
        if not ok:
            return web.Response(status=401, text="bad signature")
        if len(self.seen) <= self.failures:
            return web.Response(status=500, text="order system busy")
        return web.json_response({"ok": True})


async def test_order_verdict_reaches_a_webhook_that_fails_twice(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine
    now = [datetime.now(UTC)]

    def clock() -> datetime:
        return now[0]

    receiver = Receiver(clock)
    app = web.Application()
    app.router.add_post("/hooks/verdict", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    spec = rules.parse_campaign(
        {
            "name": "verify-orders",
            "kind": "order_verification",
            "mode": "progressive",
            "caller_id": "+8610010000",
            "webhook_url": f"http://127.0.0.1:{port}/hooks/verdict",
        }
    )
    camp, _ = campaigns.save_spec(db, spec, webhook_secret=SECRET)
    assert camp.id is not None
    order = {
        "external_id": EXTERNAL_ID,
        "customer_name": "王女士",
        "phone": PHONE,
        "lines": [{"sku": "KT-1", "name": "电热水壶", "qty": 1, "price": "199.00"}],
        "address": {"city": "上海", "text": "浦东新区世纪大道 1 号"},
        "payment": {"method": "cod", "amount": "199.00"},
        "ship_by": (now[0] + timedelta(days=2)).isoformat(),
    }
    ((pushed, created),) = orders.upsert_orders(db, camp, [order])
    assert created and pushed.verdict is None
    # the order's customer is already a record of the campaign (orders.py makes its contact);
    # only its zone moves to one where it is afternoon now, so the calling window is open
    zone = dialdata.afternoon_zone(now[0])
    (contact,) = rows(db, "SELECT id, order_id, deadline_at FROM contacts")
    assert contact.order_id == EXTERNAL_ID and contact.deadline_at is not None
    contact_id = contact.id
    with db.begin() as conn:
        conn.execute(
            sa.text("UPDATE contacts SET timezones = :z WHERE id = :c"),
            {"z": json.dumps([zone]), "c": contact_id},
        )
    store.consent_record(db, PHONE, "granted", evidence="order", at=now[0] - timedelta(days=1))

    workdir = write_all(tmp_path / "sipp")
    carrier = SippPeer(SCENARIOS / "carrier.xml", workdir, calls=1, timeout=60)
    agent = SippPeer(SCENARIOS / "agent.xml", workdir, calls=1, timeout=60)
    seen: list[ev.SipEvent] = []
    pushed_msgs: list[dict[str, Any]] = []
    side: set[asyncio.Task[None]] = set()
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", carrier.port),
        )
        pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=1, customer_lines=1)
        async with SipPool(pool_cfg, on_event=seen.append) as pool:
            settings = EngineSettings(
                campaign_id=camp.id,
                core=CoreConfig(mode="progressive", connect_limit=2.0, max_lines=1),
                caller_id="+8610010000",
                ring_timeout=10.0,
                allow_short_ring_timeout_for_tests=True,
                safe_harbor_wav=None,
                tick=0.02,
                pace_every=0.2,
            )
            eng: CampaignEngine
            user = auth.create_user(
                db, "verifier", "password-1", Role.AGENT, sip_uri=agent.uri("verifier")
            )
            assert user.id is not None

            async def verify_order(call_id: str, record: dict[str, Any]) -> None:
                """The agent, bridged: reads the order, records the verdict, hangs up."""
                await asyncio.sleep(0.5)
                ext = str(record["order_id"])
                await asyncio.to_thread(
                    orders.set_verdict,
                    db,
                    ext,
                    {"verdict": "confirmed"},
                    clock(),
                    user.id,
                )
                await pool.hangup(call_id)

            async def wrap_up(call_id: str) -> None:
                await eng.disposition("a1", call_id, "success", final=True)

            def push(agent_id: str, msg: dict[str, Any]) -> None:
                pushed_msgs.append(msg)
                job = None
                if msg["type"] == "call_connected":
                    job = verify_order(msg["call_id"], msg["record"])
                elif msg["type"] == "call_ended" and msg["state"] == "completed":
                    job = wrap_up(msg["call_id"])
                if job is not None:
                    task = asyncio.create_task(job)
                    side.add(task)
                    task.add_done_callback(side.discard)

            eng = CampaignEngine(db, pool, settings, gate_for(db, camp.id), push=push)
            await eng.start(dialing=False)
            await eng.agent_login("a1", user.id, agent.uri("verifier"))
            eng.resume()
            await until(lambda: eng.finished == 1 and not side, 30, "the verification call")
            await eng.stop(drain_timeout=5)
        results = [carrier.wait(20), agent.wait(20)]
    finally:
        carrier.kill()
        agent.kill()
        (tmp_path / "sip-events.txt").write_text("\n".join(map(repr, seen)))

    # --- the call: dialed, bridged within 2 s, our hang-up, the agent's disposition ---------
    (att,) = rows(
        db,
        "SELECT number, state, final, bridged_at, answer_to_bridge_ms, disposition, call_id"
        " FROM attempts",
    )
    assert (att.number, att.state, bool(att.final)) == (PHONE, "completed", True)
    assert att.bridged_at is not None and att.answer_to_bridge_ms <= 2000.0
    assert att.disposition == "success"
    connected = [m for m in pushed_msgs if m["type"] == "call_connected"]
    assert [m["record"]["order_id"] for m in connected] == [EXTERNAL_ID]
    assert rows(db, "SELECT status FROM contacts WHERE id = :c", c=contact_id)[0].status == "done"
    for r in results:
        assert (r.returncode, r.successful, r.failed) == (0, 1, 0), (r.stderr, r.errors)
    assert results[0].counts["10_BYE_Recv"] == 1  # the verifier's hang-up, not the carrier's

    # --- the verdict is committed and readable ----------------------------------------------
    stored = orders.get_order(db, EXTERNAL_ID)
    assert stored.verdict == "confirmed" and stored.verdict_by == user.id

    # --- the webhook: 500, 500, then 200; each try signed; the clock jumps over the backoff --
    # the test's receiver is on loopback over http: an operator's allowance (issue 18)
    policy = webhook_targets.TargetPolicy(allow_http=True, allow_private=True)
    sender = webhooks.WebhookSender(db, clock=clock, jitter=lambda: 0.0, policy=policy)
    history: list[tuple[str, int]] = []
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(5):
                for d in await sender.tick(session):
                    history.append((d.status, d.attempts))
                    now[0] = max(now[0], as_utc(d.next_at)) + timedelta(seconds=1)
                if history and history[-1][0] != "pending":
                    break
                now[0] += timedelta(seconds=1)
    finally:
        await runner.cleanup()
    assert history == [("pending", 1), ("pending", 2), ("delivered", 3)]
    (delivery,) = orders.deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, "")
    assert [ok for ok, _e, _b in receiver.seen] == [True, True, True]
    assert {e for _ok, e, _b in receiver.seen} == {delivery.event_id}  # one event, retried
    body = receiver.seen[-1][2]
    assert (body["event"], body["external_id"], body["verdict"]) == (
        "order.verdict",
        EXTERNAL_ID,
        "confirmed",
    )
    # each retry waited out its backoff on the sender's clock (verdicts.webhook_retry_at with no
    # jitter: half of 30 s, then half of 60 s)
    gaps = [(b - a).total_seconds() for a, b in zip(receiver.at, receiver.at[1:], strict=False)]
    assert gaps[0] >= 15 and gaps[1] >= 30
    assert orders.deliveries(db, "dead") == []
