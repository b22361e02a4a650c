"""The two middlewares every request passes: errors as JSON, then who-may-do-what."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy.exc import DataError

from outdial import auth
from outdial.errors import (
    AuthError,
    Conflict,
    DatabaseNotMigrated,
    DatabaseUnreachable,
    Forbidden,
    InvalidInput,
    NotFound,
    OutdialError,
    RemoteError,
)
from web import inputs
from web.errors import CsrfRejected, RouteWithoutRoles
from web.keys import CONFIG, ENGINE, IDENTITY
from web.routing import access_of

log = structlog.get_logger(__name__)
SESSION_COOKIE = "outdial_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_STATUS: list[tuple[type[OutdialError], int]] = [
    (AuthError, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (DatabaseNotMigrated, 503),
    (DatabaseUnreachable, 503),
    (InvalidInput, 400),
    (RemoteError, 400),
]

NextHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_for(err: OutdialError) -> int:
    status = getattr(err, "http_status", None)
    if isinstance(status, int):
        return status
    for kind, code in _STATUS:
        if isinstance(err, kind):
            return code
    return 400


@web.middleware
async def error_middleware(request: web.Request, handler: NextHandler) -> web.StreamResponse:
    """Turn every error into a one-line JSON answer; log unexpected ones with a reference."""
    try:
        return await handler(request)
    except OutdialError as err:
        status = status_for(err)
        retry = err.fields.get("retry_after")
        extra = {"Retry-After": str(retry)} if status == 429 and retry is not None else None
        return web.json_response(err.as_dict(), status=status, headers=extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(
            {"error": exc.reason.lower().replace(" ", "_"), "message": exc.text or exc.reason},
            status=exc.status,
            headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
        )
    except asyncio.CancelledError:
        raise
    except DataError:  # a value the database cannot hold that a check upstream missed
        log.warning("value refused by the database", path=request.path, method=request.method)
        return web.json_response(
            {"error": "invalid_input", "message": "a value is malformed or out of range"},
            status=400,
        )
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("unhandled error", path=request.path, method=request.method, ref=ref)
        return web.json_response(
            {"error": "internal", "message": f"internal error (reference {ref} in the server log)"},
            status=500,
        )


@web.middleware
async def limits_middleware(request: web.Request, handler: NextHandler) -> web.StreamResponse:
    """Bound what one request may cost before anything reads it (web/inputs.py)."""
    match = request.match_info
    if match.http_exception is not None:
        return await handler(request)
    access = access_of(match.handler)
    kind = access.body if access is not None else "small"
    cfg = request.app[CONFIG]
    limit = inputs.limit_for(kind, request, cfg.max_json_bytes, cfg.max_upload_bytes)
    inputs.refuse_oversized(request, limit, upload=kind == "upload")
    inputs.check_request_line(request)
    request[inputs.BODY_LIMIT] = limit
    return await handler(request)


async def identify(request: web.Request) -> auth.Identity | None:
    """Resolve the caller from a bearer token or the session cookie; None if anonymous."""
    engine = request.app[ENGINE]
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthError("Authorization must be 'Bearer <token>'")
        ident: auth.Identity | None = await run_db(auth.resolve_token, engine, secret.strip())
        if ident is None:
            raise AuthError("unknown or revoked API token")
        return ident
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session: auth.Identity | None = await run_db(auth.resolve_session, engine, cookie)
        return session
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: NextHandler) -> web.StreamResponse:
    """Default deny: a handler must declare its roles (web/routing.py) to be reachable."""
    match = request.match_info
    if match.http_exception is not None:  # no such route / method: let aiohttp answer
        return await handler(request)
    access = access_of(match.handler)
    if access is None:
        raise RouteWithoutRoles("this route declares no roles; access denied", path=request.path)
    ident = await identify(request)
    request[IDENTITY] = ident
    if access.public:
        return await handler(request)
    if ident is None:
        raise AuthError("log in first (session cookie or Authorization: Bearer token)")
    if not access.admits(ident.role):
        where = match.route.resource.canonical if match.route.resource else request.path
        raise Forbidden(f"role {ident.role.value!r} may not {request.method} {where}")
    if ident.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not ident.csrf_token or not hmac.compare_digest(sent, ident.csrf_token):
            raise CsrfRejected(f"missing or wrong {CSRF_HEADER} header")
    return await handler(request)


async def run_db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking storage call off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: fn(*args, **kwargs))


def current_identity(request: web.Request) -> auth.Identity:
    ident = request.get(IDENTITY)
    if not isinstance(ident, auth.Identity):
        raise AuthError("log in first")
    return ident


__all__ = ["CONFIG", "ENGINE", "auth_middleware", "error_middleware", "limits_middleware", "run_db"]
