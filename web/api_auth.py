"""Login, logout, users and API tokens over HTTP. Rules live in outdial/auth.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outdial import auth
from outdial.errors import AuthError, InvalidInput
from outdial.models import ApiToken, User
from outdial.roles import Role
from outdial.throttle import LoginThrottle
from web.apidoc import ANY_OBJ, BOOL, STR, Doc, arr, desc, enum, obj, ref
from web.inputs import json_body
from web.keys import CONFIG, ENGINE
from web.middleware import SESSION_COOKIE, current_identity, run_db
from web.routing import ANY_USER, Routes

routes = Routes()
ROLE_NAMES = [r.value for r in Role]
THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def setup(app: web.Application) -> None:
    app[THROTTLE] = LoginThrottle()


def _field(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or (default is None and not value):
        raise InvalidInput(f"field {name!r} is required and must be a string", field=name)
    return value


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "sip_uri": user.sip_uri,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def token_json(token: ApiToken, username: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "revoked": token.revoked_at is not None,
    }
    if username is not None:
        out["username"] = username
    return out


@routes.post(
    "/api/login",
    public=True,
    body="small",
    doc=Doc(
        "Log in; sets the session cookie and returns the CSRF token",
        body=obj(required=["username", "password"], username=STR, password=STR),
        returns=obj(user=ref("User"), csrf_token=STR),
    ),
)
async def login(request: web.Request) -> web.Response:
    """JSON only: a cross-site HTML form cannot send application/json, so no login CSRF."""
    body = await json_body(request)
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    username, password = _field(body, "username"), _field(body, "password")
    throttle, address = request.app[THROTTLE], request.remote or "unknown"
    throttle.check(username, address)
    try:
        user = await run_db(auth.authenticate, engine, username, password)
    except AuthError:
        throttle.failed(username, address)
        raise
    throttle.succeeded(username, address)
    secret, csrf = await run_db(auth.create_session, engine, user, cfg.session_hours)
    resp = web.json_response({"user": user_json(user), "csrf_token": csrf})
    resp.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="Strict",
        secure=cfg.secure_cookies,
        max_age=int(cfg.session_hours * 3600),
        path="/",
    )
    return resp


@routes.post(
    "/api/logout", roles=ANY_USER, body="small", doc=Doc("End this session", returns=obj(ok=BOOL))
)
async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_db(auth.end_session, request.app[ENGINE], cookie)
    resp = web.json_response({"ok": True})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


@routes.get(
    "/api/me",
    roles=ANY_USER,
    doc=Doc(
        "Who is asking, how, and the session's CSRF token",
        returns=obj(user=ref("User"), via=STR, csrf_token=STR),
    ),
)
async def me(request: web.Request) -> web.Response:
    ident = current_identity(request)
    user = await run_db(auth.get_user, request.app[ENGINE], ident.username)
    return web.json_response(
        {"user": user_json(user), "via": ident.via, "csrf_token": ident.csrf_token}
    )


@routes.get(
    "/api/users", roles={Role.ADMIN}, doc=Doc("List users", returns=obj(users=arr(ref("User"))))
)
async def users_list(request: web.Request) -> web.Response:
    users = await run_db(auth.list_users, request.app[ENGINE])
    return web.json_response({"users": [user_json(u) for u in users]})


@routes.post(
    "/api/users",
    roles={Role.ADMIN},
    doc=Doc(
        "Create a user",
        body=obj(
            required=["username", "password", "role"],
            username=STR,
            password=STR,
            role=enum(*ROLE_NAMES),
            display_name=STR,
            sip_uri=desc(STR, "an agent's softphone, sip:1001@10.0.0.5"),
        ),
        returns=obj(user=ref("User")),
        status=201,
    ),
)
async def users_add(request: web.Request) -> web.Response:
    body = await json_body(request)
    user = await run_db(
        auth.create_user,
        request.app[ENGINE],
        _field(body, "username"),
        _field(body, "password"),
        _field(body, "role"),
        display_name=_field(body, "display_name", ""),
        sip_uri=_field(body, "sip_uri", ""),
    )
    return web.json_response({"user": user_json(user)}, status=201)


@routes.post(
    "/api/users/{username}/disable",
    roles={Role.ADMIN},
    doc=Doc("Disable a user; their sessions end at once", returns=obj(user=ref("User"))),
)
async def users_disable(request: web.Request) -> web.Response:
    user = await run_db(
        auth.set_disabled, request.app[ENGINE], request.match_info["username"], True
    )
    return web.json_response({"user": user_json(user)})


@routes.get(
    "/api/tokens",
    roles=ANY_USER,
    doc=Doc("API tokens: all for admins, one's own otherwise", returns=obj(tokens=arr(ANY_OBJ))),
)
async def tokens_list(request: web.Request) -> web.Response:
    """Admins see every token; everyone else their own."""
    ident = current_identity(request)
    owner = None if ident.role is Role.ADMIN else ident.user_id
    rows = await run_db(auth.list_tokens, request.app[ENGINE], owner)
    return web.json_response({"tokens": [token_json(t, u) for t, u in rows]})


@routes.post(
    "/api/tokens",
    roles=ANY_USER,
    doc=Doc(
        "Create an API token for yourself; the secret is shown once",
        body=obj(name=STR),
        returns=obj(token=ANY_OBJ, secret=STR),
        status=201,
    ),
)
async def tokens_create(request: web.Request) -> web.Response:
    """Create a token for yourself; the secret is in this answer only."""
    ident = current_identity(request)
    body = await json_body(request)
    token, secret = await run_db(
        auth.create_token, request.app[ENGINE], ident.username, _field(body, "name", "token")
    )
    return web.json_response({"token": token_json(token), "secret": secret}, status=201)


@routes.delete(
    "/api/tokens/{token_id}", roles=ANY_USER, doc=Doc("Revoke a token", returns=obj(token=ANY_OBJ))
)
async def tokens_revoke(request: web.Request) -> web.Response:
    ident = current_identity(request)
    try:
        token_id = int(request.match_info["token_id"])
    except ValueError as exc:
        raise InvalidInput("token id must be a number") from exc
    owner = None if ident.role is Role.ADMIN else ident.user_id
    token = await run_db(auth.revoke_token, request.app[ENGINE], token_id, owner)
    return web.json_response({"token": token_json(token)})
