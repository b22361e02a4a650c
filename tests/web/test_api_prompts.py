"""Prompt uploads over HTTP: 201, a 400 naming the fault, 413 past the cap, 403 by role."""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import Any

from aiohttp import FormData
from sqlalchemy.engine import Engine

import web.api_prompts
import web.app
from campaigns import store, survey_store, surveys
from outdial import auth, config
from outdial.roles import Role


def _wav(path: Path, rate: int = 8000, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(struct.pack("<h", (i % 40) * 500) for i in range(int(rate * seconds)))
        )
    return path


async def _client(aiohttp_client: Any, tmp_path: Path, engine: Engine, **env: str) -> Any:
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path), **env})
    app = web.app.create_app(cfg, engine)
    if "web.api_prompts" not in web.app.ROUTE_MODULES:  # until the lead registers it
        app.add_routes(web.api_prompts.routes)
    return await aiohttp_client(app)


async def _login(client: Any, engine: Engine, role: Role) -> dict[str, str]:
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
    form.add_field("file", path.read_bytes(), filename=path.name, content_type="audio/wav")
    return form


async def test_upload_list_delete_campaign_prompt(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    camp = store.create(sqlite_engine, "rv")
    client = await _client(aiohttp_client, tmp_path, sqlite_engine)
    headers = await _login(client, sqlite_engine, Role.MANAGER)
    form = _form(_wav(tmp_path / "sh.wav"), scope="campaign", owner="rv", name="safe_harbor")
    resp = await client.post("/api/prompts", data=form, headers=headers)
    assert resp.status == 201, await resp.text()
    prompt = (await resp.json())["prompt"]
    want = tmp_path / "prompts" / f"campaign.{camp.id}" / "safe_harbor.wav"
    assert prompt["path"] == f"prompts/campaign.{camp.id}/safe_harbor.wav" and want.exists()
    assert str(tmp_path) not in await resp.text()  # no absolute server paths (issue 18)
    assert list((tmp_path / "uploads").iterdir()) == []  # the temporary upload is gone

    listed = await (await client.get("/api/prompts?scope=campaign&owner=rv")).json()
    assert [p["name"] for p in listed["prompts"]] == ["safe_harbor"]
    resp = await client.delete(f"/api/prompts/campaign/{camp.id}/safe_harbor", headers=headers)
    assert resp.status == 200 and not want.exists()
    resp = await client.delete(f"/api/prompts/campaign/{camp.id}/safe_harbor", headers=headers)
    assert resp.status == 404


async def test_bad_file_is_400_with_the_reason(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE)
    client = await _client(aiohttp_client, tmp_path, sqlite_engine)
    headers = await _login(client, sqlite_engine, Role.SURVEYOR)
    fields = {"scope": "survey", "owner": surveys.SEED_TEMPLATE.name, "name": "intro"}
    bad = _wav(tmp_path / "hi.wav", rate=44100)
    resp = await client.post("/api/prompts", data=_form(bad, **fields, lang="zh"), headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "prompt_invalid" and body["problem"] == "sample_rate"
    assert body["message"].startswith("sample rate 44100 Hz: use 8000 Hz mono 16-bit PCM")

    good = _wav(tmp_path / "ok.wav")
    resp = await client.post("/api/prompts", data=_form(good, **fields, lang="en"), headers=headers)
    assert resp.status == 201, await resp.text()
    assert (tmp_path / "prompts" / "seed_satisfaction" / "en" / "intro.wav").exists()
    no_lang = await client.post("/api/prompts", data=_form(good, **fields), headers=headers)
    assert no_lang.status == 400 and "need lang zh or en" in (await no_lang.json())["message"]
    # surveyors do survey prompts only
    store.create(sqlite_engine, "rv")
    camp = _form(good, scope="campaign", owner="rv", name="safe_harbor")
    assert (await client.post("/api/prompts", data=camp, headers=headers)).status == 403


async def test_too_big_is_413(aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine) -> None:
    store.create(sqlite_engine, "rv")
    client = await _client(aiohttp_client, tmp_path, sqlite_engine, OUTDIAL_MAX_UPLOAD_MB="1")
    headers = await _login(client, sqlite_engine, Role.ADMIN)
    big = _wav(tmp_path / "big.wav", rate=16000, seconds=40.0)  # 1.28 MB, otherwise valid
    form = _form(big, scope="campaign", owner="rv", name="safe_harbor")
    resp = await client.post("/api/prompts", data=form, headers=headers)
    assert resp.status == 413
    body = await resp.json()
    assert body["error"] == "upload_too_large" and "1 MB upload limit" in body["message"]
    assert list((tmp_path / "uploads").glob("*")) == []  # refused before anything was read


async def test_agent_is_refused(aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine) -> None:
    store.create(sqlite_engine, "rv")
    client = await _client(aiohttp_client, tmp_path, sqlite_engine)
    headers = await _login(client, sqlite_engine, Role.AGENT)
    form = _form(_wav(tmp_path / "a.wav"), scope="campaign", owner="rv", name="safe_harbor")
    assert (await client.post("/api/prompts", data=form, headers=headers)).status == 403
    assert (await client.get("/api/prompts?scope=campaign&owner=rv")).status == 403
    assert not (tmp_path / "prompts").exists()
