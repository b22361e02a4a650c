"""`outdial dnc` and `outdial audit verify` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from outdial import migrate, storage
from outdial.cli import cli
from outdial.errors import InvalidInput


def invoke(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--database-url", db, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_dnc_and_audit_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'o.db'}"
    migrate.upgrade(storage.make_engine(db))
    code, out = invoke(db, "dnc", "add", "138 1234 5678", "--reason", "asked", "--json")
    assert code == 0 and json.loads(out)["number"] == "+8613812345678"
    (tmp_path / "list.txt").write_text("13800000001\nnot-a-number\n13812345678\n")
    code, out = invoke(db, "dnc", "import", str(tmp_path / "list.txt"), "--json")
    report = json.loads(out)
    assert (report["read"], report["added"], report["already"]) == (3, 1, 1)
    assert report["invalid"] == [{"line": 2, "text": "not-a-number"}]
    code, out = invoke(db, "dnc", "export")
    assert out.splitlines()[1:] and out.count("+86138") == 2
    (tmp_path / "reg.txt").write_text("2125551234\n")
    with pytest.raises(InvalidInput, match="as-of"):  # a registry needs its snapshot date
        invoke(db, "dnc", "import", "--registry", "us-national", str(tmp_path / "reg.txt"))
    code, out = invoke(
        db,
        "dnc",
        "import",
        "--registry",
        "us-national",
        "--as-of",
        "2026-11-01",
        str(tmp_path / "reg.txt"),
        "--json",
    )
    assert json.loads(out)["count"] == 1
    code, out = invoke(db, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["intact"] and json.loads(out)["rows"] == 3
    engine = storage.make_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET kind = 'dnc_remove' WHERE id = 2"))
    code, out = invoke(db, "audit", "verify", "--json")
    assert code == 1 and json.loads(out)["first_bad_id"] == 2


def test_compliance_check_explains_the_decision(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'o.db'}"
    migrate.upgrade(storage.make_engine(db))
    # rule 33: 08:30 in New York is 07:30 in Chicago; a number of both zones is blocked
    code, out = invoke(
        db,
        "compliance",
        "check",
        "--profile",
        "us",
        "--number",
        "+13125550123",
        "--at",
        "2026-11-23T13:45:00Z",
        "--json",
    )
    body = json.loads(out)
    assert code == 0 and body["allowed"] is False
    assert "rule-1" in {r["rule"] for r in body["reasons"]}
    assert body["local_times"]["America/Chicago"].startswith("2026-11-23T07:45")
    code, out = invoke(
        db,
        "compliance",
        "check",
        "--profile",
        "cn",
        "--number",
        "13812345678",
        "--at",
        "2026-11-23T03:00:00Z",
    )
    assert "BLOCKED" in out and "rule-26" in out
    with pytest.raises(InvalidInput, match="zone"):
        invoke(
            db,
            "compliance",
            "check",
            "--profile",
            "cn",
            "--number",
            "13812345678",
            "--at",
            "2026-11-23T03:00:00",
        )
