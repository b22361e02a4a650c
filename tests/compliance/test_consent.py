"""Issue 16 item 1: a Chinese campaign can dial once the lawful basis is recorded.

The campaign's purpose decides which bases the CN profile accepts (rule 26); the basis
comes from the list (a 同意 column, or one basis stated by the uploader) or from
``outdial consent add|revoke|import``; the preview names what each blocked record misses.
Through the CLI, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from outdial.cli import cli
from outdial.errors import InvalidInput

AT = "2026-12-08T03:00:00Z"  # Tuesday 11:00 Asia/Shanghai: inside rule 28's hours
A, B, C, D = "+8613800138001", "+8613800138002", "+8613800138003", "+8613800138004"


def js(env: dict[str, str], args: list[str]) -> Any:
    result = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {"OUTDIAL_DATABASE_URL": db_url, "OUTDIAL_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(cli, ["db", "upgrade"], env=env, catch_exceptions=False)
    return env


def define(env: dict[str, str], tmp: Path, name: str, kind: str, **extra: str) -> None:
    path = tmp / f"{name}.json"
    body = {"name": name, "kind": kind, "caller_id": "+861012345678", **extra}
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    js(env, ["campaigns", "load", str(path)])


def csv(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def preview(env: dict[str, str], campaign: str) -> Any:
    return js(env, ["compliance", "preview", "--campaign", campaign, "--at", AT])


def audit_kinds(db_url: str) -> list[str]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text("SELECT kind FROM audit_log ORDER BY id"))]
    finally:
        engine.dispose()


def test_marketing_needs_consent_from_the_list_or_the_consent_commands(
    env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    define(env, tmp_path, "促销", "generic")  # generic: marketing by default
    shown = js(env, ["campaigns", "show", "促销"])
    assert shown["definition"]["purpose"] == "marketing"
    file = csv(
        tmp_path,
        "m.csv",
        "手机号,姓名,同意,同意日期,同意凭证\n"
        "13800138001,甲,是,2026/11/20,官网表单\n"
        "13800138002,乙,否,,\n"
        "13800138003,丙,拒绝,2026-11-21,电话\n"
        "13800138004,丁,,,\n",
    )
    report = js(env, ["lists", "import", file, "--campaign", "促销"])
    assert report["consent"] == {
        "column": "同意",
        "date_column": "同意日期",
        "evidence_column": "同意凭证",
        "granted": 1,
        "refused": 1,
        "none": 2,
        "bad_date": 0,
    }
    assert report["columns"]["custom"] == ["同意", "同意日期", "同意凭证"]  # not a visit date
    p = preview(env, "促销")
    assert (p["purpose"], p["dialable_now"], p["blocked"]) == ("marketing", 1, 3)
    missing = {m["number"]: m["missing"] for m in p["missing_basis"]}
    assert set(missing) == {B, D} and p["missing_basis_total"] == 2  # C refused: not missing
    assert missing[B].startswith("no lawful basis for a marketing call (needs consent or request)")
    assert "outdial consent add" in missing[B]
    history = js(env, ["consent", "show", A])
    assert [(h["status"], h["at"][:10], h["channel"]) for h in history] == [
        ("granted", "2026-11-19", "import")  # 2026-11-20 00:00 in Shanghai is the 19th in UTC
    ]
    assert history[0]["evidence"].startswith("官网表单; list 'm' row 2")

    js(env, ["consent", "add", "13800138004", "--evidence", "回访时口头同意, 录音 R-77"])
    assert preview(env, "促销")["dialable_now"] == 2
    revoked = js(env, ["consent", "revoke", A, "--reason", "电话中要求不再来电"])
    assert revoked["status"] == "revoked"
    p = preview(env, "促销")
    assert p["dialable_now"] == 1 and "rule-8:DNC" in p["by_reason"]  # rule 9: on the DNC list
    kinds = audit_kinds(db_url)
    assert "consent_import" in kinds and kinds.count("consent") == 2


def test_a_service_campaign_rests_on_the_contract_stated_for_the_list(
    env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    define(env, tmp_path, "核单", "order_verification")
    assert js(env, ["campaigns", "show", "核单"])["definition"]["purpose"] == "service"
    file = csv(tmp_path, "o.csv", "手机号,订单号\n13800138001,O-1\n13800138002,O-2\n")
    js(env, ["lists", "import", file, "--campaign", "核单", "--list", "bare"])
    p = preview(env, "核单")
    assert p["dialable_now"] == 0 and p["missing_basis_total"] == 2
    assert "(needs consent, contract or request)" in p["missing_basis"][0]["missing"]
    assert "--lawful-basis contract" in p["missing_basis"][0]["missing"]
    file = csv(tmp_path, "o2.csv", "手机号,订单号\n13800138003,O-3\n13800138004,O-4\n")
    report = js(env, ["lists", "import", file, "--campaign", "核单", "--lawful-basis", "contract"])
    assert report["lawful_basis"] == "contract" and "consent" not in report
    p = preview(env, "核单")
    assert p["dialable_now"] == 2  # the new list's rows; the bare list's two still miss one
    assert p["missing_basis_total"] == 2
    assert "lawful_basis" in audit_kinds(db_url)
    check = ["compliance", "check", "--campaign", "核单", "--at", AT, "--number"]
    assert js(env, [*check, "13800138003"])["allowed"]  # its list states the contract
    assert not js(env, [*check, "13800138001"])["allowed"]
    # the same definition as marketing: the contract no longer does (rule 26)
    define(env, tmp_path, "核单", "order_verification", purpose="marketing")
    assert preview(env, "核单")["dialable_now"] == 0


def test_consent_import_file_and_its_errors(env: dict[str, str], tmp_path: Path) -> None:
    file = csv(tmp_path, "c.csv", "电话,consent,evidence\n13800138001,yes,form\nabc,yes,x\n")
    got = js(env, ["consent", "import", file])
    assert (got["granted"], got["refused"], [r["row"] for r in got["rejected"]]) == (1, 0, [3])
    bare = csv(tmp_path, "n.csv", "电话\n13800138002\n")
    with pytest.raises(InvalidInput, match="--evidence"):
        CliRunner().invoke(cli, ["consent", "import", bare], env=env, catch_exceptions=False)
    got = js(env, ["consent", "import", bare, "--evidence", "CRM opt-in export 2026-11"])
    assert got["granted"] == 1
    with pytest.raises(InvalidInput, match="evidence"):
        CliRunner().invoke(
            cli, ["consent", "add", C, "--evidence", " "], env=env, catch_exceptions=False
        )
