"""What a route declares about itself for the OpenAPI description (issue 16.9).

A route says who may call it (``roles=``, web/routing.py) and, next to that, what it takes
and gives back::

    @routes.post(
        "/api/agent/hangup",
        roles=AGENTS,
        doc=Doc("Hang up the agent's call", body=obj(required=["call_id"], call_id=STR)),
    )

web/openapi.py walks the application's real route table and turns each declaration into an
OpenAPI 3.1 operation; tests/web/test_openapi.py fails when a route has none, when a path
parameter is not described, or when a handler refuses a body for a field the declaration does
not list as required. Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DOC_ATTR = "__outdial_doc__"
Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY_OBJ: Schema = {"type": "object"}


def obj(required: Iterable[str] = (), extra: bool = True, **props: Schema) -> Schema:
    """An object schema; ``required`` fields must each be in ``props``."""
    req = list(required)
    missing = [r for r in req if r not in props]
    if missing:
        raise ValueError(f"required field(s) {missing} not described")
    out: Schema = {"type": "object", "properties": dict(props)}
    if req:
        out["required"] = req
    if not extra:
        out["additionalProperties"] = False
    return out


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def desc(schema: Schema, text: str) -> Schema:
    return {**schema, "description": text}


FILE: Schema = {"type": "string", "format": "binary"}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


@dataclass(frozen=True)
class Doc:
    """One operation: a summary, its JSON body, query parameters and its answer."""

    summary: str
    body: Schema | None = None  # JSON request body (None: no body)
    form: Schema | None = None  # a multipart/form-data upload instead (fields; file: binary)
    query: Mapping[str, str] = field(default_factory=dict)  # name -> meaning
    returns: Schema | None = None  # the success answer's JSON body
    status: int = 200  # the success status (201 for a creation)
    description: str = ""
    content_type: str = "application/json"  # of the success answer


def doc_of(handler: object) -> Doc | None:
    return getattr(handler, DOC_ATTR, None)
