"""Compliance over HTTP: what-if check, preview, DNC capture, audit verify."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dialdata
from sqlalchemy.engine import Engine

from compliance import store
from outdial import auth, config
from outdial.roles import Role
from web.app import create_app


def bearer(engine: Engine, role: Role) -> dict[str, str]:
    auth.create_user(engine, f"u_{role.value}", "password-1", role)
    return {"Authorization": f"Bearer {auth.create_token(engine, f'u_{role.value}', 't')[1]}"}


async def test_check_preview_dnc_and_audit(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    app = create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    client = await aiohttp_client(app)
    manager, agent, admin = (bearer(engine, r) for r in (Role.MANAGER, Role.AGENT, Role.ADMIN))
    resp = await client.get(
        "/api/compliance/check",
        params={"number": "13812345678", "profile": "cn", "at": "2026-11-23T03:00:00Z"},
        headers=manager,
    )
    body = await resp.json()
    assert resp.status == 200 and body["allowed"] is False
    assert [r["rule"] for r in body["reasons"]] == ["rule-26"]  # no consent (CN)
    assert body["local_times"] == {"Asia/Shanghai": "2026-11-23T11:00:00+08:00"}

    resp = await client.post(
        "/api/dnc", json={"number": "13812345678", "reason": "stop"}, headers=agent
    )
    assert resp.status == 201
    assert store.dnc_lookup(engine, ["+8613812345678"])  # effective at once (rule 8)
    listed = await (await client.get("/api/dnc", headers=manager)).json()
    assert [e["number"] for e in listed["entries"]] == ["+8613812345678"]

    dialdata.campaign_with_contacts(engine, "cn-prev", ["+8613812345678", "+8613900000001"])
    store.consent_record(engine, "+8613900000001", "granted", at=datetime(2026, 11, 1, tzinfo=UTC))
    resp = await client.get(
        "/api/compliance/preview",
        params={"campaign": "cn-prev", "at": "2026-11-23T03:00:00Z"},
        headers=manager,
    )
    prev = await resp.json()
    assert (prev["dialable_now"], prev["blocked"]) == (1, 1)
    assert any(k.startswith("rule-8") for k in prev["by_reason"])

    verdict = await (await client.get("/api/audit/verify", headers=admin)).json()
    assert verdict["intact"] and verdict["rows"] >= 2
    bad = await client.get("/api/compliance/check", params={"number": "x"}, headers=manager)
    assert bad.status == 400


async def test_consent_over_http_and_the_preview_names_the_missing_basis(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """Issue 16 item 1: add, import, revoke consent; the preview lists what a record lacks."""
    from aiohttp import FormData

    app = create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    client = await aiohttp_client(app)
    manager, agent = (bearer(engine, r) for r in (Role.MANAGER, Role.AGENT))
    dialdata.campaign_with_contacts(engine, "cn-mkt", ["+8613900000002", "+8613900000003"])
    params = {"campaign": "cn-mkt", "at": "2026-11-23T03:00:00Z"}
    prev = await (
        await client.get("/api/compliance/preview", params=params, headers=manager)
    ).json()
    assert prev["purpose"] == "marketing" and prev["missing_basis_total"] == 2
    assert {m["number"] for m in prev["missing_basis"]} == {"+8613900000002", "+8613900000003"}
    assert "outdial consent add" in prev["missing_basis"][0]["missing"]

    resp = await client.post("/api/consent", json={"number": "13900000002"}, headers=manager)
    assert resp.status == 400 and (await resp.json())["field"] == "evidence"
    body = {"number": "13900000002", "evidence": "web form", "at": "2026-11-01T10:00:00+08:00"}
    resp = await client.post("/api/consent", json=body, headers=manager)
    made = (await resp.json())["consent"]
    assert resp.status == 201 and made["at"] == "2026-11-01T02:00:00+00:00"
    assert (await client.post("/api/consent", json=body, headers=agent)).status == 403
    form = FormData()
    text = "手机号,同意,同意日期\n13900000003,是,2026年11月2日\n"
    form.add_field("file", text.encode(), filename="c.csv")
    got = await (await client.post("/api/consent/import", data=form, headers=manager)).json()
    assert got["granted"] == 1
    prev = await (
        await client.get("/api/compliance/preview", params=params, headers=manager)
    ).json()
    assert (prev["dialable_now"], prev["missing_basis_total"]) == (2, 0)

    resp = await client.post(
        "/api/consent/revoke", json={"number": "13900000003", "reason": "asked"}, headers=agent
    )
    assert resp.status == 201  # an agent captures a revocation on the call (rule 9)
    shown = await (
        await client.get("/api/consent", params={"number": "13900000003"}, headers=manager)
    ).json()
    assert [e["status"] for e in shown["consent"]] == ["granted", "revoked"]
    assert store.dnc_lookup(engine, ["+8613900000003"])


async def test_profile_is_a_name_never_a_path(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 18 finding 7: /api/compliance/check cannot open or probe server files."""
    auth.create_user(sqlite_engine, "boss", "password-1", "manager")
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path)})
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    h = {"Authorization": f"Bearer {auth.create_token(sqlite_engine, 'boss', 't')[1]}"}
    answers = []
    for ref in ("/etc/passwd", "/nonexistent/x.json", "../profiles/us", "us.json"):
        resp = await client.get(
            "/api/compliance/check", params={"number": "+12025550123", "profile": ref}, headers=h
        )
        body = await resp.json()
        assert resp.status == 400 and body["field"] == "profile", body
        answers.append(body["message"])
    assert len(set(answers)) == 1  # existing and missing files answer alike: nothing to probe


async def test_dnc_removal_with_the_number_in_the_body(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 18 finding 11: numbers stay out of URLs (and so out of access logs)."""
    auth.create_user(sqlite_engine, "root", "password-1", "admin")
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path)})
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    h = {"Authorization": f"Bearer {auth.create_token(sqlite_engine, 'root', 't')[1]}"}
    added = await client.post("/api/dnc", json={"number": "+8613912345678"}, headers=h)
    assert added.status == 201
    gone = await client.post("/api/dnc/remove", json={"number": "+8613912345678"}, headers=h)
    assert gone.status == 200 and (await gone.json())["removed"] is True
    again = await client.post("/api/dnc/remove", json={"number": "+8613912345678"}, headers=h)
    assert again.status == 404 and (await again.json())["field"] == "number"
