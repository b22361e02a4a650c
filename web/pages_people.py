"""People: users and their roles, agents' softphones, API tokens (admin), the same calls as
/api/users and /api/tokens (rules in outdial/auth.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from campaigns import store as campaigns
from outdial import auth
from outdial.errors import InvalidInput, OutdialError
from outdial.roles import Role
from web import inputs
from web.apidoc import ANY_OBJ, INT, Doc, arr, obj
from web.keys import ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import MANAGERS, render

routes = Routes()
ADMINS = {Role.ADMIN}


async def _page(request: web.Request, **extra: Any) -> web.Response:
    engine = request.app[ENGINE]
    users = await run_db(auth.list_users, engine)
    tokens = await run_db(auth.list_tokens, engine, None, False)  # no spent CLI ones
    ctx = {
        "users": users,
        "teams": await run_db(auth.teams, engine),
        **(await run_db(_assignments, engine, users)),
        "tokens": tokens,
        # the least powerful role first, and chosen unless the admin picks another
        "roles": [r.value for r in (Role.AGENT, Role.SURVEYOR, Role.QA, Role.MANAGER, Role.ADMIN)],
        "error": "",
        "team_error": "",
        "team_saved": "",
        "secret": "",
        "form": {},
        "saved": "",
        **extra,
    }
    name = "_people.html" if request.headers.get("HX-Request") else "people.html"
    return render(name, request, ctx)


def _assignments(engine: Any, users: list[Any]) -> dict[str, Any]:
    """Every campaign, and each agent's assigned campaign ids ([]: any campaign)."""
    every = sorted(campaigns.all_campaigns(engine), key=lambda c: c.name)
    assigned = {
        u.id: campaigns.assigned_campaigns(engine, u.id) for u in users if u.role == Role.AGENT
    }
    return {"campaigns": every, "assigned": assigned}


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


@routes.post("/people/users/{username}/team", roles=ADMINS)
async def set_team(request: web.Request) -> web.Response:
    """An agent's team (QA reports group by it); empty takes them out of any team."""
    form = await inputs.form_body(request)
    username = request.match_info["username"]
    try:
        await run_db(auth.set_team, request.app[ENGINE], username, str(form.get("team", "")))
    except OutdialError as err:
        return await _page(request, team_error=err.message)
    return await _page(request, team_saved=username)


@routes.post("/people/users/{username}/campaigns", roles=ADMINS)
async def assign_campaigns(request: web.Request) -> web.Response:
    """Same as POST /api/users/{username}/campaigns: the ticked campaigns (none: any)."""
    form = await inputs.form_body(request)
    ids = [_campaign_id(v) for v in form.getall("campaign", [])]
    await run_db(_assign, request.app[ENGINE], request.match_info["username"], ids)
    return await _page(request, saved=request.match_info["username"])


def _campaign_id(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput("a campaign is a number", field="campaign") from None


def _assign(engine: Any, username: str, ids: list[int]) -> list[int]:
    user = auth.get_user(engine, username)
    if user.role != Role.AGENT or user.id is None:
        raise InvalidInput(f"{username} is not an agent: only agents take campaigns",
                           field="username")  # fmt: skip
    return campaigns.set_agent_campaigns(engine, user.id, ids)


@routes.post(
    "/api/users/{username}/campaigns",
    roles=MANAGERS,
    doc=Doc(
        "Set the campaigns an agent may take (an empty list: any campaign)",
        body=obj(required=["campaign_ids"], campaign_ids=arr(INT)),
        returns=obj(campaign_ids=arr(INT)),
    ),
)
async def api_assign(request: web.Request) -> web.Response:
    body = await inputs.json_body(request)
    ids = body.get("campaign_ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise InvalidInput("campaign_ids must be a list of campaign ids", field="campaign_ids")
    done = await run_db(_assign, request.app[ENGINE], request.match_info["username"], ids)
    return web.json_response({"campaign_ids": done})


@routes.get(
    "/api/users/{username}/campaigns",
    roles=MANAGERS,
    doc=Doc(
        "The campaigns an agent may take (all of them when none is assigned)",
        returns=obj(assigned=arr(INT), campaigns=arr(ANY_OBJ)),
    ),
)
async def api_assigned(request: web.Request) -> web.Response:
    def run() -> dict[str, Any]:
        engine = request.app[ENGINE]
        user = auth.get_user(engine, request.match_info["username"])
        uid = user.id or 0
        return {
            "assigned": campaigns.assigned_campaigns(engine, uid),
            "campaigns": [
                {"id": c.id, "name": c.name} for c in campaigns.campaigns_for_agent(engine, uid)
            ],
        }

    return web.json_response(await run_db(run))


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
