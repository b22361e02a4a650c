"""A campaign's prompts: upload a WAV (checked by campaigns/prompts.py), listen in the
browser, see which one is the safe-harbor message (same calls as /api/prompts)."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from campaigns import prompts
from campaigns import store as campaigns
from campaigns.errors import PromptTooLarge
from outdial.errors import OutdialError
from web import inputs
from web.keys import CONFIG, ENGINE
from web.middleware import run_db
from web.routing import Routes
from web.shell import MANAGERS, render

routes = Routes()


def _cid(request: web.Request) -> int:
    try:
        return int(request.match_info["campaign_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _page(request: web.Request, error: str = "") -> web.Response:
    cid, engine, data_dir = _cid(request), request.app[ENGINE], request.app[CONFIG].data_dir

    def load() -> dict[str, Any]:
        camp = campaigns.get(engine, cid)
        harbor = campaigns.spec_of(engine, camp).safe_harbor_prompt  # a prompt's name
        owner = prompts.resolve_for_listing(engine, "campaign", str(cid), None)
        rows = prompts.list_prompts(data_dir, owner)
        for r in rows:
            r["safe_harbor"] = bool(harbor) and r["name"] == harbor
        return {"campaign": camp, "prompts": rows, "harbor": harbor}

    ctx = {**(await run_db(load)), "error": error, "cid": cid}
    name = "_prompts.html" if request.headers.get("HX-Request") else "prompts.html"
    return render(name, request, ctx)


@routes.get("/campaigns/{campaign_id}/prompts", roles=MANAGERS)
async def prompts_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/campaigns/{campaign_id}/prompts", roles=MANAGERS, body="upload")
async def prompts_upload(request: web.Request) -> web.Response:
    """Same as POST /api/prompts with scope=campaign."""
    cid, engine, cfg = _cid(request), request.app[ENGINE], request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"prompt-{secrets.token_hex(8)}.part"
    name = ""
    try:
        async for part in inputs.multipart_parts(request):  # malformed bodies: a clear 400
            if part.name == "file":
                await inputs.save_part(
                    part, path, cfg.max_upload_bytes, PromptTooLarge, problem="size"
                )
            elif part.name == "name":
                name = await inputs.part_text(part)
        owner = await run_db(prompts.resolve_owner, engine, "campaign", str(cid), None)
        await run_db(prompts.store, cfg.data_dir, owner, name, path)
    except OutdialError as err:
        return await _page(request, error=err.message)
    finally:
        path.unlink(missing_ok=True)
    return await _page(request)


@routes.get("/campaigns/{campaign_id}/prompts/{name}/audio", roles=MANAGERS)
async def prompt_audio(request: web.Request) -> web.StreamResponse:
    """The WAV itself, for the page's audio player."""
    cid, engine, data_dir = _cid(request), request.app[ENGINE], request.app[CONFIG].data_dir
    owner = await run_db(prompts.resolve_for_listing, engine, "campaign", str(cid), None)
    rows = await run_db(prompts.list_prompts, data_dir, owner)
    match = [r for r in rows if r["name"] == request.match_info["name"]]
    if not match:
        raise web.HTTPNotFound()
    resp = web.FileResponse(match[0]["path"], headers={"Content-Type": "audio/wav"})
    resp.headers["Cache-Control"] = "no-store"
    return resp
