"""campaigns/toml_text.py: a definition written as TOML reads back unchanged."""

from __future__ import annotations

import tomllib

from campaigns import rules, toml_text


def test_toml_text_reads_back_to_the_same_definition() -> None:
    spec = rules.parse_campaign(
        {
            "name": 'q "x" 春',
            "caller_id": "+8610010000",
            "script": "您好 {name}\n\\ end",
            "schedule": {"mon": ["09:00-12:00"]},
        }
    )
    data = rules.spec_to_dict(spec)
    assert tomllib.loads(toml_text.dumps(data)) == data
