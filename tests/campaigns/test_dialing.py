"""The typed dialing section (issue 11.3): bounds, unknown keys, defaults, the README table,
and a definition carrying every dialing field round-tripped file → API → `campaigns show`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine

from campaigns import dialing, files, rules
from campaigns.errors import CampaignInvalid
from outdial import auth, config
from outdial.cli import main
from web.app import create_app

BASE = {"name": "回访", "caller_id": "+861012345678"}
EVERY_FIELD = """
name = "回访 dialing"
kind = "return_visit"
mode = "predictive"
caller_id = "+861012345678"

[dialing]
lines_per_agent = 2.5
abandon_target = 0.015
abandon_cap = 0.025
max_lines = 240
max_cps = 12.5
ring_timeout = 25
amd = true
amd_deadline = 4.5
amd_sample_share = 0.05
machine_action = "leave_message"
machine_prompt = "voicemail_notice"
preview_auto_dial_seconds = 20
wrap_up_limit = 90
record_calls = false
softphone_test = false
"""


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CampaignInvalid) as info:
        rules.parse_campaign(data)
    found: Any = info.value.fields["problems"]
    return {p["field"]: p["message"] for p in found}


def test_defaults_when_the_table_is_absent() -> None:
    spec = rules.parse_campaign(BASE)
    assert spec.dialing == dialing.DialingSpec()
    assert spec.dialing.lines(trunk_lines=180) == 180  # no max_lines: the trunk's capacity
    assert rules.parse_campaign({**BASE, "dialing": {"max_lines": 7}}).dialing.lines(180) == 7


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("ring_timeout", 14),  # rules 5, 22
        ("ring_timeout", 20.5),
        ("abandon_cap", 0.05),  # rules 2, 18
        ("abandon_target", 0),
        ("lines_per_agent", 0.5),
        ("max_lines", 0),
        ("max_cps", "fast"),
        ("amd", "yes"),
        ("machine_action", "beep"),
        ("preview_auto_dial_seconds", -1),
        ("wrap_up_limit", True),
        ("record_calls", "no"),
        ("record_calls", 0),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_with_an_example(key: str, bad: object) -> None:
    found = problems({**BASE, "dialing": {key: bad}})
    assert list(found) == [f"dialing.{key}"]
    assert key in found[f"dialing.{key}"] and "e.g." in found[f"dialing.{key}"]


def test_unknown_keys_are_refused_by_name_at_every_level() -> None:
    found = problems(
        {
            **BASE,
            "amd": True,  # the loose key the runtime used to read: now refused, not dropped
            "dialing": {"ratio": 2},
            "retry": {"ringing": 5},
            "schedule": {"funday": ["09:00-10:00"]},
            "dispositions": [{"code": "ok", "colour": "green"}],
        }
    )
    assert set(found) == {
        "amd",
        "dialing.ratio",
        "retry.ringing",
        "schedule.funday",
        "dispositions[0].colour",
    }
    assert "'amd'" in found["amd"]


def test_cross_field_rules() -> None:
    found = problems(
        {
            **BASE,
            "dialing": {
                "abandon_target": 0.03,
                "abandon_cap": 0.02,
                "machine_action": "leave_message",
            },
        }
    )
    assert set(found) == {
        "dialing.abandon_target",
        "dialing.machine_action",
        "dialing.machine_prompt",
    }


def test_record_calls_is_on_by_default_and_round_trips() -> None:
    assert rules.parse_campaign(BASE).dialing.record_calls is True  # call centres record for QA
    for on in (True, False):
        spec, found = dialing.parse_dialing({"record_calls": on})
        assert found == [] and spec.record_calls is on
        again, found = dialing.parse_dialing(dialing.dialing_to_dict(spec))
        assert found == [] and again == spec
    spec, found = dialing.parse_dialing({"record_call": False})  # a typo is refused, not dropped
    assert [f for f, _ in found] == ["dialing.record_call"] and spec.record_calls is True


def test_readme_holds_the_defaults_table() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert dialing.defaults_table() in readme


def test_trunk_capacity_is_configured() -> None:
    assert config.load({}).sip_max_lines == 100
    assert config.load({"OUTDIAL_SIP_MAX_LINES": "240"}).sip_max_lines == 240


ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def test_every_dialing_field_round_trips_file_api_show(
    aiohttp_client: ClientFactory,
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(EVERY_FIELD, encoding="utf-8")
    from_file = files.read(path)
    body = files.parse_text(path.read_text(encoding="utf-8"), ".toml")
    auth.create_user(engine, "boss", "password-1", "manager")
    client = await aiohttp_client(
        create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path)}), engine)
    )
    token = auth.create_token(engine, "boss", "t")[1]
    resp = await client.post(
        "/api/campaigns", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 201, await resp.text()
    cid = (await resp.json())["campaign"]["id"]
    bad = await client.post(
        "/api/campaigns",
        json={**body, "name": "x", "dialing": {"ratio": 2}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status == 400 and (await bad.json())["problems"][0]["field"] == "dialing.ratio"

    capsys.readouterr()
    main(["--database-url", db_url, "campaigns", "show", str(cid), "--json"])
    shown = json.loads(capsys.readouterr().out)["definition"]
    assert shown["dialing"] == body["dialing"]  # every field, as written in the file
    assert rules.parse_campaign(shown) == from_file
    main(["--database-url", db_url, "campaigns", "show", str(cid)])
    text = capsys.readouterr().out
    assert "machine_action" in text and "leave_message" in text and "240" in text
