"""`outdial campaigns|surveys|callbacks|orders|webhooks` through the real entry point."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from campaigns import rules, store, survey_store, surveys
from outdial import storage
from outdial.cli import main

CAMPAIGN_TOML = """
name = "核单 spring"
kind = "order_verification"
mode = "preview"
caller_id = "+861012345678"
active_from = 2026-03-01
script = "您好 {name}，您的订单 {order_id}"
webhook_url = "http://127.0.0.1:9/hook"

[schedule]
mon = ["09:00-12:00", "14:00-20:00"]

[retry]
busy = 5
max_attempts = 3
"""


@dataclass
class Cli:
    """Runs `outdial` in-process through ``main`` (the real entry point: exit codes and the
    one-line errors included); tests/outdial/test_cli.py covers the real process."""

    capsys: pytest.CaptureFixture[str]

    def run(self, args: list[str], ok: bool = True) -> tuple[str, str, int]:
        self.capsys.readouterr()
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        assert (code == 0) is ok, err
        return out, err, code

    def js(self, args: list[str]) -> Any:
        return json.loads(self.run([*args, "--json"])[0])


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv("OUTDIAL_DATA_DIR", str(tmp_path))
    c = Cli(capsys)
    c.run(["db", "upgrade"])
    return c


def test_a_file_naming_an_environment_variable_is_refused(cli: Cli, tmp_path: Path) -> None:
    """Issue 18 finding 1: no campaign definition picks the HMAC key from the environment."""
    f = tmp_path / "env.toml"
    f.write_text('webhook_secret_env = "OUTDIAL_ADMIN_PASSWORD"\n' + CAMPAIGN_TOML, "utf-8")
    _, err, code = cli.run(["campaigns", "load", str(f)], ok=False)
    assert code == 2 and "webhook_secret_env" in err and "not accepted" in err


def test_load_create_list_show(cli: Cli, tmp_path: Path) -> None:
    f = tmp_path / "spring.toml"
    f.write_text(CAMPAIGN_TOML, encoding="utf-8")
    loaded = cli.js(["campaigns", "load", str(f)])
    assert loaded["kind"] == "order_verification" and loaded["webhook_secret_set"] is True
    assert loaded["webhook_secret"].startswith("whsec_")  # generated, shown this once
    assert loaded["definition"]["retry"]["busy"] == 5
    again = cli.js(["campaigns", "load", str(f)])
    assert again["version"] == 2 and "webhook_secret" not in again  # loading again updates
    rotated = cli.js(["campaigns", "rotate-secret", "核单 spring"])["webhook_secret"]
    assert rotated.startswith("whsec_") and rotated != loaded["webhook_secret"]
    made = cli.js(
        ["campaigns", "create", "rv", "--kind", "return_visit", "--caller-id", "+861099999999"]
    )
    assert made["kind"] == "return_visit"
    assert [c["name"] for c in cli.js(["campaigns", "list"])] == ["核单 spring", "rv"]
    assert cli.js(["campaigns", "show", "rv"])["id"] == made["id"]
    bad = cli.run(["campaigns", "create", "x", "--caller-id", "anonymous"], ok=False)
    assert "caller ID must be an E.164 number" in bad[1] and bad[2] == 2


def test_seed_template_and_empty_lists(cli: Cli) -> None:
    seed = cli.js(["surveys", "template", "seed"])
    assert [q["kind"] for q in seed["questions"]] == ["scale"] * 5 + ["open"]
    assert cli.js(["callbacks", "list"]) == []
    assert cli.js(["webhooks", "dead"]) == []
    assert "no order 'NOPE'" in cli.run(["orders", "show", "NOPE"], ok=False)[1]
    assert "no webhook delivery 7" in cli.run(["webhooks", "resend", "7"], ok=False)[1]


def test_survey_results_by_day_name_the_zone_of_their_days(cli: Cli, tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'outdial.db'}")
    sid = cli.js(["surveys", "template", "seed", "--save"])["id"]
    spec = rules.parse_campaign({"name": "上海热线", "caller_id": "+861012345678"})
    cid = store.save_spec(engine, spec)[0].id
    resp, _ = survey_store.start_response(engine, sid, "call-1", campaign_id=cid)
    survey_store.save_answer(
        engine, resp.id or 0, "overall", 5, datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    )
    engine.dispose()
    data = cli.js(["surveys", "results", str(sid), "--by", "day"])
    assert list(data["groups"]) == ["2026-03-02"]  # 07:30 on 2 March in Shanghai
    assert data["day_zones"] == {"上海热线": "Asia/Shanghai"}
    out, _, _ = cli.run(["surveys", "results", str(sid), "--by", "day"])
    assert out.splitlines()[0] == "days in: 上海热线: Asia/Shanghai"
    assert "2026-03-02" in out.splitlines()[1]


def test_campaigns_new_prints_a_loadable_definition(cli: Cli, tmp_path: Path) -> None:
    out, _, _ = cli.run(["campaigns", "new", "--kind", "order_verification"])
    assert out.startswith("# outdial campaign: order_verification")
    f = tmp_path / "ov.toml"
    f.write_text(out, encoding="utf-8")
    loaded = cli.js(["campaigns", "load", str(f)])
    assert loaded["kind"] == "order_verification"
    assert loaded["definition"]["dialing"]["ring_timeout"] == 30
    assert cli.js(["campaigns", "new", "--kind", "survey"])["mode"] == "agentless"
    err = cli.run(["campaigns", "new", "--kind", "callback", "--mode", "agentless"], ok=False)
    assert "mode:" in err[1] and "e.g." in err[1] and err[2] == 2
    f.write_text(out.replace("ring_timeout = 30", "ring_timout = 30"), encoding="utf-8")
    err = cli.run(["campaigns", "load", str(f)], ok=False)
    assert "dialing.ring_timout: unknown dialing setting" in err[1]
    schema = cli.js(["campaigns", "schema"])
    assert schema["properties"]["dialing"]["additionalProperties"] is False


def test_surveys_seed_list_and_results_text(cli: Cli, tmp_path: Path) -> None:
    """Issue 16.10: --save names what it stored; `surveys list`; text results show the
    distribution and the top box, not only n and mean."""
    assert "no surveys" in cli.run(["surveys", "list"])[0]
    out, _, _ = cli.run(["surveys", "template", "seed", "--save"])
    name = surveys.SEED_TEMPLATE.name
    assert out.splitlines()[0] == f"saved survey {name!r} (id 1)"
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'outdial.db'}")
    at = datetime(2026, 3, 1, 3, tzinfo=UTC)
    for key, score in (("a", 5), ("b", 4), ("c", 5)):
        resp, _ = survey_store.start_response(engine, 1, key)
        survey_store.save_answer(engine, resp.id or 0, "overall", score, at)
    engine.dispose()
    (listed,) = cli.js(["surveys", "list"])
    assert (listed["name"], listed["questions"], listed["responses"]) == (name, 6, 3)
    assert f"{name}" in cli.run(["surveys", "list"])[0]
    text = cli.run(["surveys", "results", name])[0]
    overall = next(line for line in text.splitlines() if " overall " in line)
    assert "n=3" in overall and "top box 67%" in overall and "CSAT 100%" in overall
    assert "4:1" in overall and "5:2" in overall  # the distribution
