"""Who may call what: the route × role table, default deny, and CSRF.

The generic test walks every route the application serves — routes later
packages add are covered automatically — and checks that each role outside a
route's declaration is refused (403; anonymous 401) and each role inside it
is let through (anything but 401/403).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine

from outdial import auth, config
from outdial.roles import Role
from web.app import create_app
from web.routing import Access, Routes, access_of

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
A, M, G, S = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.SURVEYOR
EVERYONE = frozenset(Role)

# The foundation's routes and who may call them (issue 2). Later packages add rows.
EXPECTED: dict[tuple[str, str], frozenset[Role] | str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("POST", "/api/login"): "public",
    ("POST", "/api/logout"): EVERYONE,
    ("GET", "/api/me"): EVERYONE,
    ("GET", "/api/users"): frozenset({A}),
    ("POST", "/api/users"): frozenset({A}),
    ("POST", "/api/users/{username}/disable"): frozenset({A}),
    ("GET", "/api/tokens"): EVERYONE,
    ("POST", "/api/tokens"): EVERYONE,
    ("DELETE", "/api/tokens/{token_id}"): EVERYONE,
}


def app_routes(app: web.Application) -> list[tuple[str, str, Access]]:
    out = []
    for route in app.router.routes():
        if route.method in {"HEAD", "OPTIONS"} or route.resource is None:
            continue
        access = access_of(route.handler)
        assert access is not None, f"{route.method} {route.resource.canonical} declares no roles"
        out.append((route.method, route.resource.canonical, access))
    return out


def concrete(path: str) -> str:
    """Fill path parameters with ids nothing has, so admitted calls change nothing."""
    return re.sub(r"\{[^}]+\}", "999999", path)


@pytest.fixture
def cfg(tmp_path: Path) -> config.Config:
    return config.load({"OUTDIAL_DATA_DIR": str(tmp_path)})


@pytest.fixture
def tokens(sqlite_engine: Engine) -> dict[Role, str]:
    out = {}
    for role in Role:
        auth.create_user(sqlite_engine, f"u_{role.value}", "password-1", role)
        out[role] = auth.create_token(sqlite_engine, f"u_{role.value}", "t")[1]
    return out


def test_foundation_routes_declare_the_expected_roles(
    cfg: config.Config, sqlite_engine: Engine
) -> None:
    declared = {(m, p): a for m, p, a in app_routes(create_app(cfg, sqlite_engine))}
    for key, want in EXPECTED.items():
        assert key in declared, f"missing route {key}"
        got = declared[key]
        if want == "public":
            assert got.public, key
        else:
            assert not got.public and got.roles == want, (key, got.roles)


async def test_every_route_refuses_every_role_it_does_not_declare(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    app = create_app(cfg, sqlite_engine)
    routes = app_routes(app)
    client = await aiohttp_client(app)
    checked = 0
    for method, path, access in routes:
        if access.public:
            continue
        url = concrete(path)
        page = not path.startswith("/api/")  # console pages answer in HTML (web/shell.py)
        resp = await client.request(method, url, allow_redirects=False)
        if page and method == "GET":  # a page sends the anonymous to the login page
            assert resp.status == 303, (method, path, "anonymous", resp.status)
            assert resp.headers["Location"].startswith("/login?next="), path
        else:
            assert resp.status == 401, (method, path, "anonymous", resp.status)
        for role in Role:
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            resp = await client.request(method, url, headers=headers, json={})
            if role in access.roles:
                assert resp.status not in (401, 403), (method, path, role, await resp.text())
            elif page:
                assert resp.status == 403, (method, path, role, resp.status)
                assert "Not allowed" in await resp.text()
            else:
                assert resp.status == 403, (method, path, role, resp.status)
                assert (await resp.json())["error"] == "forbidden"
            checked += 1
    assert checked >= 4 * 8


async def test_undeclared_handler_is_denied(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    app = create_app(cfg, sqlite_engine)

    async def sneaky(_request: web.Request) -> web.Response:
        return web.json_response({"secret": 42})

    app.router.add_get("/api/sneaky", sneaky)
    client = await aiohttp_client(app)
    resp = await client.get("/api/sneaky", headers={"Authorization": f"Bearer {tokens[A]}"})
    assert resp.status == 403
    assert "declares no roles" in (await resp.json())["message"]


def test_routes_refuse_a_declaration_without_roles() -> None:
    routes = Routes()
    with pytest.raises(ValueError, match="declare roles"):
        routes.get("/x")


async def login(client: TestClient[Any, Any], user: str) -> str:
    resp = await client.post("/api/login", json={"username": user, "password": "password-1"})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["csrf_token"])


async def test_cookie_session_needs_csrf_token_for_changes(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    csrf = await login(client, "u_admin")
    me = await client.get("/api/me")  # safe method: the cookie alone is enough
    assert me.status == 200 and (await me.json())["user"]["role"] == "admin"
    body = {"username": "new1", "password": "password-1", "role": "agent"}
    resp = await client.post("/api/users", json=body)
    assert resp.status == 403 and (await resp.json())["error"] == "csrf_rejected"
    resp = await client.post("/api/users", json=body, headers={"X-CSRF-Token": "wrong"})
    assert resp.status == 403
    resp = await client.post("/api/users", json=body, headers={"X-CSRF-Token": csrf})
    assert resp.status == 201, await resp.text()
    assert auth.get_user(sqlite_engine, "new1").role == "agent"


async def test_bearer_token_needs_no_csrf(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    body = {"username": "new2", "password": "password-1", "role": "surveyor"}
    resp = await client.post(
        "/api/users", json=body, headers={"Authorization": f"Bearer {tokens[A]}"}
    )
    assert resp.status == 201


async def test_login_requires_json_and_logout_ends_session(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    resp = await client.post("/api/login", data={"username": "u_agent", "password": "password-1"})
    assert resp.status == 400
    resp = await client.post("/api/login", json={"username": "u_agent", "password": "nope-nope"})
    assert resp.status == 401
    csrf = await login(client, "u_agent")
    assert (await client.get("/api/me")).status == 200
    resp = await client.post("/api/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status == 200
    assert (await client.get("/api/me")).status == 401


async def test_revoked_token_is_refused_over_http(
    aiohttp_client: ClientFactory,
    cfg: config.Config,
    sqlite_engine: Engine,
    tokens: dict[Role, str],
) -> None:
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    headers = {"Authorization": f"Bearer {tokens[M]}"}
    made = await client.post("/api/tokens", json={"name": "crm"}, headers=headers)
    assert made.status == 201
    new = await made.json()
    other = {"Authorization": f"Bearer {new['secret']}"}
    assert (await client.get("/api/me", headers=other)).status == 200
    # an agent cannot revoke the manager's token; the manager can
    agent = {"Authorization": f"Bearer {tokens[G]}"}
    assert (await client.delete(f"/api/tokens/{new['token']['id']}", headers=agent)).status == 404
    assert (await client.delete(f"/api/tokens/{new['token']['id']}", headers=headers)).status == 200
    assert (await client.get("/api/me", headers=other)).status == 401


async def test_unknown_route_is_404_json(
    aiohttp_client: ClientFactory, cfg: config.Config, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(create_app(cfg, sqlite_engine))
    resp = await client.get("/api/nothing-here")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
