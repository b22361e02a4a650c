"""`outdial amd samples` and `outdial amd mark` as a supervisor runs them (rule 19)."""

from __future__ import annotations

import json
from pathlib import Path

import dialdata
import pytest
from click.testing import CliRunner

from outdial import migrate, storage
from outdial.cli import cli
from outdial.errors import InvalidInput


def invoke(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--database-url", db, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_list_then_mark_the_samples(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'o.db'}"
    engine = storage.make_engine(db)
    migrate.upgrade(engine)
    _, sampled = dialdata.amd_campaign(engine, live=2, machines=10, sampled=2)
    code, out = invoke(db, "amd", "samples", "--campaign", "uk-amd")
    assert code == 0, out
    assert all(call in out for call in sampled) and "not marked" in out
    assert "the UK gauge uses 2.4%" in out  # the lab rate, until marks exist

    code, out = invoke(db, "amd", "mark", sampled[0], "person", "--by", "lee", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["estimate"]["persons"] == 1 and data["estimate"]["pending"] == 1
    code, out = invoke(db, "amd", "samples", "--campaign", "uk-amd", "--json")
    assert [s["call_id"] for s in json.loads(out)["samples"]] == [sampled[1]]

    code, out = invoke(db, "amd", "mark", sampled[1], "perhaps")
    assert code == 2 and "person" in out  # click names the choices
    with pytest.raises(InvalidInput, match="not a sampled machine verdict"):
        invoke(db, "amd", "mark", "c0", "person")
