"""The OpenAPI 3.1 description of the running application (issue 16.9).

``GET /api/openapi.json`` is built from the application's own route table: every route, with
the roles it admits (web/routing.py) and what it declares about itself (``doc=``,
web/apidoc.py). ``GET /api/docs`` renders the same document as one HTML page, on the server,
with no script or CDN. A route without a declaration appears with a note saying so, and
tests/web/test_openapi.py fails on it.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from aiohttp import web

from campaigns import surveys
from campaigns.schema import campaign_schema
from outdial import __version__
from web.apidoc import ANY_OBJ, BOOL, INT, STR, TIME, Doc, Schema, arr, desc, doc_of, obj, ref
from web.routing import Routes, access_of
from web.ws_schema import AGENT_STATUS, MESSAGES, agent_message_schema

routes = Routes()
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ERROR: Schema = obj(
    required=["error", "message"],
    error=STR,
    message=STR,
    field={"type": "string", "description": "the field at fault, when one is"},
    problems={"type": "array", "description": "every problem, for definitions and uploads"},
)


def _survey_schema() -> Schema:
    question = obj(
        required=["id", "kind", "zh", "en"],
        id={"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        kind={"enum": [k.value for k in surveys.QuestionKind]},
        zh=STR,
        en=STR,
        low=desc(INT, "scale: 1-5 or 0-10"),
        high=INT,
        choices=desc(arr(ANY_OBJ), "choice: 2-9 of {zh, en}"),
    )
    seed = surveys.survey_to_dict(surveys.SEED_TEMPLATE)
    return obj(
        required=["name", "questions"],
        name=STR,
        title_zh=STR,
        title_en=STR,
        opt_out_key=desc(STR, "0-9 or *"),
        repeats=desc(INT, "0-5"),
        key_timeout_s=INT,
        inter_digit_s=INT,
        record_seconds=INT,
        questions={**arr(question), "minItems": 1, "examples": [seed["questions"]]},
    )


def components() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": ERROR,
        "CampaignDefinition": {k: v for k, v in campaign_schema().items() if k != "$schema"},
        "AgentStatus": AGENT_STATUS,
        "SurveyDefinition": _survey_schema(),
        "User": obj(
            required=["id", "username", "role"],
            id=INT,
            username=STR,
            role=STR,
            display_name=STR,
            sip_uri=STR,
            disabled=BOOL,
            created_at=TIME,
        ),
        "Campaign": obj(
            required=["id", "name", "kind", "mode", "status", "definition"],
            id=INT,
            name=STR,
            kind=STR,
            mode=STR,
            status=STR,
            region=STR,
            created_at=TIME,
            version=INT,
            webhook_secret_set=BOOL,
            definition=ref("CampaignDefinition"),
        ),
        "AgentWsMessage": agent_message_schema(),
    }
    schemas.update({f"ws.{k}": v for k, v in MESSAGES.items()})
    return {
        "schemas": schemas,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "od_... API token"},
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "outdial_session",
                "description": "from POST /api/login; state changes also need X-CSRF-Token",
            },
        },
    }


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    access, doc = access_of(handler), doc_of(handler)
    d = doc or Doc("(not described)", description="this route declares no doc= yet")
    who = (
        "public"
        if access is None or access.public
        else ", ".join(sorted(r.value for r in access.roles))
    )
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "summary": d.summary,
        "description": (d.description + "\n\n" if d.description else "") + f"Roles: {who}.",
        "tags": [_tag(path)],
        "x-roles": [] if access is None or access.public else sorted(r.value for r in access.roles),
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": STR} for p in _PARAM.findall(path)
        ]
        + [
            {"name": q, "in": "query", "required": False, "description": text, "schema": STR}
            for q, text in d.query.items()
        ],
        "responses": {
            str(d.status): {
                "description": "success",
                "content": {d.content_type: {"schema": d.returns or ANY_OBJ}},
            },
            "default": {
                "description": "an error: 400 invalid, 401, 403, 404, 409",
                "content": {"application/json": {"schema": ref("Error")}},
            },
        },
    }
    if access is not None and access.public:
        op["security"] = []
    if d.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": d.body}},
        }
    elif d.form is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": d.form}},
        }
    return op


_TAGS = {
    "login": "auth",
    "logout": "auth",
    "me": "auth",
    "users": "auth",
    "tokens": "auth",
    "openapi.json": "api",
    "docs": "api",
    "schemas": "api",
    "dispositions": "campaigns",
    "return-visits": "orders",
    "audit": "compliance",
    "dnc": "compliance",
}


def _tag(path: str) -> str:
    """Group operations for the page: by the path's first segment, auth and API together."""
    if not path.startswith("/api/"):
        return "health"
    first = path.split("/")[2]
    return _TAGS.get(first, first)


#: the JSON API's routes outside /api/ (the console's HTML pages and static files are not API)
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def is_api(path: str) -> bool:
    """Is ``path`` part of the JSON API the description covers (not a console page)?"""
    return path.startswith("/api/") or path in HEALTH_PATHS


def describe(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s API routes (console pages are not API)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        if route.method not in METHODS or route.resource is None:
            continue
        path = route.resource.canonical
        if not is_api(path):
            continue
        paths.setdefault(path, {})[route.method.lower()] = _operation(
            route.method, path, route.handler
        )
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "outdial",
            "version": __version__,
            "description": "Outbound dialer and callback campaign engine. Errors are JSON "
            "{error, message, field?}. The agent's WebSocket (GET /api/agent/ws) carries "
            "the messages in components.schemas.AgentWsMessage.",
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": components(),
    }


@routes.get(
    "/api/openapi.json",
    public=True,
    doc=Doc("This description (OpenAPI 3.1)", returns={"type": "object"}),
)
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(describe(request.app))


@routes.get(
    "/api/docs",
    public=True,
    doc=Doc("This description as one HTML page", content_type="text/html", returns=STR),
)
async def openapi_page(request: web.Request) -> web.Response:
    return web.Response(text=render_html(describe(request.app)), content_type="text/html")


@routes.get(
    "/api/schemas/campaign.json",
    public=True,
    doc=Doc("The JSON Schema of a campaign definition", returns={"type": "object"}),
)
async def campaign_schema_json(request: web.Request) -> web.Response:
    return web.json_response(campaign_schema())


# --- the HTML page ----------------------------------------------------------------------------

_CSS = """body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}h3{margin:1.5rem 0 .3rem}
code,pre{background:#f5f5f5;font-size:13px}pre{padding:.6rem;overflow:auto}
.m{display:inline-block;min-width:4.2rem;font-weight:bold}.roles{color:#555}
nav a{margin-right:.8rem}table{border-collapse:collapse;margin:.3rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _pre(schema: Any) -> str:
    return f"<pre>{_e(json.dumps(schema, ensure_ascii=False, indent=2))}</pre>"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    if "enum" in schema:
        return " | ".join(_e(json.dumps(v, ensure_ascii=False)) for v in schema["enum"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(x) for x in schema[key])
    kind = schema.get("type", "any")
    return _e("/".join(kind) if isinstance(kind, list) else kind)


def _fields(schema: dict[str, Any]) -> str:
    """An object schema as a table of its fields; anything else as its type or JSON."""
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return f"<p>{_type(schema)}</p>" if "$ref" in schema else _pre(schema)
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{_e(k)}</code>{' <b>*</b>' if k in required else ''}</td>"
        f"<td>{_type(v)}</td><td>{_e(v.get('description', ''))}</td></tr>"
        for k, v in props.items()
    )
    return f"<table><tr><th>field</th><th>type</th><th>meaning</th></tr>{rows}</table>"


def render_html(spec: dict[str, Any]) -> str:
    """Every operation: method, path, roles, summary, body and answer schemas; then the
    WebSocket messages. Plain HTML, rendered here; nothing is fetched from elsewhere."""
    by_tag: dict[str, list[str]] = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            parts = [
                f'<h3 id="{_e(op["operationId"])}"><span class="m">{method.upper()}</span>'
                f"<code>{_e(path)}</code></h3>",
                f"<p>{_e(op['summary'])} <span class='roles'>"
                f"({_e(', '.join(op['x-roles']) or 'public')})</span></p>",
            ]
            params = [p for p in op["parameters"] if p["in"] == "query"]
            if params:
                parts.append(
                    "<ul>"
                    + "".join(
                        f"<li><code>?{_e(p['name'])}</code> {_e(p.get('description', ''))}</li>"
                        for p in params
                    )
                    + "</ul>"
                )
            if "requestBody" in op:
                (kind, content), *_ = op["requestBody"]["content"].items()
                parts.append(f"<p>Body ({_e(kind)}; * required):</p>" + _fields(content["schema"]))
            for status, resp in op["responses"].items():
                if status != "default":
                    (ctype, content), *_ = resp["content"].items()
                    parts.append(f"<p>{_e(status)} ({_e(ctype)}):</p>" + _fields(content["schema"]))
            by_tag.setdefault(op["tags"][0], []).append("\n".join(parts))
    nav = " ".join(f'<a href="#tag-{_e(t)}">{_e(t)}</a>' for t in sorted(by_tag))
    body = "".join(
        f'<h2 id="tag-{_e(t)}">{_e(t)}</h2>' + "".join(by_tag[t]) for t in sorted(by_tag)
    )
    ws = spec["components"]["schemas"]
    messages = "".join(
        f'<h3 id="schema-{_e(k)}"><code>{_e(k[3:])}</code></h3>'
        f"<p>{_e(v.get('description', ''))}</p>{_fields(v)}"
        for k, v in ws.items()
        if k.startswith("ws.")
    )
    others = "".join(
        f'<h3 id="schema-{_e(k)}">{_e(k)}</h3>{_fields(v)}'
        for k, v in ws.items()
        if not k.startswith("ws.") and k != "CampaignDefinition"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>outdial API {_e(spec['info']['version'])}</title><style>{_CSS}</style></head>"
        f"<body><h1>outdial API</h1><p>{_e(spec['info']['description'])}</p>"
        '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>; campaign '
        'definitions: <a href="/api/schemas/campaign.json">/api/schemas/campaign.json</a>.</p>'
        f'<nav>{nav} <a href="#ws">WebSocket</a></nav>{body}'
        f'<h2 id="ws">WebSocket messages (GET /api/agent/ws)</h2>{messages}'
        f'<h2>Schemas</h2>{others}<h3 id="schema-CampaignDefinition">CampaignDefinition</h3>'
        f"{_pre(ws['CampaignDefinition'])}</body></html>"
    )
