"""The campaign editor: a form over the campaign definition, and the same TOML file the CLI
loads (``outdial campaigns load``) to download and upload.

The form covers the definition's plain settings and its weekly schedule; every other part
(retry rules, dispositions, and sections added later, such as dialing settings) is edited
as TOML in "More settings", so a new definition field needs no change here. Validation is
``campaigns.rules.parse_campaign``'s; its problems are shown next to their fields.
"""

from __future__ import annotations

import contextlib
import tomllib
from typing import Any

from aiohttp import web

from campaigns import files, rules, store, toml_text
from campaigns.errors import CampaignInvalid
from lists import browse
from outdial.errors import Conflict, InvalidInput, NotFound, OutdialError
from web import campaign_words, inputs
from web.apidoc import ANY_OBJ, Doc, obj
from web.i18n import Lang
from web.keys import CONFIG, ENGINE
from web.middleware import run_db
from web.routing import Routes
from web.shell import MANAGERS, lang_of, render

routes = Routes()
TEXT = (
    "name", "kind", "mode", "region", "timezone", "caller_id", "active_from", "active_until",
    "callback_hours", "survey", "webhook_url", "safe_harbor_prompt", "script",
)  # fmt: skip
NUMBERS = ("callback_team_delay_minutes", "return_visit_delay_days")
FORM = (*TEXT, *NUMBERS, "schedule")
MAX_FILE = 1024 * 1024


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None


def split(definition: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(what the form shows, the rest as TOML for "More settings")."""
    form = {k: v for k, v in definition.items() if k in FORM}
    rest = {k: v for k, v in definition.items() if k not in FORM}
    return form, toml_text.dumps(rest) if rest else ""


def from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition a submitted form describes, and problems found before validation."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in TEXT}
    data["script"] = str(form.get("script", ""))
    for k in NUMBERS:
        raw = str(form.get(k, "")).strip()
        if raw:
            data[k] = int(raw) if raw.lstrip("-").isdigit() else raw
    data["schedule"] = {
        d: [s.strip() for s in str(form.get(f"schedule_{d}", "")).split(",") if s.strip()]
        for d in rules.DAYS
    }
    more = str(form.get("more", ""))
    try:
        extra = tomllib.loads(more)
    except tomllib.TOMLDecodeError as exc:
        errors["more"] = str(exc)
        extra = {}
    data.update({k: v for k, v in extra.items() if k not in FORM})
    return {k: v for k, v in data.items() if v != "" or k == "script"}, errors


def field_errors(err: OutdialError, lang: Lang) -> dict[str, str]:
    """Validation problems by form field ("schedule.mon" goes next to Monday, unknown
    fields to "More settings"), in ``lang``."""
    out: dict[str, str] = {}
    problems = err.fields.get("problems")
    items: list[Any] = problems if isinstance(problems, list) else []
    if not items:
        items = [{"field": str(err.fields.get("field", "")), "message": err.message}]
    for p in items:
        field = str(p.get("field") or "")
        top = field.split(".")[0].split("[")[0]
        if top == "schedule" and "." in field:
            key = f"schedule_{field.split('.')[1]}"
        elif top in FORM:
            key = top
        else:
            key = "more"
        said = campaign_words.say(str(p["message"]), lang)
        out[key] = f"{out[key]}; {said}" if key in out else said
    return out


def _context(
    request: web.Request, data: dict[str, Any], more: str, cid: int | None, errors: dict[str, str]
) -> dict[str, Any]:
    owned = request.app[CONFIG].owned_numbers
    return {
        "d": data,
        "more": more,
        "cid": cid,
        "errors": errors,
        "days": rules.DAYS,
        "kinds": [k.value for k in rules.Kind],
        "modes": [m.value for m in rules.Mode],
        "owned": owned,
        "saved": request.query.get("saved"),
    }


@routes.get("/campaigns/new", roles=MANAGERS)
async def new_page(request: web.Request) -> web.Response:
    base = rules.spec_to_dict(rules.CampaignSpec(name=""))
    # a blank spec's purpose is the generic kind's (marketing): left in "More settings" it
    # would pin a 回访 or 核单 campaign made here to marketing, whose records all need consent
    # (rule 26). Left out, the kind picked in the form gives it (rules.default_purpose).
    base.pop("purpose", None)
    form, more = split(base)
    return render("editor.html", request, _context(request, form, more, None, {}))


@routes.get("/campaigns/{campaign_id}/edit", roles=MANAGERS)
async def edit_page(request: web.Request) -> web.Response:
    cid, engine = _int(request, "campaign_id"), request.app[ENGINE]
    data = await run_db(lambda: store.campaign_json(engine, store.get(engine, cid)))
    form, more = split(data["definition"])
    ctx = _context(request, form, more, cid, {})
    ctx["version"] = data["version"]
    return render("editor.html", request, ctx)


async def _save(request: web.Request, cid: int | None) -> web.Response:
    form = await inputs.form_body(request)
    data, errors = from_form(form)
    engine = request.app[ENGINE]
    if cid is not None:  # a campaign is known by its name: the editor does not rename
        current = await run_db(store.get, engine, cid)
        data["name"] = current.name
    taken = lang_of(request).gettext(
        "A campaign named %(name)s already exists: choose another name, or edit that one "
        "from the floor board."
    )
    if not errors:
        try:
            spec = files.definition(data)

            def save() -> int:
                if cid is None:
                    with contextlib.suppress(NotFound):
                        store.by_name(engine, spec.name)
                        raise Conflict(taken % {"name": spec.name}, field="name")
                row, _ = store.save_spec(engine, spec)
                store.ensure_webhook_secret(engine, row.id or 0)  # rotate it to see it
                return row.id or 0

            saved = await run_db(save)
            return web.Response(
                status=204, headers={"HX-Redirect": f"/campaigns/{saved}/edit?saved=1"}
            )
        except (CampaignInvalid, Conflict, InvalidInput) as err:
            errors = field_errors(err, lang_of(request))
    shown: dict[str, Any] = {k: str(form.get(k, "")) for k in (*TEXT, *NUMBERS)}
    shown["name"], shown["schedule"] = data.get("name", ""), data["schedule"]
    ctx = _context(request, shown, str(form.get("more", "")), cid, errors)
    return render("_editor_form.html", request, ctx)


@routes.post("/campaigns/new", roles=MANAGERS)
async def create(request: web.Request) -> web.Response:
    return await _save(request, None)


@routes.post("/campaigns/{campaign_id}/edit", roles=MANAGERS)
async def update(request: web.Request) -> web.Response:
    return await _save(request, _int(request, "campaign_id"))


@routes.post("/campaigns/script-preview", roles=MANAGERS)
async def script_preview(request: web.Request) -> web.Response:
    """The script filled from the campaign's first contact (or an example record)."""
    form = await inputs.form_body(request)
    template = str(form.get("script", ""))
    cid = str(form.get("campaign_id", ""))
    record = None
    if cid.isdigit():
        record = await run_db(browse.sample_record, request.app[ENGINE], int(cid))
    example = record is None
    record = record or {"name": "张三", "order_id": "A1001", "address": "北京市海淀区"}
    fields = rules.template_fields(template)
    text, missing = rules.render_script(template, record) if fields is not None else ("", [])
    ctx = {"text": text, "missing": missing, "fields": sorted(record), "example": example,
           "broken": fields is None}  # fmt: skip
    return render("_script_preview.html", request, ctx)


@routes.get(
    "/api/campaigns/{campaign_id}/definition.toml",
    roles=MANAGERS,
    doc=Doc(
        "The campaign's definition as the TOML file `outdial campaigns load` reads",
        content_type="application/toml",
    ),
)
async def download(request: web.Request) -> web.Response:
    """The campaign's definition as the file ``outdial campaigns load`` reads."""
    cid, engine = _int(request, "campaign_id"), request.app[ENGINE]
    data = await run_db(lambda: store.campaign_json(engine, store.get(engine, cid)))
    return web.Response(
        text=toml_text.dumps(data["definition"]),
        content_type="application/toml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{cid}.toml"'},
    )


async def _load_text(text: str, suffix: str, engine: Any) -> dict[str, Any]:
    data = files.parse_text(text, suffix)
    spec = files.definition(data)
    row, version = await run_db(store.save_spec, engine, spec)
    secret = await run_db(store.ensure_webhook_secret, engine, row.id or 0)
    out: dict[str, Any] = {"id": row.id, "name": row.name, "version": version}
    if secret is not None:  # generated now: shown this once (issue 18, finding 1)
        out["webhook_secret"] = secret
    return out


@routes.post(
    "/api/campaigns/load",
    roles=MANAGERS,
    doc=Doc(
        "Create or update a campaign from its definition file (TOML body, or JSON)",
        body=ANY_OBJ,
        returns=obj(campaign=ANY_OBJ),
    ),
)
async def api_load(request: web.Request) -> web.Response:
    """Body: a campaign file (TOML, or JSON with Content-Type application/json); creates or
    updates the campaign of that name, as ``outdial campaigns load FILE`` does."""
    suffix = ".json" if request.content_type == "application/json" else ".toml"
    text = await inputs.text_body(request)
    return web.json_response({"campaign": await _load_text(text, suffix, request.app[ENGINE])})


@routes.post("/campaigns/upload", roles=MANAGERS, body="upload")
async def upload(request: web.Request) -> web.Response:
    """The editor's "upload a campaign file": the same as ``POST /api/campaigns/load``."""
    text, suffix = "", ".toml"
    async for part in inputs.multipart_parts(request):  # malformed bodies: a clear 400
        if part.name == "file":
            suffix = "." + (part.filename or "x.toml").rsplit(".", 1)[-1].lower()
            raw = bytearray()
            while chunk := await inputs.read_chunk(part):
                raw += chunk
                if len(raw) > MAX_FILE:
                    raise InvalidInput("a campaign file is at most 1 MB", field="file")
            text = bytes(raw).decode("utf-8", errors="replace")
    try:
        saved = await _load_text(text, suffix, request.app[ENGINE])
    except OutdialError as err:
        problems = field_errors(err, lang_of(request))
        return render("_upload_problem.html", request, {"message": "; ".join(
            f"{k}: {v}" for k, v in problems.items())})  # fmt: skip
    return web.Response(
        status=204, headers={"HX-Redirect": f"/campaigns/{saved['id']}/edit?saved=1"}
    )
