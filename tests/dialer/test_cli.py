from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from dialer.cli import register


def _group() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    register(root)
    return root


def _write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return str(path)


SCENARIO = {"name": "tiny", "phases": [{"until": 900, "agents": 3, "p_human": 0.3}]}


def test_simulate_json(tmp_path: Path) -> None:
    path = _write(tmp_path, [SCENARIO, {**SCENARIO, "name": "tiny2"}])
    result = CliRunner().invoke(
        _group(), ["simulate", "--scenario", path, "--seeds", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["scenario"] for s in data["scenarios"]] == ["tiny", "tiny2"]
    first = data["scenarios"][0]
    assert first["seeds"] == [0, 1]
    assert 0.0 <= first["talk_share"] <= 1.0 and first["contacts_per_agent_hour"] > 0


def test_simulate_table_single_object_progressive(tmp_path: Path) -> None:
    path = _write(tmp_path, SCENARIO)
    result = CliRunner().invoke(
        _group(), ["simulate", "--scenario", path, "--seeds", "1", "--mode", "progressive"]
    )
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output and "talk share" in result.output


def test_simulate_bad_file_one_line_error(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "bad", "phases": []})
    result = CliRunner().invoke(_group(), ["simulate", "--scenario", path])
    assert result.exit_code != 0
    assert "bad" in result.output and "Traceback" not in result.output
