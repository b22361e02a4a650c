"""`outdial reports kpi` as a user runs it: JSON out, exports written, bad input exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from outdial.cli import main


def _run(args: list[str], url: str) -> int:
    try:
        main(["--database-url", url, *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_kpi_json_and_csv(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    timeline.build(sqlite_engine)
    url = str(sqlite_engine.url)
    args = ["reports", "kpi", "--from", "2026-12-01", "--to", "2026-12-01", "--interval", "day"]
    assert _run([*args, "--by", "agent", "--kpi", "dials,aht", "--json"], url) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["agent"]: r["dials"] for r in out["rows"]} == {"wang": 2, "": 3}
    assert _run([*args, "--csv", str(tmp_path / "r.csv"), "--lang", "zh-CN"], url) == 0
    head = (tmp_path / "r.csv").read_text("utf-8-sig").splitlines()[0]
    assert head.startswith("时段,呼出量,接通率")


def test_include_simulated_flag(sqlite_engine: Engine, capsys: pytest.CaptureFixture) -> None:
    """Issue 17: the simulated carrier's calls and agent sim01 only with the flag."""
    timeline.build_simulated(sqlite_engine)
    url = str(sqlite_engine.url)
    args = ["reports", "kpi", "--from", "2026-12-01", "--to", "2026-12-01", "--interval", "day"]
    args += ["--by", "agent", "--kpi", "dials,talk_time", "--json"]
    assert _run(args, url) == 0
    real = {r["agent"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert _run([*args, "--include-simulated"], url) == 0
    both = {r["agent"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert set(real) == {"wang", ""} and set(both) == {"wang", "", "sim01"}
    assert (both["sim01"]["dials"], both["sim01"]["talk_time"]) == (1, 120)
    assert both["wang"] == real["wang"]


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--from", "2026-12-02", "--to", "2026-12-01"], "before"),
        (["--from", "2025-01-01", "--to", "2026-12-01"], "400 days"),
        (["--from", "2026-12-01", "--to", "2026-12-01", "--kpi", "joy"], "joy"),
        (["--from", "2026-12-01", "--to", "2026-12-01", "--by", "planet"], "planet"),
    ],
)
def test_bad_input_one_line_exit_2(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture, extra: list[str], word: str
) -> None:
    assert _run(["reports", "kpi", *extra], str(sqlite_engine.url)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err
