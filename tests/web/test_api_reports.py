"""The reports API: the same numbers from the API, its CSV/XLSX, and the CLI; 400 with the
field; targets; report files."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
import timeline

from outdial import auth, config
from outdial.cli import main
from reports import files
from web.app import create_app

Client = TestClient[Any, Any]
ClientFactory = Callable[[web.Application], Awaitable[Client]]
Q = "from=2026-12-01&to=2026-12-01&interval=30m&by=agent&kpi=dials,connect_rate,aht,occupancy"


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path, sqlite_engine: Engine) -> Client:
    timeline.build(sqlite_engine)
    auth.create_user(sqlite_engine, "boss", "password-1", "manager")
    cfg = config.load({"OUTDIAL_DATA_DIR": str(tmp_path)})
    c = await aiohttp_client(create_app(cfg, sqlite_engine))
    await csrf(c)
    return c


async def csrf(c: Client) -> dict[str, str]:
    resp = await c.post("/api/login", json={"username": "boss", "password": "password-1"})
    return {"X-CSRF-Token": (await resp.json())["csrf_token"]}


def _cells(rows: list[list[Any]]) -> list[list[str]]:
    return [
        ["" if v is None else str(float(v)) if isinstance(v, int | float) else str(v) for v in r]
        for r in rows
    ]


async def test_api_exports_and_cli_give_the_same_numbers(
    client: Client, sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = await (await client.get(f"/api/reports/kpi?{Q}")).json()
    assert data["zone"] == "Asia/Shanghai"
    cols = data["columns"]
    api = [[r[c] for c in cols] for r in data["rows"]]
    assert ["2026-12-01T09:00+08:00", "wang", 2, None, 135.0, 0.225] in api  # no rate by agent
    got_csv = await (await client.get(f"/api/reports/kpi?{Q}&format=csv")).read()
    rows = list(csv.reader(io.StringIO(got_csv.decode("utf-8-sig"))))
    assert rows[0] == cols
    num = [
        [
            float(v) if v and c not in ("interval", "agent") else v
            for v, c in zip(r, cols, strict=True)
        ]
        for r in rows[1:]
    ]
    assert _cells(num) == _cells(api)
    got_xlsx = await (await client.get(f"/api/reports/kpi?{Q}&format=xlsx")).read()
    ws = load_workbook(io.BytesIO(got_xlsx))["KPI"]
    xl = [[None if v == "" else v for v in r] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert _cells(xl) == _cells(api)
    argv = [
        "--database-url",
        str(sqlite_engine.url),
        "reports",
        "kpi",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--by",
        "agent",
        "--kpi",
        "dials,connect_rate,aht,occupancy",
        "--json",
    ]
    main(argv)
    cli = json.loads(capsys.readouterr().out)
    assert _cells([[r[c] for c in cols] for r in cli["rows"]]) == _cells(api)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-02&to=2026-12-01", "from"),
        ("from=2025-01-01&to=2026-12-01", "to"),
        ("from=2026-12-01&to=2026-12-01&kpi=joy", "kpi"),
        ("from=2026-12-01&to=2026-12-01&by=planet", "by"),
        ("from=2026-12-01&to=2026-12-01&interval=5m", "interval"),
        ("to=2026-12-01", "from"),
        ("from=2026-12-01&to=2026-12-01&format=pdf", "format"),
        ("from=2026-12-01&to=2026-12-01&include_simulated=maybe", "include_simulated"),
    ],
)
async def test_bad_input_is_400_naming_the_field(client: Client, query: str, field: str) -> None:
    resp = await client.get(f"/api/reports/kpi?{query}")
    assert resp.status == 400
    assert (await resp.json())["field"] == field


async def test_targets_color_the_cells(client: Client) -> None:
    h = await csrf(client)
    put = await client.put("/api/reports/targets/connect_rate", json={"value": 0.7}, headers=h)
    assert put.status == 200 and (await put.json())["target"]["op"] == ">="
    bad = await client.put("/api/reports/targets/joy", json={"value": 1}, headers=h)
    assert bad.status == 400
    data = await (
        await client.get(
            "/api/reports/kpi?from=2026-12-01&to=2026-12-01&interval=day&kpi=connect_rate"
        )
    ).json()
    assert data["rows"][0]["connect_rate"] == pytest.approx(0.6)
    assert data["rows"][0]["status"] == {"connect_rate": "red"}
    listed = await (await client.get("/api/reports/targets")).json()
    assert listed["targets"] == {"connect_rate": {"op": ">=", "value": 0.7}}


async def test_report_files_listed_and_downloaded(
    client: Client, sqlite_engine: Engine, tmp_path: Path
) -> None:
    files.write_period(sqlite_engine, tmp_path, "daily", timeline.at(17, 0))
    listed = await (await client.get("/api/reports/files")).json()
    assert [f["name"] for f in listed["files"]] == ["daily-2026-12-01.xlsx", "daily-2026-12-01.csv"]
    got = await client.get("/api/reports/files/daily-2026-12-01.csv")
    assert got.status == 200 and "回访一" in (await got.read()).decode("utf-8-sig")
    assert (await client.get("/api/reports/files/passwd.csv")).status == 404
    cat = await (await client.get("/api/reports/catalogue")).json()
    assert {
        "name": "connect_rate",
        "zh": "接通率",
        "unit": "ratio",
        "higher_is_better": True,
    } in cat["kpis"]


async def test_forecast_over_http(client: Client) -> None:
    h = await csrf(client)
    bad = await client.post("/api/reports/forecast", json={"campaign": "回访一"}, headers=h)
    assert bad.status == 400 and (await bad.json())["field"] == "deadline"
    resp = await client.post(
        "/api/reports/forecast",
        json={"campaign": "回访一", "deadline": "2099-01-01T12:00", "history_days": 400},
        headers=h,
    )
    assert resp.status == 400 and (await resp.json())["field"] == "deadline"  # > 31 days


async def test_simulated_calls_shown_only_when_asked(
    aiohttp_client: ClientFactory, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 17: the simulated carrier's calls and agent sim01 (tests/reports/timeline.py)
    are in the report only with ``include_simulated=true``."""
    timeline.build_simulated(sqlite_engine)
    auth.create_user(sqlite_engine, "boss", "password-1", "manager")
    c = await aiohttp_client(
        create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), sqlite_engine)
    )
    await csrf(c)
    q = "from=2026-12-01&to=2026-12-01&interval=day&by=agent&kpi=dials"
    real = await (await c.get(f"/api/reports/kpi?{q}")).json()
    both = await (await c.get(f"/api/reports/kpi?{q}&include_simulated=true")).json()
    assert {r["agent"]: r["dials"] for r in real["rows"]} == {"wang": 2, "": 3}
    assert {r["agent"]: r["dials"] for r in both["rows"]} == {"wang": 2, "": 4, "sim01": 1}
