"""The OpenAPI description (issue 16.9) is built from, and checked against, the real routes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import openapi_spec_validator
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine

from campaigns import survey_store, surveys
from outdial import auth, config
from outdial.roles import Role
from web.apidoc import doc_of
from web.app import create_app
from web.openapi import describe, is_api
from web.routing import access_of

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Client = TestClient[Any, Any]
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app(tmp_path: Path, sqlite_engine: Engine) -> web.Application:
    return create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), sqlite_engine)


def real_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    return [
        (r.method, r.resource.canonical, r.handler)
        for r in app.router.routes()
        if r.method in METHODS and r.resource is not None and is_api(r.resource.canonical)
    ]


def test_every_route_declares_its_doc_and_is_described(app: web.Application) -> None:
    spec = describe(app)
    undocumented = [f"{m} {p}" for m, p, h in real_routes(app) if doc_of(h) is None]
    assert undocumented == [], "add doc=Doc(...) next to the route (web/apidoc.py)"
    described = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert described == {(m, p) for m, p, _ in real_routes(app)}
    assert len(described) > 50
    for path, ops in spec["paths"].items():
        for op in ops.values():
            params = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)", path)), path


def test_roles_come_from_the_route_table(app: web.Application) -> None:
    spec = describe(app)
    for method, path, handler in real_routes(app):
        op = spec["paths"][path][method.lower()]
        access = access_of(handler)
        assert access is not None
        assert op["x-roles"] == ([] if access.public else sorted(r.value for r in access.roles))
    assert spec["paths"]["/api/login"]["post"]["security"] == []


def test_every_schema_is_json_schema_2020_12(app: web.Application) -> None:
    spec = describe(app)
    assert spec["openapi"] == "3.1.0"
    openapi_spec_validator.validate(spec)  # the whole document, against OpenAPI 3.1's schema
    schemas: list[Any] = list(spec["components"]["schemas"].values())
    for ops in spec["paths"].values():
        for op in ops.values():
            for content in op.get("requestBody", {}).get("content", {}).values():
                schemas.append(content["schema"])
            for resp in op["responses"].values():
                schemas += [c["schema"] for c in resp["content"].values()]
    for s in schemas:
        jsonschema.Draft202012Validator.check_schema(s)
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(spec).replace("'", '"')))
    assert refs <= set(spec["components"]["schemas"])


def _example(schema: dict[str, Any], name: str) -> Any:
    if "examples" in schema:
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date-time":
        return "2026-05-01T10:00:00+08:00"
    if name == "local_time":
        return "2026-05-01T10:30"
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
        schema.get("type", "string"), "x"
    )


async def test_a_field_a_handler_requires_is_declared_required(
    aiohttp_client: ClientFactory, app: web.Application, sqlite_engine: Engine
) -> None:
    """Send each JSON route an empty body as a user it admits; each field the handler then
    names in a 400 must be a required field of the declaration. Fill it in, and again."""
    tokens = {}
    for role in Role:
        auth.create_user(sqlite_engine, f"u-{role.value}", "password-1", role)
        tokens[role] = auth.create_token(sqlite_engine, f"u-{role.value}", "t")[1]
    spec = describe(app)
    client = await aiohttp_client(app)
    checked = 0
    for method, path, handler in real_routes(app):
        op = spec["paths"][path][method.lower()]
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json")
        access = access_of(handler)
        if body_schema is None or access is None or access.public:
            continue
        schema = body_schema["schema"]
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = spec["components"]["schemas"][name]
        required, props = set(schema.get("required", [])), schema.get("properties", {})
        role = sorted(access.roles, key=lambda r: r.value)[0]
        url = re.sub(r"{\w+}", "1", path)
        body: dict[str, Any] = {}
        seen: set[str] = set()
        for _ in range(12):
            resp = await client.request(
                method, url, json=body, headers={"Authorization": f"Bearer {tokens[role]}"}
            )
            answer = await resp.json()
            field = answer.get("field") if resp.status == 400 else None
            if not field or field in seen or field in re.findall(r"{(\w+)}", path):
                break  # a path parameter the probe filled with "1" may be refused: not a body field
            seen.add(field)
            assert field in required, f"{method} {path}: the handler requires {field!r}"
            body[field] = _example(props[field], field)
            checked += 1
    assert checked >= 10  # the probe reached real handlers, not only auth refusals


async def test_the_page_and_the_json_are_served(aiohttp_client: ClientFactory, app: Any) -> None:
    client = await aiohttp_client(app)
    spec = await (await client.get("/api/openapi.json")).json()
    resp = await client.get("/api/docs")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in page
    assert "<script" not in page and "src=" not in page  # rendered here, nothing fetched
    assert "call_connected" in page and "campaign_id" in page
    schema = await (await client.get("/api/schemas/campaign.json")).json()
    assert schema["properties"]["dialing"]["additionalProperties"] is False


def test_survey_with_every_question_answered_is_completed(sqlite_engine: Engine) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 1, tzinfo=UTC)
    sid = survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE).id or 0
    answers: dict[str, Any] = {
        q.id: (4 if q.kind is surveys.QuestionKind.SCALE else "很好")
        for q in surveys.SEED_TEMPLATE.questions
    }
    resp, _ = survey_store.start_response(sqlite_engine, sid, "call-1")
    some = dict(list(answers.items())[:2])
    assert survey_store.save_answers(sqlite_engine, resp.id or 0, some, now).status == "partial"
    done = survey_store.save_answers(sqlite_engine, resp.id or 0, answers, now, "partial")
    assert done.status == "completed" and done.finished_at is not None
    again = survey_store.save_answers(sqlite_engine, resp.id or 0, {}, now, "opted_out")
    assert again.status == "opted_out"  # an explicit ending is kept
