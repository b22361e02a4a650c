"""Liveness and readiness, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from outdial import config, storage
from web.app import create_app


async def test_ready_when_migrated(aiohttp_client: Any, tmp_path: Path, engine: Engine) -> None:
    client = await aiohttp_client(
        create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    )
    assert (await (await client.get("/healthz")).json()) == {"status": "ok"}
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["error"] == "database_not_migrated"


async def test_unready_when_database_unreachable(aiohttp_client: Any, tmp_path: Path) -> None:
    engine = storage.make_engine("postgresql+psycopg://u@127.0.0.1:1/x")
    client = await aiohttp_client(
        create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    )
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 503 and (await resp.json())["error"] == "database_unreachable"
