"""Issue 18 findings 5, 9, 10, 12: what a request may carry; every bad input is a 4xx that
names the field, never a 500; bodies are bounded per route before they are read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy.engine import Engine

from outdial import auth, config
from web.app import create_app

Client = Any


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine) -> Client:
    auth.create_user(sqlite_engine, "boss", "password-1", "manager")
    auth.create_user(sqlite_engine, "wang", "password-1", "agent")
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path), "OUTDIAL_MAX_JSON_KB": "64"})
    return await aiohttp_client(create_app(cfg, sqlite_engine))


def token(engine: Engine, user: str = "boss") -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.create_token(engine, user, 't')[1]}"}


@pytest.mark.parametrize("off_loop", [False, True])
async def test_deep_json_is_a_400_on_every_json_route_login_included(
    client: Client, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, off_loop: bool
) -> None:
    from web import inputs

    if off_loop:  # the same document, parsed on a worker thread as a big one would be
        monkeypatch.setattr(inputs, "OFF_LOOP_BYTES", 1024)
    deep = "[" * 50_000 + "]" * 50_000
    body = '{"username": "boss", "password": ' + deep + "}"
    resp = await client.post("/api/login", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 413  # 100 KB is past the login's 16 KB: refused before parsing
    deep = "[" * 5_000 + "]" * 5_000
    for path in ("/api/campaigns", "/api/dnc", "/api/orders", "/api/surveys"):
        resp = await client.post(
            path,
            data='{"x": ' + deep + "}",
            headers={"Content-Type": "application/json", **token(sqlite_engine)},
        )
        assert resp.status == 400, path
        assert "nested" in (await resp.json())["message"]


async def test_bodies_are_bounded_per_route_before_reading(
    client: Client, sqlite_engine: Engine
) -> None:
    big = b'{"username": "' + b"a" * (20 * 1024) + b'"}'
    resp = await client.post("/api/login", data=big, headers={"Content-Type": "application/json"})
    assert resp.status == 413 and (await resp.json())["error"] == "body_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: cut off while read
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    resp = await client.post(
        "/api/campaigns",
        data=chunks(),
        headers={"Content-Type": "application/json", **token(sqlite_engine)},
    )
    assert resp.status == 413  # past OUTDIAL_MAX_JSON_KB=64


@pytest.mark.parametrize(("text", "problem"), [('"\\ud800x"', "surrogate"), ('"a\\u0000b"', "NUL")])
async def test_unstorable_text_is_a_400_naming_the_field(
    client: Client, sqlite_engine: Engine, text: str, problem: str
) -> None:
    resp = await client.post(
        "/api/dnc",
        data='{"number": "+8613800000001", "reason": ' + text + "}",
        headers={"Content-Type": "application/json", **token(sqlite_engine)},
    )
    body = await resp.json()
    assert resp.status == 400 and body["field"] == "reason" and problem in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/campaigns/1%20OR%201=1",
        f"/api/campaigns/{2**63}",
        "/api/campaigns/99999999999999999999999",
        "/api/lists/-1/contacts",
    ],
)
async def test_bad_ids_are_4xx_naming_the_field(
    client: Client, sqlite_engine: Engine, path: str
) -> None:
    resp = await client.get(path, headers=token(sqlite_engine))
    body = await resp.json()
    assert resp.status == 400 and body["field"] in ("campaign_id", "list_id")


async def test_big_integers_and_nul_in_queries_are_400(
    client: Client, sqlite_engine: Engine
) -> None:
    h = {"Content-Type": "application/json", **token(sqlite_engine, "wang")}
    resp = await client.post(
        "/api/dispositions",
        data='{"campaign_id": ' + str(2**64) + ', "code": "x", "idempotency_key": "k"}',
        headers=h,
    )
    assert resp.status == 400 and (await resp.json())["field"] == "campaign_id"
    resp = await client.get("/api/lists?campaign=a%00b", headers=token(sqlite_engine))
    assert resp.status == 400 and (await resp.json())["field"] == "campaign"


async def test_multipart_without_boundary_and_a_second_file_part(
    client: Client, sqlite_engine: Engine, tmp_path: Path
) -> None:
    h = token(sqlite_engine)
    resp = await client.post(
        "/api/lists", data=b"--x\r\n", headers={"Content-Type": "multipart/form-data", **h}
    )
    assert resp.status == 400
    form = FormData()
    form.add_field("campaign", "c")
    form.add_field("file", b"phone\n13800138000\n", filename="a.csv")
    form.add_field("file", b"phone\n13800138001\n", filename="b.csv")
    resp = await client.post("/api/lists", data=form, headers=h)
    assert resp.status == 400 and (await resp.json())["field"] == "file"
    assert list((tmp_path / "uploads").glob("*")) == []  # no orphan upload


async def test_security_headers_and_no_server_banner(client: Client) -> None:
    resp = await client.get("/healthz")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "aiohttp" not in resp.headers.get("Server", "") and "Python" not in resp.headers.get(
        "Server", ""
    )
    assert "Strict-Transport-Security" not in resp.headers  # only with secure cookies


async def test_hsts_with_secure_cookies(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path), "OUTDIAL_SECURE_COOKIES": "true"})
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    resp = await client.get("/healthz")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_login_is_throttled_and_a_disabled_account_not_confirmed(
    client: Client, sqlite_engine: Engine
) -> None:
    """Issue 18 findings 6, 12: 25 wrong passwords, then the right one is refused (429)."""
    auth.set_disabled(sqlite_engine, "wang")
    resp = await client.post("/api/login", json={"username": "wang", "password": "password-1"})
    assert resp.status == 401 and "disabled" not in (await resp.json())["message"]
    wrong = {"username": "boss", "password": "guess-000"}
    statuses = [(await client.post("/api/login", json=wrong)).status for _ in range(25)]
    assert statuses[0] == 401 and 429 in statuses
    right = await client.post("/api/login", json={"username": "boss", "password": "password-1"})
    assert right.status == 429 and int(right.headers["Retry-After"]) > 0


async def test_a_trickled_body_is_cut_off(
    client: Client, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 finding 12: a client cannot hold a handler by sending a body very slowly."""
    from web import inputs

    monkeypatch.setattr(inputs, "BODY_READ_TIMEOUT_S", 0.2)

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"name": '
        await asyncio.sleep(5)
        yield b'"x"}'

    resp = await client.post(
        "/api/campaigns",
        data=trickle(),
        headers={"Content-Type": "application/json", **token(sqlite_engine)},
    )
    assert resp.status == 408 and (await resp.json())["error"] == "body_too_slow"
