"""`outdial lists ...`: the commands on SQLite and PostgreSQL, errors from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from outdial.cli import cli
from outdial.errors import NotFound

OUTDIAL = [sys.executable, "-m", "outdial"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        OUTDIAL + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def invoke(args: list[str], env: dict[str, str]) -> Result:
    """In-process (a process per command costs seconds of imports); errors are checked
    in a real process below."""
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {"OUTDIAL_DATABASE_URL": db_url, "OUTDIAL_DATA_DIR": str(tmp_path)}
    invoke(["db", "upgrade"], env)
    return env


def test_import_report_show_and_exports(env: dict[str, str], data_dir: Path) -> None:
    args = ["lists", "import", str(data_dir / "excel_gbk.csv"), "--campaign", "回访", "--create"]
    result = invoke([*args, "--map", "phone=手机号", "--map", "name=客户姓名", "--json"], env)
    report = json.loads(result.stdout)
    assert (report["rows_read"], report["imported"], report["rejected"]) == (10, 5, 4)
    assert report["columns"]["name"] == "客户姓名"
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    again = invoke(args, env)
    assert "already imported" in again.stdout and "nothing changed" in again.stdout
    shown = json.loads(invoke(["lists", "show", "--json"], env).stdout)
    assert [(x["name"], x["contacts"]) for x in shown] == [("excel_gbk", 5)]
    out = invoke(["lists", "contacts", "1", "--rejects"], env).stdout
    lines = out.lstrip("\ufeff").splitlines()
    assert lines[0] == "row,reason,客户姓名,手机号,地址,订单号,金额,备注"
    assert any(line.startswith("10,not_a_number,郑十一,\"'=HYPERLINK(") for line in lines)
    contacts = invoke(["lists", "contacts", "1"], env).stdout
    assert "'=1+2" in contacts and "'+8613800138000" in contacts


def test_human_report(env: dict[str, str], data_dir: Path) -> None:
    out = invoke(
        ["lists", "import", str(data_dir / "excel_gbk.csv"), "--campaign", "c", "--create"], env
    )
    assert "imported    5" in out.stdout and "suppressed  0" in out.stdout
    assert "not_a_number          2" in out.stdout
    assert "duplicates  1  (dedupe: campaign)" in out.stdout


def test_errors_are_one_line_and_nonzero(tmp_path: Path) -> None:
    env = {"OUTDIAL_DATA_DIR": str(tmp_path / "var")}
    assert run(["db", "upgrade"], env).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,金额\n张三,1\n", encoding="utf-8")
    proc = run(["lists", "import", str(bad), "--campaign", "c"], env)
    assert proc.returncode == 2  # issue 16 item 3: no silent campaign
    assert proc.stderr.strip() == (
        "outdial: error: no campaign named 'c' — create it with `outdial campaigns new` "
        "(and `outdial campaigns load FILE`), or import with --create"
    )
    proc = run(["lists", "import", str(bad), "--campaign", "c", "--create"], env)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("outdial: error: no phone column found among: 姓名")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run(
        ["lists", "import", str(bad), "--campaign", "c", "--create", "--map", "phone=电话"], env
    )
    assert proc.returncode == 2 and "no such column" in proc.stderr


def test_import_into_a_missing_campaign_creates_nothing(
    env: dict[str, str], data_dir: Path
) -> None:
    result = CliRunner().invoke(
        cli, ["lists", "import", str(data_dir / "excel_gbk.csv"), "--campaign", "nope"], env=env
    )
    assert isinstance(result.exception, NotFound)  # main() prints it in one line, exit 2
    assert "no campaign named 'nope'" in str(result.exception)
    assert json.loads(invoke(["campaigns", "list", "--json"], env).stdout) == []
    assert json.loads(invoke(["lists", "show", "--json"], env).stdout) == []
