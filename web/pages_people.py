"""People: users and their roles, agents' softphones, API tokens (admin), the same calls as
/api/users and /api/tokens (rules in outdial/auth.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outdial import auth
from outdial.errors import OutdialError
from outdial.roles import Role
from web import inputs
from web.keys import ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import render

routes = Routes()
ADMINS = {Role.ADMIN}


async def _page(request: web.Request, **extra: Any) -> web.Response:
    engine = request.app[ENGINE]
    users = await run_db(auth.list_users, engine)
    tokens = await run_db(auth.list_tokens, engine, None)
    ctx = {
        "users": users,
        "tokens": tokens,
        # the least powerful role first, and chosen unless the admin picks another
        "roles": [r.value for r in (Role.AGENT, Role.SURVEYOR, Role.QA, Role.MANAGER, Role.ADMIN)],
        "error": "",
        "secret": "",
        "form": {},
        **extra,
    }
    name = "_people.html" if request.headers.get("HX-Request") else "people.html"
    return render(name, request, ctx)


@routes.get("/people", roles=ADMINS)
async def people(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/people/users", roles=ADMINS)
async def add_user(request: web.Request) -> web.Response:
    """Same as POST /api/users."""
    form = await inputs.form_body(request)
    fields = {
        k: str(form.get(k, "")).strip() for k in ("username", "role", "display_name", "sip_uri")
    }
    try:
        await run_db(
            auth.create_user,
            request.app[ENGINE],
            fields["username"],
            str(form.get("password", "")),
            fields["role"],
            display_name=fields["display_name"],
            sip_uri=fields["sip_uri"],
        )
    except OutdialError as err:
        return await _page(request, error=err.message, form=fields)
    return await _page(request)


@routes.post("/people/users/{username}/disable", roles=ADMINS)
async def disable_user(request: web.Request) -> web.Response:
    """Same as POST /api/users/{username}/disable."""
    await run_db(auth.set_disabled, request.app[ENGINE], request.match_info["username"], True)
    return await _page(request)


@routes.post("/people/tokens", roles=ADMINS)
async def create_token(request: web.Request) -> web.Response:
    """Same as POST /api/tokens: a token for yourself, its secret shown once."""
    form = await inputs.form_body(request)
    ident = current_identity(request)
    name = str(form.get("name", "")).strip() or "token"
    _, secret = await run_db(auth.create_token, request.app[ENGINE], ident.username, name[:64])
    return await _page(request, secret=secret)


@routes.post("/people/tokens/{token_id}/revoke", roles=ADMINS)
async def revoke_token(request: web.Request) -> web.Response:
    """Same as DELETE /api/tokens/{id}."""
    try:
        token_id = int(request.match_info["token_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    await run_db(auth.revoke_token, request.app[ENGINE], token_id, None)
    return await _page(request)
