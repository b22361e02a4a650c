"""`outdial prompts add|list|remove` through the real entry point (``main``)."""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path
from typing import Any

import pytest

from campaigns import cli_prompts, survey_store, surveys
from outdial import config, storage
from outdial.cli import cli as root_group
from outdial.cli import main


def _wav(path: Path, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", (i % 40) * 500) for i in range(rate)))
    return path


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def run(self, args: list[str], ok: bool = True) -> tuple[str, str]:
        self.capsys.readouterr()
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        assert (code == 0) is ok, err
        return out, err

    def js(self, args: list[str]) -> Any:
        return json.loads(self.run([*args, "--json"])[0])


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    if "prompts" not in root_group.commands:  # until the lead registers campaigns.cli_prompts
        cli_prompts.register(root_group)
    monkeypatch.setenv("OUTDIAL_DATA_DIR", str(tmp_path))
    c = Cli(capsys)
    c.run(["db", "upgrade"])
    c.run(["campaigns", "create", "rv", "--caller-id", "+861099999999"])
    return c


def test_add_list_remove_campaign_and_survey_prompts(cli: Cli, tmp_path: Path) -> None:
    good = _wav(tmp_path / "sh.wav")
    added = cli.js(["prompts", "add", str(good), "--campaign", "rv", "--name", "safe_harbor"])
    assert Path(added["path"]).parent.name.startswith("campaign.") and added["seconds"] == 1.0
    assert [p["name"] for p in cli.js(["prompts", "list", "--campaign", "rv"])] == ["safe_harbor"]

    engine = storage.make_engine(storage.database_url(config.load()))
    survey_store.save_survey(engine, surveys.SEED_TEMPLATE)  # no CLI command saves one yet
    engine.dispose()
    survey = ["--survey", "seed_satisfaction"]
    out, _ = cli.run(["prompts", "add", str(good), *survey, "--name", "thanks", "--lang", "en"])
    assert out.startswith("stored thanks (1.00 s)")
    assert (tmp_path / "prompts" / "seed_satisfaction" / "en" / "thanks.wav").exists()
    out, _ = cli.run(["prompts", "list", *survey])
    assert "thanks" in out and "[en]" in out
    removed = cli.js(["prompts", "remove", *survey, "--name", "thanks"])["removed"]
    assert len(removed) == 1 and not Path(removed[0]).exists()
    assert cli.js(["prompts", "list", *survey]) == []


def test_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    loud = _wav(tmp_path / "cd.wav", rate=44100)
    _, err = cli.run(
        ["prompts", "add", str(loud), "--campaign", "rv", "--name", "safe_harbor"], ok=False
    )
    assert err.strip() == (
        "outdial: error: sample rate 44100 Hz: use 8000 Hz mono 16-bit PCM (16000 Hz also accepted)"
    )
    _, err = cli.run(["prompts", "list"], ok=False)
    assert "exactly one of --campaign NAME or --survey NAME" in err
    _, err = cli.run(["prompts", "remove", "--campaign", "rv", "--name", "nope"], ok=False)
    assert "has no uploaded prompt 'nope'" in err
