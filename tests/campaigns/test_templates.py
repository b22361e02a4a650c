"""`outdial campaigns new`: every template loads through the parser and the JSON Schema."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import jsonschema
import pytest

from campaigns import files, rules, schema, templates

VALID = [
    (kind, mode.value)
    for kind in templates.KINDS
    for mode in rules.Mode
    if mode is not rules.Mode.AGENTLESS or kind == "survey"
]


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


@pytest.mark.parametrize(("kind", "mode"), VALID)
def test_each_template_validates(kind: str, mode: str) -> None:
    text = templates.render(kind, mode)
    data = tomllib.loads(text)
    jsonschema.Draft202012Validator(schema.campaign_schema()).validate(_jsonable(data))
    spec = files.definition(data)
    assert spec.mode.value == mode
    assert spec.schedule[5:] == ((), ())  # weekdays only
    assert all(spec.schedule[:5])
    assert any("回呼" in d.label for d in spec.dispositions)
    assert spec.safe_harbor_prompt == "safe_harbor" and spec.purpose == "service"
    assert set(data["dialing"]) | {"max_lines"} >= {"ring_timeout", "amd", "wrap_up_limit"}
    assert "# max_lines" in text  # shown, commented: absent means the trunk's capacity
    assert spec.pause_reasons == rules.DEFAULT_PAUSE_REASONS  # shown with the defaults


def test_kinds_and_default_modes() -> None:
    kinds = {k: files.definition(tomllib.loads(templates.render(k))) for k in templates.KINDS}
    assert kinds["survey"].kind is rules.Kind.SATISFACTION_SURVEY
    assert kinds["survey"].mode is rules.Mode.AGENTLESS
    assert kinds["callback"].mode is rules.Mode.PREVIEW
    assert kinds["order_verification"].webhook_url.startswith("https://")
