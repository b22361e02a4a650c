"""The simulated call centre end to end (issue 17): `outdial serve` with no trunk starts the
simulated carrier (real SIP over loopback, sip/simcarrier.py), `outdial demo` makes the three
sample campaigns and ten simulated agents, each campaign is started with the CLI, and every
record ends with a result: its attempt ended, answered calls carry the simulated agent's
disposition, the survey's answers were keyed in (RFC 4733) to its shipped prompts (no espeak-ng or
sox on the PATH), every attempt is marked simulated.
`outdial demo --reset` removes it all.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from serverctl import OUTDIAL, Server, free_tcp_port

from outdial.demo import CAMPAIGNS

pytestmark = [pytest.mark.sip, pytest.mark.slow]

# per campaign: with 4, all four survey customers once missed (busy, failed, refused)
ROWS = 8
FAST = {  # quick callers, so one pass over the lists takes seconds
    "name": "test",
    "customers": {"p_refuse": 0.1, "p_callback": 0.1, "keys_after": 0.5, "keys_every": 1.5},
    "phases": [
        {
            "until": 3600,
            "agents": 10,
            "p_human": 0.8,
            "p_busy": 0.1,
            "p_fail": 0.1,
            "ring_mean": 1.0,
            "talk_mean": 4.0,
            "talk_cv": 0.2,
        }
    ],
}


def outdial(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [OUTDIAL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"outdial {' '.join(args)}: {done.stderr}{done.stdout}"
    return done.stdout


def test_sample_campaigns_of_each_kind_dial_the_simulated_carrier_to_a_result(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps([FAST]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTDIAL_")}
    env |= {
        "OUTDIAL_DATA_DIR": str(data),
        "OUTDIAL_PORT": str(free_tcp_port()),
        "OUTDIAL_ADMIN_PASSWORD": "admin-pass-1",
        "OUTDIAL_SIM_SCENARIO": str(scenario),
        "OUTDIAL_LOG_FORMAT": "json",
        "PATH": _path_without_tts(tmp_path / "bin"),  # the survey's prompts are shipped
    }
    outdial(env, "db", "upgrade")
    made = json.loads(outdial(env, "demo", "--rows", str(ROWS), "--json"))
    assert [c["imported"] for c in made["campaigns"]] == [ROWS] * 3
    assert len(made["agents"]) == 10
    server = Server(env, tmp_path / "serve.log", [OUTDIAL, "serve"])
    try:
        log = (tmp_path / "serve.log").read_text()
        assert "SIMULATED CARRIER" in log and "no real calls" in log
        for c in CAMPAIGNS:
            outdial(env, "campaign", "start", c.name)
        rows = _wait_for_results(data / "outdial.db", deadline=time.monotonic() + 180)
    finally:
        server.stop()
    kinds = {r[0] for r in rows}
    assert kinds == {"return_visit", "order_verification", "satisfaction_survey"}
    for kind, contact, outcome, bridged, disposition, simulated in rows:
        assert outcome, f"{kind} record {contact} has an attempt without a result"
        assert simulated == 1
        if bridged:  # an agent took it and set its result
            assert disposition, f"{kind} record {contact}: bridged, no disposition"
    with sqlite3.connect(data / "outdial.db") as db:
        (answers,) = db.execute("SELECT count(*) FROM survey_answers").fetchone()
    assert answers > 0, "no survey answer was keyed in"
    # the IVR's synthesized prompts carry their text's digest (dialer/ivr.py PromptCache)
    made_here = [w for w in data.glob("prompts/**/*.wav") if re.search(r"-[0-9a-f]{12}$", w.stem)]
    assert not made_here, "a survey prompt was synthesized"

    gone = json.loads(outdial(env, "demo", "--reset", "--json"))
    assert gone["campaigns"] == 3 and gone["agents"] == 10
    with sqlite3.connect(data / "outdial.db") as db:
        assert db.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM users WHERE username LIKE 'sim%'").fetchone() == (
            0,
        )


def _path_without_tts(folder: Path) -> str:
    """A PATH with every program of this one but espeak-ng and sox (as on a machine without
    those Debian packages)."""
    folder.mkdir()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        for exe in Path(d).glob("*") if d and Path(d).is_dir() else ():
            if exe.name not in ("espeak-ng", "espeak", "sox") and not (folder / exe.name).exists():
                (folder / exe.name).symlink_to(exe)
    return str(folder)


def _wait_for_results(path: Path, deadline: float) -> list[tuple[object, ...]]:
    """Every contact of every campaign has an ended attempt, bridged ones are disposed, and
    a survey customer keyed in an answer."""
    query = """
        SELECT c.kind, k.id, a.sip_outcome, a.bridged_at, a.disposition, a.simulated
        FROM contacts k JOIN campaigns c ON c.id = k.campaign_id
        LEFT JOIN attempts a ON a.contact_id = k.id
    """
    rows: list[tuple[object, ...]] = []
    pending: list[tuple[object, ...]] = []
    answers = 0
    while time.monotonic() < deadline:
        with sqlite3.connect(path) as db:
            rows = db.execute(query).fetchall()
            (answers,) = db.execute("SELECT count(*) FROM survey_answers").fetchone()
        pending = [r for r in rows if not r[2] or (r[3] and not r[4])]
        if rows and not pending and len({r[1] for r in rows}) == ROWS * 3 and answers:
            return rows
        time.sleep(1.0)
    raise AssertionError(f"after 180 s: records without a result {pending}, {answers} answers")
