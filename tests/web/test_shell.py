"""The console's shell: login page and login CSRF, language choice, error pages, CSP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import consolekit
from sqlalchemy.engine import Engine

from outdial.roles import Role
from web import shell


async def test_login_page_then_board_empty_state(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    first = await client.get("/", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/login?next=/"
    await consolekit.login(client, "mgr")
    home = await client.get("/", headers={"Accept-Language": "en"})
    text = await home.text()
    assert home.status == 200
    assert "No campaigns yet" in text and 'href="/lists/upload"' in text


async def test_wrong_password_is_said_in_words(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    page = await client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    token = page.cookies[shell.LOGIN_CSRF_COOKIE].value
    resp = await client.post(
        "/login",
        data={"login_csrf": token, "username": "mgr", "password": "nope", "next": "/"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert resp.status == 401
    assert "用户名或密码错误" in await resp.text()


async def test_login_without_the_login_cookie_is_refused(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Login CSRF: a cross-site form cannot carry the SameSite=Strict login cookie."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    data = {"login_csrf": "guess", "username": "mgr", "password": consolekit.PASSWORD}
    resp = await client.post("/login", data=data, allow_redirects=False)
    assert resp.status == 403
    assert "outdial_session" not in resp.cookies


async def test_next_never_leaves_the_site(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    assert shell._safe_next("//evil.example/x") == "/"
    assert shell._safe_next("https://evil.example/") == "/"
    assert shell._safe_next("/lists?x=1") == "/lists?x=1"


async def test_csp_and_no_inline_script(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    resp = await client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in await resp.text()  # every script has a src
    assert resp.headers["X-Frame-Options"] == "DENY"


async def test_error_pages_speak_the_users_language(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    await consolekit.login(client, "mgr")
    zh = await client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert zh.status == 404 and "页面不存在" in await zh.text()
    en = await client.get("/no/such/page", headers={"Accept-Language": "en-GB"})
    text = await en.text()
    assert "Not found" in text and "Log out" in text  # still logged in, with the menu
    api = await client.get("/api/no/such")
    assert api.status == 404 and api.content_type == "application/json"


async def test_server_error_page_has_a_reference_and_no_traceback(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    app = consolekit.app_for(sqlite_engine, tmp_path)

    async def boom(request: Any) -> Any:
        raise RuntimeError("secret internals")

    from web.routing import Routes

    extra = Routes()
    extra.get("/boom", public=True)(boom)
    app.add_routes(extra)
    client = await aiohttp_client(app)
    resp = await client.get("/boom", headers={"Accept-Language": "en"})
    text = await resp.text()
    assert resp.status == 500
    assert "secret internals" not in text and "Traceback" not in text
    assert "reference" in text


async def test_language_choice_is_remembered_for_the_user(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    refused = await client.post("/language", data={"lang": "zh_CN"})
    assert refused.status == 403  # logged in: the CSRF header is required
    ok = await client.post("/language", data={"lang": "zh_CN"}, headers={"X-CSRF-Token": csrf})
    assert ok.status == 204
    client.session.cookie_jar.clear_domain("127.0.0.1")  # a new browser: no cookie at all
    await consolekit.login(client, "mgr")
    home = await client.get("/", headers={"Accept-Language": "en"})
    assert "实时监控" in await home.text()  # the saved choice beats Accept-Language


async def test_static_assets_are_cached_and_confined(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    url = shell.static_url("vendor/htmx-2.0.4/htmx.min.js")
    resp = await client.get(url)
    assert resp.status == 200 and "immutable" in resp.headers["Cache-Control"]
    assert (await client.get("/static/../shell.py")).status == 404
    assert (await client.get("/static/%2e%2e/shell.py")).status == 404


async def test_the_icon_is_served_and_linked_from_every_page(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Browsers ask for /favicon.ico on every page: a 404 there was noise in their logs."""
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    icon = await client.get("/favicon.ico")  # public: the login page asks for it too
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert "max-age=604800" in icon.headers["Cache-Control"]
    assert (await icon.text()).startswith("<svg")
    login = await (await client.get("/login")).text()
    linked = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', login)
    assert linked and linked.group(1).startswith("/static/console/favicon.svg?v=")
    versioned = await client.get(linked.group(1))
    assert versioned.status == 200 and "immutable" in versioned.headers["Cache-Control"]


async def test_every_page_form_needs_the_csrf_header(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Each state-changing console route, posted with a valid session but no X-CSRF-Token
    (what a cross-site form would send), is refused before it does anything."""
    from web.routing import access_of

    app = consolekit.app_for(sqlite_engine, tmp_path)
    client = await aiohttp_client(app)
    consolekit.user(sqlite_engine, "admin1", Role.ADMIN)
    await consolekit.login(client, "admin1")
    checked = 0
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        access = access_of(route.handler)
        if route.method in ("GET", "HEAD") or path.startswith("/api/") or access is None:
            continue
        if access.public and path != "/language":
            continue
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        resp = await client.post(url, data={"lang": "en"})
        assert resp.status == 403, (path, resp.status)
        checked += 1
    assert checked >= 10
