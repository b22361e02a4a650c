"""Prompt WAVs over HTTP (issue 7): upload (checked), list, delete.

Rules live in campaigns/prompts.py: this module streams the upload to a temporary file under
``<data_dir>/uploads`` with the ``max_upload_mb`` cap (413 past it), then hands it over.
Managers and admins handle every prompt; surveyors only survey prompts.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from campaigns import prompts
from campaigns.errors import PromptTooLarge
from outdial.errors import Forbidden, InvalidInput
from outdial.roles import Role
from web import inputs
from web.apidoc import ANY_OBJ, FILE, STR, Doc, arr, desc, enum, obj
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

routes = Routes()
PROMPT_ROLES = {Role.ADMIN, Role.MANAGER, Role.SURVEYOR}
_FIELDS = {"scope", "owner", "name", "lang"}


def _may(request: web.Request, scope: str) -> None:
    """Surveyors design surveys; campaign prompts (the safe-harbor message) are managers'."""
    if scope == "campaign" and current_identity(request).role is Role.SURVEYOR:
        raise Forbidden("surveyors may manage survey prompts only", scope=scope)


@routes.post(
    "/api/prompts",
    roles=PROMPT_ROLES,
    body="upload",
    doc=Doc(
        "Upload a prompt (WAV) by name",
        form=obj(
            required=["file", "scope", "owner", "name"],
            file=FILE,
            scope=enum("campaign", "survey"),
            owner=desc(STR, "id or name"),
            name=STR,
            lang=enum("zh", "en"),
        ),
        returns=obj(prompt=ANY_OBJ),
        status=201,
    ),
)
async def upload(request: web.Request) -> web.Response:
    """multipart/form-data: ``file`` plus scope (campaign|survey), owner (id or name), name,
    and lang (zh|en, survey prompts only). 201 with the stored prompt."""
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fields: dict[str, str] = {}
    path: Path | None = None
    try:
        async for part in inputs.multipart_parts(request):
            if part.name == "file":
                if path is not None:
                    raise InvalidInput("send exactly one 'file' part", field="file")
                path = folder / f"prompt-{secrets.token_hex(8)}.part"
                await inputs.save_part(
                    part, path, cfg.max_upload_bytes, PromptTooLarge, problem="size"
                )
            elif part.name in _FIELDS:
                fields[part.name] = await inputs.part_text(part)
        if path is None:
            raise InvalidInput("the upload has no 'file' part", field="file")
        for key in ("scope", "owner", "name"):
            if not fields.get(key):
                raise InvalidInput(f"field {key!r} is required", field=key)
        _may(request, fields["scope"])
        owner = await run_db(
            prompts.resolve_owner, engine, fields["scope"], fields["owner"], fields.get("lang")
        )
        stored = await run_db(prompts.store, cfg.data_dir, owner, fields["name"], path)
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    return web.json_response({"prompt": _public(stored, cfg.data_dir)}, status=201)


def _public(prompt: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Paths relative to the data directory: answers never show where the server keeps it."""
    return {**prompt, "path": _relative(str(prompt.get("path", "")), data_dir)}


def _relative(path: str, data_dir: Path) -> str:
    try:
        return Path(path).resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _owner_query(request: web.Request) -> tuple[str, str, str | None]:
    scope, owner = request.query.get("scope", ""), request.query.get("owner", "")
    if not scope or not owner:
        raise InvalidInput("give scope (campaign|survey) and owner (id or name)")
    _may(request, scope)
    return scope, owner, request.query.get("lang") or None


@routes.get(
    "/api/prompts",
    roles=PROMPT_ROLES,
    doc=Doc(
        "A campaign's or survey's prompts",
        query={"scope": "campaign or survey", "owner": "id or name", "lang": "zh or en"},
        returns=obj(prompts=arr(ANY_OBJ)),
    ),
)
async def prompts_list(request: web.Request) -> web.Response:
    """``?scope=campaign|survey&owner=<id or name>[&lang=zh|en]``."""
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    scope, ref, lang = _owner_query(request)

    def rows() -> list[dict[str, Any]]:
        owner = prompts.resolve_for_listing(engine, scope, ref, lang)
        return prompts.list_prompts(cfg.data_dir, owner)

    return web.json_response({"prompts": [_public(p, cfg.data_dir) for p in await run_db(rows)]})


@routes.delete(
    "/api/prompts/{scope}/{owner}/{name}",
    roles=PROMPT_ROLES,
    doc=Doc("Delete a prompt", query={"lang": "one language only"}, returns=obj(removed=arr(STR))),
)
async def prompts_delete(request: web.Request) -> web.Response:
    """A survey prompt in one language with ``?lang=``, in every language without."""
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    scope, ref, name = (request.match_info[k] for k in ("scope", "owner", "name"))
    _may(request, scope)
    lang = request.query.get("lang") or None

    def delete() -> list[str]:
        owner = prompts.resolve_for_listing(engine, scope, ref, lang)
        return prompts.remove(cfg.data_dir, owner, name)

    removed = [_relative(p, cfg.data_dir) for p in await run_db(delete)]
    return web.json_response({"removed": removed})
