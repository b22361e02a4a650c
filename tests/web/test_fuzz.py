"""Keep it so (issue 18): Hypothesis over the route table, as each role, and random uploads.

Every route the application serves (web/routing.py declares them all, so routes later
packages add are fuzzed automatically) gets random path parameters, queries, headers and
bodies — hostile JSON (deep, huge integers, lone surrogates, NUL), wrong types, raw bytes,
broken multipart — as anonymous and as each role. No answer may be a 5xx or carry a
traceback. Uploads (CSV, XLSX, WAV, random bytes, bombs) end in a clear 4xx or an import.

The suite is bounded by example counts (whole file well under 60 s on a loaded machine);
speed itself is measured by bench/abuse_bench.py, never asserted here.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outdial import auth, config, migrate, storage
from outdial.roles import Role
from web.app import create_app
from web.routing import access_of

ROLES: tuple[Role | None, ...] = (
    None,
    Role.ADMIN,
    Role.MANAGER,
    Role.AGENT,
    Role.SURVEYOR,
    Role.QA,
)
QUERY_KEYS = ["campaign", "profile", "number", "format", "by", "status", "offset", "limit",
              "scope", "owner", "lang", "at", "source", "head"]  # fmt: skip
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    client: TestClient[Any, Any]
    headers: dict[Role | None, dict[str, str]]
    routes: list[tuple[str, str]]
    data_dir: Path

    def call(self, method: str, path: str, **kw: Any) -> tuple[int, str]:
        async def go() -> tuple[int, str]:
            async with self.client.request(method, path, **kw) as resp:
                return resp.status, await resp.text(errors="replace")

        return self.loop.run_until_complete(go())


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    engine = storage.make_engine(f"sqlite:///{data_dir / 'outdial.db'}")
    migrate.upgrade(engine)
    headers: dict[Role | None, dict[str, str]] = {None: {}}
    for role in Role:
        auth.create_user(engine, f"fuzz_{role.value}", "password-123", role)
        secret = auth.create_token(engine, f"fuzz_{role.value}", "fuzz")[1]
        headers[role] = {"Authorization": f"Bearer {secret}"}
    cfg = config.load({"OUTDIAL_DATA_DIR": str(data_dir), "OUTDIAL_MAX_UPLOAD_MB": "2"})
    app = create_app(cfg, engine)
    routes = [
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method not in {"HEAD", "OPTIONS"} and r.resource is not None
    ]
    assert all(access_of(r.handler) is not None for r in app.router.routes())
    loop = asyncio.new_event_loop()
    client: TestClient[Any, Any] = TestClient(TestServer(app, loop=loop), loop=loop)
    loop.run_until_complete(client.start_server())
    yield Harness(loop, client, headers, sorted(routes), data_dir)
    loop.run_until_complete(client.close())
    loop.close()
    engine.dispose()


# --- what a hostile or careless client sends ------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["1 OR 1=1", "\ud800x", "a\x00b", "%00", "../../etc/passwd", "/etc/passwd", "-1", "0",
         "9" * 25, str(2**63), "+8613800138000", "=HYPERLINK(\"x\")", "\u202eevil", "NaN", "",
         " ", "null", "true", "x" * 5000]
    ),
)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
FIELD_NAMES = [
    "name", "kind", "mode", "caller_id", "campaign", "campaign_id", "code", "phone", "number",
    "idempotency_key", "local_time", "zone", "answers", "orders", "tasks", "external_id",
    "verdict", "username", "password", "role", "status", "webhook_url", "reason", "call_id",
    "owner", "owner_id", "note", "questions", "sip_uri", "candidate_zones", "changes",
]  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | nasty_text, kids, max_size=5)
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["json", "json", "deep", "raw", "form", "none", "badmulti"]))
    if kind == "json":
        doc = draw(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6))
        return {"data": _dumps(doc), "headers": {"Content-Type": "application/json"}}
    if kind == "deep":
        depth = draw(st.sampled_from([40, 1000, 50_000]))
        doc = '{"name": ' + "[" * depth + "]" * depth + "}"
        return {"data": doc.encode(), "headers": {"Content-Type": "application/json"}}
    if kind == "raw":
        ctype = draw(st.sampled_from(["application/json", "text/plain", "application/xml", ""]))
        return {"data": draw(st.binary(max_size=200)), "headers": {"Content-Type": ctype}}
    if kind == "form":
        form = FormData()
        for name in draw(st.lists(st.sampled_from(["file", "campaign", "scope", "x"]), max_size=3)):
            form.add_field(name, draw(st.binary(max_size=64)), filename="f.csv")
        return {"data": form}
    if kind == "badmulti":
        return {"data": b"--zz\r\n\r\n", "headers": {"Content-Type": "multipart/form-data"}}
    return {}


def fill(path: str, draw: st.DrawFn) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "token_id":  # never our own tokens: the fuzz keeps its credentials
            value = draw(st.one_of(st.integers(10_000, 2**70).map(str), nasty_text))
        elif name == "username":
            value = draw(nasty_text.filter(lambda t: not t.startswith("fuzz_")))
        else:
            value = draw(st.one_of(st.integers(-5, 2**70).map(str), nasty_text))
        return _q(value) or "x"

    return re.sub(r"\{([^}]+)\}", one, path)


def _q(value: str) -> str:
    """Percent-encode anything, lone surrogates included (as their raw UTF-8 bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def check(status: int, text: str, what: str) -> None:
    assert status < 500, f"{what} -> {status}: {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text, f"{what} leaked a traceback"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_no_route_answers_5xx_or_a_traceback(harness: Harness, role: Role | None) -> None:
    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        method, canonical = data.draw(st.sampled_from(harness.routes))
        if canonical == "/api/agent/ws":
            return  # a WebSocket upgrade; its Origin check has its own test
        path = fill(canonical, data.draw)
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_KEYS), nasty_text, max_size=3))
        kw = data.draw(bodies()) if method in {"POST", "PUT", "PATCH", "DELETE"} else {}
        headers = {**harness.headers[role], **kw.pop("headers", {})}
        if query:
            path += "?" + "&".join(f"{_q(k)}={_q(v)}" for k, v in query.items())
        status, text = harness.call(method, path, headers=headers, **kw)
        check(status, text, f"{role} {method} {path} {query}")

    run()


# --- uploads --------------------------------------------------------------------------------


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (16 * 1024 * 1024))
    return buf.getvalue()


def _wav(seconds: float, declared: float | None = None, extra: int = 0) -> bytes:
    rate, frames = 8000, int(8000 * seconds)
    data_len = int(8000 * (declared if declared is not None else seconds)) * 2
    head = b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVEfmt "
    head += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return head + b"data" + struct.pack("<I", data_len) + b"\x00\x00" * frames + b"\x01" * extra


cell_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
uploads = st.one_of(
    st.binary(max_size=2048).map(lambda b: ("random.csv", b)),
    st.lists(st.lists(nasty_text, min_size=1, max_size=3), min_size=1, max_size=6).map(
        lambda rows: ("list.csv", "\n".join(",".join(r) for r in rows).encode("utf-8", "replace"))
    ),
    st.lists(st.lists(cell_text, min_size=1, max_size=3), min_size=1, max_size=5).map(
        lambda rows: ("list.xlsx", _xlsx([["phone", "name"], *rows]))
    ),
    st.just(("bomb.xlsx", _zip_bomb())),
    st.just(("truncated.xlsx", _xlsx([["phone"], ["13800138000"]])[:300])),
    st.sampled_from([0.1, 0.5]).map(lambda s: ("p.wav", _wav(s))),
    st.just(("liar.wav", _wav(0.5, extra=512 * 1024))),  # 0.5 s header, a big body
    st.just(("short.wav", _wav(0.5, declared=30.0))),
)


@FUZZ
@given(upload=uploads, route=st.sampled_from(["/api/lists", "/api/prompts"]))
def test_random_uploads_end_in_a_clear_answer(
    harness: Harness, upload: tuple[str, bytes], route: str
) -> None:
    name, blob = upload
    form = FormData()
    if route == "/api/lists":
        form.add_field("campaign", "fuzz")
    else:
        for k, v in (("scope", "campaign"), ("owner", "fuzz"), ("name", "p1")):
            form.add_field(k, v)
    form.add_field("file", blob, filename=name)
    status, text = harness.call("POST", route, data=form, headers=harness.headers[Role.MANAGER])
    check(status, text, f"upload {name} to {route}")
    assert status in {200, 201, 202, 400, 404, 409, 413}, (status, text[:300])
    if name == "bomb.xlsx" and route == "/api/lists" and status == 202:
        list_id = json.loads(text)["list_id"]
        job = _wait(harness, list_id)
        assert job["status"] == "failed" and "bomb" in (job["error"] or "")
    assert str(harness.data_dir) not in text  # no absolute server paths in answers


def _wait(harness: Harness, list_id: int) -> dict[str, Any]:
    for _ in range(600):
        _, text = harness.call(
            "GET", f"/api/lists/{list_id}/import", headers=harness.headers[Role.MANAGER]
        )
        job: dict[str, Any] = json.loads(text)["job"]
        if job["status"] not in ("queued", "running"):
            return job
        harness.loop.run_until_complete(asyncio.sleep(0.05))
    raise AssertionError("the import did not finish")


def test_websocket_refuses_a_foreign_origin(harness: Harness) -> None:
    """Issue 18 finding 12: a page on another site cannot open the agent's screen."""
    headers = {**harness.headers[Role.AGENT], "Origin": "https://evil.example"}
    headers["Connection"], headers["Upgrade"] = "Upgrade", "websocket"
    headers["Sec-WebSocket-Version"], headers["Sec-WebSocket-Key"] = "13", "dGhlIHNhbXBsZQ=="
    status, _ = harness.call("GET", "/api/agent/ws", headers=headers)
    assert status == 403
