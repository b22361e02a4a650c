"""Call lists over HTTP: upload → 202 → progress → report, rejects.csv, contacts, 413."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

from aiohttp import FormData
from sqlalchemy.engine import Engine

from outdial import auth, config
from outdial.roles import Role
from web.app import create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "lists"


async def _client(aiohttp_client: Any, tmp_path: Path, engine: Engine, **env: str) -> Any:
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path), **env})
    return await aiohttp_client(create_app(cfg, engine))


async def _login(client: Any, engine: Engine, role: Role = Role.MANAGER) -> dict[str, str]:
    auth.create_user(engine, f"u_{role.value}", "secret-pass-123", role)
    resp = await client.post(
        "/api/login", json={"username": f"u_{role.value}", "password": "secret-pass-123"}
    )
    assert resp.status == 200
    return {"X-CSRF-Token": (await resp.json())["csrf_token"]}


def _form(path: Path, **fields: str) -> FormData:
    form = FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    form.add_field("file", path.read_bytes(), filename=path.name)
    return form


async def _wait_done(client: Any, list_id: int) -> dict[str, Any]:
    for _ in range(1200):  # up to a minute on a loaded machine
        job = (await (await client.get(f"/api/lists/{list_id}/import")).json())["job"]
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_upload_progress_report_rejects_contacts(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    client = await _client(aiohttp_client, tmp_path, engine)
    headers = await _login(client, engine)
    mapping = json.dumps({"phone": "手机号", "name": "客户姓名"})
    resp = await client.post(
        "/api/lists",
        data=_form(
            DATA / "excel_gbk.csv", campaign="回访", create="true", mapping=mapping, list="十一月"
        ),
        headers=headers,
    )
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    list_id = body["list_id"]
    assert body["job"]["status"] == "queued"
    job = await _wait_done(client, list_id)
    assert job["status"] == "done", job
    report = job["report"]
    assert (report["rows_read"], report["imported"], report["rejected"]) == (10, 5, 4)
    assert report["list"] == "十一月" and job["rows_done"] == 10
    assert list((tmp_path / "uploads").iterdir()) == []  # the upload is removed

    resp = await client.get(f"/api/lists/{list_id}/rejects.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert rows[0][:2] == ["row", "reason"]
    reasons = {r[0]: r[1] for r in rows[1:]}
    assert reasons == {
        "6": "invalid_for_region", "7": "not_a_number", "8": "duplicate_in_file",
        "9": "empty", "10": "not_a_number",
    }  # fmt: skip
    formula = next(r for r in rows if r[0] == "10")
    assert formula[rows[0].index("手机号")] == '\'=HYPERLINK("http://x")'

    page = await (await client.get(f"/api/lists/{list_id}/contacts?offset=1&limit=2")).json()
    assert page["total"] == 5 and len(page["contacts"]) == 2
    assert page["contacts"][0]["primary_number"] == "+8613900139000"
    assert page["contacts"][0]["name"] == "李四"

    again = await client.post(
        "/api/lists",
        data=_form(
            DATA / "excel_gbk.csv", campaign="回访", create="true", mapping=mapping, list="十一月"
        ),
        headers=headers,
    )
    assert again.status == 200 and (await again.json())["already_imported"] is True


async def test_a_bad_file_fails_its_job_with_the_reason(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    client = await _client(aiohttp_client, tmp_path, engine)
    headers = await _login(client, engine)
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,金额\n张三,1\n", encoding="utf-8")
    resp = await client.post(
        "/api/lists", data=_form(bad, campaign="c", create="true"), headers=headers
    )
    assert resp.status == 202
    job = await _wait_done(client, (await resp.json())["list_id"])
    assert job["status"] == "failed" and "no phone column" in job["error"]


async def test_limits_roles_and_bad_requests(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    client = await _client(aiohttp_client, tmp_path, engine, OUTDIAL_MAX_UPLOAD_MB="1")
    headers = await _login(client, engine)
    big = tmp_path / "big.csv"
    big.write_bytes(b"phone\n" + b"13800138000\n" * 100_000)  # 1.2 MB
    resp = await client.post(
        "/api/lists", data=_form(big, campaign="c", create="true"), headers=headers
    )
    assert resp.status == 413
    assert (await resp.json())["error"] == "upload_too_large"
    assert list((tmp_path / "uploads").glob("*")) == []  # refused before anything was read

    small = tmp_path / "s.csv"
    small.write_text("phone\n13800138000\n")
    resp = await client.post("/api/lists", data=_form(small), headers=headers)
    assert resp.status == 400 and "campaign" in (await resp.json())["message"]
    resp = await client.post("/api/lists", data=_form(small, campaign="c"), headers=headers)
    assert resp.status == 404  # issue 16 item 3: no campaign made by an upload
    assert "outdial campaigns new" in (await resp.json())["message"]
    resp = await client.post("/api/lists", data=_form(small, campaign="c"))
    assert resp.status == 403  # no CSRF token
    resp = await client.get("/api/lists/999/contacts")
    assert resp.status == 404

    await client.post("/api/logout", headers=headers)
    agent = await _login(client, engine, Role.AGENT)
    resp = await client.post("/api/lists", data=_form(small, campaign="c"), headers=agent)
    assert resp.status == 403


async def test_cancelling_a_finished_import_is_refused_with_the_truth(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 18 finding 4: no "cancelled; nothing was written" for a list that was written."""
    client = await _client(aiohttp_client, tmp_path, sqlite_engine)
    headers = await _login(client, sqlite_engine)
    resp = await client.post(
        "/api/lists",
        data=_form(DATA / "excel_gbk.csv", campaign="c", create="true"),
        headers=headers,
    )
    list_id = (await resp.json())["list_id"]
    assert (await _wait_done(client, list_id))["status"] == "done"
    late = await client.post(f"/api/lists/{list_id}/import/cancel", headers=headers)
    body = await late.json()
    assert late.status == 409 and body["state"] == "not_running" and "done" in body["message"]
