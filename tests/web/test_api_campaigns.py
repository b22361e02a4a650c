"""The campaign-kinds API (issue 7) over HTTP: sessions with CSRF, and integration tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine

from campaigns import survey_store, surveys
from outdial import auth, config
from web.app import create_app

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Client = TestClient[Any, Any]
CAMPAIGN = {"name": "核单", "kind": "order_verification", "caller_id": "+861012345678"}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path, sqlite_engine: Engine) -> Client:
    for name, role in (("boss", "manager"), ("wang", "agent"), ("li", "agent"), ("qa", "surveyor")):
        auth.create_user(sqlite_engine, name, "password-1", role)
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path)})
    return await aiohttp_client(create_app(cfg, sqlite_engine))


async def login(client: Client, user: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": "password-1"})
    assert resp.status == 200
    return {"X-CSRF-Token": (await resp.json())["csrf_token"]}


def bearer(engine: Engine, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.create_token(engine, user, 'crm')[1]}"}


async def test_campaigns_create_list_show(client: Client) -> None:
    h = await login(client, "boss")
    resp = await client.post("/api/campaigns", json=CAMPAIGN, headers=h)
    assert resp.status == 201, await resp.text()
    cid = (await resp.json())["campaign"]["id"]
    assert (await client.post("/api/campaigns", json=CAMPAIGN, headers=h)).status == 409
    bad = await client.post("/api/campaigns", json={"name": "x"}, headers=h)
    body = await bad.json()
    assert bad.status == 400 and body["error"] == "campaign_invalid"
    assert body["problems"][0]["field"] == "caller_id"
    listed = await (await client.get("/api/campaigns")).json()
    assert [c["name"] for c in listed["campaigns"]] == ["核单"]
    shown = await (await client.get(f"/api/campaigns/{cid}")).json()
    assert shown["campaign"]["definition"]["retry"]["no_answer"] == 60


async def test_orders_batch_idempotent_and_verdict_by_agent(
    client: Client, sqlite_engine: Engine
) -> None:
    h = await login(client, "boss")
    await client.post("/api/campaigns", json=CAMPAIGN, headers=h)
    token = bearer(sqlite_engine, "boss")
    order = {
        "external_id": "SO-1",
        "phone": "+8613800000001",
        "lines": [{"sku": "A"}],
        "ship_by": "2026-12-01T18:00:00+08:00",
    }
    batch = {"campaign": "核单", "orders": [order, {**order, "external_id": "SO-2"}]}
    first = await client.post("/api/orders", json=batch, headers=token)
    assert first.status == 201 and [o["created"] for o in (await first.json())["orders"]] == [
        True,
        True,
    ]
    again = await client.post("/api/orders", json={"campaign": "核单", **order}, headers=token)
    assert again.status == 200 and (await again.json())["orders"][0]["created"] is False

    agent = bearer(sqlite_engine, "wang")
    assert (await client.post("/api/orders", json=batch, headers=agent)).status == 403
    verdict = {"verdict": "cancelled", "reason": "changed mind"}
    r1 = await client.post("/api/orders/SO-1/verdict", json=verdict, headers=agent)
    r2 = await client.post("/api/orders/SO-1/verdict", json=verdict, headers=agent)
    assert (r1.status, r2.status) == (201, 200)
    r3 = await client.post("/api/orders/SO-1/verdict", json={"verdict": "confirmed"}, headers=agent)
    assert r3.status == 409
    shown = await (await client.get("/api/orders/SO-1", headers=agent)).json()
    assert shown["order"]["verdict"] == "cancelled"
    assert shown["order"]["verdict_details"]["reason"] == "changed mind"
    assert (await client.get("/api/orders/NOPE", headers=agent)).status == 404


async def test_callbacks_agents_own_theirs_managers_see_all(
    client: Client, sqlite_engine: Engine
) -> None:
    h = await login(client, "boss")
    cid = (await (await client.post("/api/campaigns", json=CAMPAIGN, headers=h)).json())[
        "campaign"
    ]["id"]
    wang, li = bearer(sqlite_engine, "wang"), bearer(sqlite_engine, "li")
    body = {
        "campaign_id": cid,
        "phone": "+8613800000003",
        "local_time": "2099-03-03T10:00",
        "zone": "Asia/Shanghai",
        "idempotency_key": "cb-1",
    }
    made = await client.post("/api/callbacks", json=body, headers=wang)
    assert made.status == 201, await made.text()
    cb_id = (await made.json())["callback"]["id"]
    assert (await client.post("/api/callbacks", json=body, headers=wang)).status == 200  # retry
    for missing in ("campaign_id", "phone", "local_time", "zone"):  # documented, required
        bad = await client.post(
            "/api/callbacks", json={k: v for k, v in body.items() if k != missing}, headers=wang
        )
        assert bad.status == 400 and missing in (await bad.json())["message"]

    late = await client.post(
        "/api/callbacks",
        json={**body, "local_time": "2099-03-03T22:00", "idempotency_key": "cb-2"},
        headers=wang,
    )
    refused = await late.json()
    assert late.status == 400 and refused["error"] == "callback_refused"
    assert refused["next_legal"] == "2099-03-04T09:00:00" and refused["field"] == "local_time"
    past = await client.post(
        "/api/callbacks",
        json={**body, "local_time": "2020-03-03T10:00", "idempotency_key": "cb-3"},
        headers=wang,
    )  # a 400 that names the field and says why (it once named no field)
    said = await past.json()
    assert past.status == 400 and said["field"] == "local_time" and said["reason"] == "past"

    assert (await (await client.get("/api/callbacks", headers=li)).json())["callbacks"] == []
    assert (
        await client.patch(
            f"/api/callbacks/{cb_id}", json={"local_time": "2099-03-05T11:00"}, headers=li
        )
    ).status == 404
    moved = await client.patch(
        f"/api/callbacks/{cb_id}", json={"local_time": "2099-03-05T11:00"}, headers=wang
    )
    assert (await moved.json())["callback"]["reschedules"] == 1
    all_rows = await (await client.get("/api/callbacks")).json()  # the manager's session
    assert [c["id"] for c in all_rows["callbacks"]] == [cb_id]
    gone = await client.delete(f"/api/callbacks/{cb_id}", headers=h)
    assert (await gone.json())["callback"]["status"] == "cancelled"

    # a team callback stays in its team: wang's team A sees it, li of team B does not
    auth.set_team(sqlite_engine, "wang", "A")
    auth.set_team(sqlite_engine, "li", "B")
    team_cb = {**body, "owner": "team", "idempotency_key": "cb-team"}
    made = await client.post("/api/callbacks", json=team_cb, headers=wang)
    team_id = (await made.json())["callback"]["id"]
    seen = await (await client.get("/api/callbacks", headers=wang)).json()
    assert [c["id"] for c in seen["callbacks"]] == [team_id]
    assert (await (await client.get("/api/callbacks", headers=li)).json())["callbacks"] == []
    assert (await client.delete(f"/api/callbacks/{team_id}", headers=li)).status == 404


async def test_return_visits_and_survey_results_export(
    client: Client, sqlite_engine: Engine
) -> None:
    h = await login(client, "boss")
    rv = {
        "name": "回访",
        "kind": "return_visit",
        "caller_id": "+861012345678",
        "return_visit_delay_days": 2,
    }
    assert (await client.post("/api/campaigns", json=rv, headers=h)).status == 201
    task = {
        "external_id": "R1",
        "phone": "+8613800000009",
        "subject": "维修",
        "happened_at": "2026-03-01T10:00:00+08:00",
    }
    resp = await client.post(
        "/api/return-visits", json={"campaign": "回访", "tasks": [task]}, headers=h
    )
    assert (
        resp.status == 201
        and (await resp.json())["tasks"][0]["due_at"] == "2026-03-03T02:00:00+00:00"
    )

    sid = survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE).id
    agent = bearer(sqlite_engine, "wang")
    answers = {
        "idempotency_key": "call-1",
        "answers": {"overall": 5, "waiting": 4, "comment": "好"},
    }
    ok = await client.post(f"/api/surveys/{sid}/responses", json=answers, headers=agent)
    assert ok.status == 200 and (await ok.json())["response"]["status"] == "partial"
    bad = await client.post(
        f"/api/surveys/{sid}/responses",
        json={"idempotency_key": "call-2", "answers": {"overall": 9}},
        headers=agent,
    )
    assert bad.status == 400
    rest = {"answers": {"skill": 4, "solution": 5, "attitude": 5}, "idempotency_key": "call-1"}
    done = await client.post(f"/api/surveys/{sid}/responses", json=rest, headers=agent)
    assert (await done.json())["response"]["status"] == "completed"  # every question answered

    qa = bearer(sqlite_engine, "qa")
    assert (await client.get(f"/api/surveys/{sid}/results", headers=agent)).status == 403
    res = await (await client.get(f"/api/surveys/{sid}/results?by=agent", headers=qa)).json()
    assert res["groups"]["wang"][0]["mean"] == 5
    assert res["day_zones"] == {"": "UTC"}  # no campaign: its days are UTC days
    csv_resp = await client.get(f"/api/surveys/{sid}/export", headers=qa)
    assert csv_resp.status == 200 and "好" in (await csv_resp.read()).decode("utf-8-sig")
    xlsx = await client.get(f"/api/surveys/{sid}/export?format=xlsx", headers=qa)
    assert (await xlsx.read())[:2] == b"PK"


async def test_webhook_dead_letters_are_for_managers(client: Client, sqlite_engine: Engine) -> None:
    assert (
        await client.get("/api/webhooks/dead", headers=bearer(sqlite_engine, "wang"))
    ).status == 403
    resp = await client.get("/api/webhooks/dead", headers=bearer(sqlite_engine, "boss"))
    assert resp.status == 200 and (await resp.json())["deliveries"] == []
    missing = await client.post("/api/webhooks/5/resend", headers=bearer(sqlite_engine, "boss"))
    assert missing.status == 404


async def test_webhook_secrets_are_generated_never_named(client: Client) -> None:
    """Issue 18 finding 1: a manager cannot key the HMAC with an environment variable, and
    an unset name cannot be probed; outdial generates the secret, shows it once, rotates it."""
    h = await login(client, "boss")
    for key in ("webhook_secret_env", "webhook_secret"):
        for value in ("OUTDIAL_ADMIN_PASSWORD", "NOT_SET_ANYWHERE"):
            bad = {**CAMPAIGN, "webhook_url": "https://hooks.example.com/x", key: value}
            resp = await client.post("/api/campaigns", json=bad, headers=h)
            body = await resp.json()
            assert resp.status == 400 and body["field"] == key
            assert "not set" not in body["message"]
    good = {**CAMPAIGN, "webhook_url": "https://hooks.example.com/x"}
    resp = await client.post("/api/campaigns", json=good, headers=h)
    made = (await resp.json())["campaign"]
    assert resp.status == 201 and made["webhook_secret"].startswith("whsec_")
    shown = await (await client.get(f"/api/campaigns/{made['id']}")).json()
    assert "webhook_secret" not in shown["campaign"] and shown["campaign"]["webhook_secret_set"]
    rotated = await client.post(f"/api/campaigns/{made['id']}/webhook-secret", headers=h)
    assert rotated.status == 201
    assert (await rotated.json())["webhook_secret"] not in ("", made["webhook_secret"])


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/x", "https://127.0.0.1/x", "https://169.254.169.254/x"]
)
async def test_webhook_targets_https_and_public_by_default(client: Client, url: str) -> None:
    """Issue 18 finding 2 (at definition time; the send-time check is in campaigns/)."""
    h = await login(client, "boss")
    resp = await client.post("/api/campaigns", json={**CAMPAIGN, "webhook_url": url}, headers=h)
    assert resp.status == 400 and (await resp.json())["field"] == "webhook_url"


async def test_idempotency_keys_belong_to_their_agent(
    client: Client, sqlite_engine: Engine
) -> None:
    """Issue 18 finding 3: another agent's key never overwrites, leaks or drops data."""
    h = await login(client, "boss")
    made = await (await client.post("/api/campaigns", json=CAMPAIGN, headers=h)).json()
    cid = made["campaign"]["id"]
    code = made["campaign"]["definition"]["dispositions"][0]["code"]
    wang, li = bearer(sqlite_engine, "wang"), bearer(sqlite_engine, "li")

    # dispositions: a key is required; the same key from two agents is two dispositions
    keyless = await client.post(
        "/api/dispositions", json={"campaign_id": cid, "code": code}, headers=wang
    )
    assert keyless.status == 400 and (await keyless.json())["field"] == "idempotency_key"
    d = {"campaign_id": cid, "code": code, "idempotency_key": "call-7"}
    first = await client.post("/api/dispositions", json=d, headers=wang)
    second = await client.post("/api/dispositions", json=d, headers=li)
    assert (first.status, second.status) == (201, 201)
    ids = {(await first.json())["disposition"]["id"], (await second.json())["disposition"]["id"]}
    assert len(ids) == 2

    # callbacks: li reusing wang's key gets her own callback, never wang's private note
    cb = {
        "campaign_id": cid, "phone": "+8613800000003", "local_time": "2099-03-03T10:00",
        "zone": "Asia/Shanghai", "idempotency_key": "cb-1", "note": "wang's private note",
    }  # fmt: skip
    mine = await client.post("/api/callbacks", json=cb, headers=wang)
    theirs = await client.post("/api/callbacks", json={**cb, "note": "li"}, headers=li)
    assert (mine.status, theirs.status) == (201, 201)
    got = (await theirs.json())["callback"]
    assert got["note"] == "li" and got["id"] != (await mine.json())["callback"]["id"]

    # survey responses: li reusing wang's key does not overwrite wang's answer
    sid = survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE).id
    url = f"/api/surveys/{sid}/responses"
    await client.post(url, json={"idempotency_key": "k", "answers": {"overall": 5}}, headers=wang)
    await client.post(url, json={"idempotency_key": "k", "answers": {"overall": 1}}, headers=li)
    res = await (await client.get(f"/api/surveys/{sid}/results?by=agent", headers=h)).json()
    assert res["groups"]["wang"][0]["mean"] == 5 and res["groups"]["li"][0]["mean"] == 1
