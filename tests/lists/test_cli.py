"""`outdial lists ...` as a user runs it: a real process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OUTDIAL = [sys.executable, "-m", "outdial"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        OUTDIAL + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {"OUTDIAL_DATABASE_URL": db_url, "OUTDIAL_DATA_DIR": str(tmp_path)}
    assert run(["db", "upgrade"], env).returncode == 0
    return env


def test_import_report_then_already_imported(env: dict[str, str], data_dir: Path) -> None:
    args = ["lists", "import", str(data_dir / "excel_gbk.csv"), "--campaign", "回访"]
    proc = run([*args, "--map", "phone=手机号", "--map", "name=客户姓名", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["rows_read"], report["imported"], report["rejected"]) == (10, 5, 4)
    assert report["columns"]["name"] == "客户姓名"
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    again = run(args, env)
    assert again.returncode == 0 and "already imported" in again.stdout
    shown = json.loads(run(["lists", "show", "--json"], env).stdout)
    assert [(x["name"], x["contacts"]) for x in shown] == [("excel_gbk", 5)]


def test_human_report_and_rejects_export(env: dict[str, str], data_dir: Path) -> None:
    proc = run(["lists", "import", str(data_dir / "excel_gbk.csv"), "--campaign", "c"], env)
    assert proc.returncode == 0, proc.stderr
    assert "imported    5" in proc.stdout and "not_a_number          2" in proc.stdout
    out = run(["lists", "contacts", "1", "--rejects"], env).stdout
    lines = out.lstrip("\ufeff").splitlines()
    assert lines[0] == "row,reason,客户姓名,手机号,地址,订单号,金额,备注"
    assert any(line.startswith("10,not_a_number,郑十一,\"'=HYPERLINK(") for line in lines)
    contacts = run(["lists", "contacts", "1"], env).stdout
    assert "'=1+2" in contacts and "+8613800138000" in contacts


def test_errors_are_one_line_and_nonzero(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,金额\n张三,1\n", encoding="utf-8")
    proc = run(["lists", "import", str(bad), "--campaign", "c"], env)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("outdial: error: no phone column found among: 姓名")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run(["lists", "import", str(bad), "--campaign", "c", "--map", "phone=电话"], env)
    assert proc.returncode == 2 and "no such column" in proc.stderr
