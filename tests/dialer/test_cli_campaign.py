"""`outdial campaign status NAME` reads attempts, agents and the pacer's persisted decisions
from the database, through the real entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dialdata
import pytest
from sqlalchemy.engine import Engine

from dialer import hopper, sessions
from dialer import status as dbstatus
from dialer.pacing import Decision
from outdial import auth
from outdial.cli import main
from outdial.roles import Role


def test_campaign_status_json(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, now = sqlite_engine, datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    cid = dialdata.campaign_with_contacts(engine, "r5", ["+8613800000011", "+8613800000022"])
    lead = hopper.claim(engine, cid, 1, now)[0]
    hopper.open_attempt(engine, "c1", cid, lead, "n1", now)
    user = auth.create_user(engine, "a1", "password-1", Role.AGENT)
    assert user.id is not None
    sessions.open_session(engine, user.id, cid, "sip:a1@127.0.0.1")
    sessions.set_state(engine, user.id, "paused", "coffee", now)
    decision = Decision(
        at=5.0, mode="progressive", calls=0, ready=0, busy=1, ringing=1, waiting=0,
        hit_rate=0.25, machine_share=0.1, expected_live=0.2, expected_free=0.0,
        abandon_gauge=0.0, threshold=0.006, reason="No agent is ready.",
    )  # fmt: skip
    dbstatus.persist_decision(engine, cid, decision, now)

    url = f"sqlite:///{tmp_path / 'outdial.db'}"
    capsys.readouterr()
    main(["--database-url", url, "campaign", "status", "r5", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "r5" and data["calls_in_flight"] == 1
    assert data["attempts_by_state"] == {"dialing": 1}
    assert data["agents_by_state"] == {"paused": 1}
    assert data["records_by_status"] == {"dialing": 1, "new": 1}
    assert data["records_remaining"] == 2
    (last,) = data["decisions"]
    assert last["calls"] == 0 and last["reason"] == "No agent is ready."
    assert last["ready_agents"] == 0 and last["busy_agents"] == 1

    main(["--database-url", url, "campaign", "status", str(cid)])
    text = capsys.readouterr().out
    assert "place 0. No agent is ready." in text and "agents: paused 1" in text
    with pytest.raises(SystemExit) as failed:
        main(["--database-url", url, "campaign", "status", "nope"])
    assert failed.value.code == 2


def test_campaign_control_goes_through_the_running_server(tmp_path: Path) -> None:
    """`outdial campaign start|pause NAME` asks the running server over its API; the server's
    refusal (here: no caller ID, rules 11/23/27; a campaign not running) comes back in one line."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from outdial import migrate, storage

    db = tmp_path / "outdial.db"
    engine = storage.make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    dialdata.campaign_with_contacts(engine, "ctl", ["+8613800000011"])
    auth.create_user(engine, "boss", "password-1", Role.MANAGER)
    token = auth.create_token(engine, "boss", "cli")[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "OUTDIAL_DATA_DIR": str(tmp_path),
        "OUTDIAL_PORT": str(port),
        "OUTDIAL_ADMIN_PASSWORD": "admin-pass-1",
        "OUTDIAL_TOKEN": token,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "outdial", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        run = [sys.executable, "-m", "outdial", "campaign"]
        started = subprocess.run(
            [*run, "start", "ctl"], env=env, capture_output=True, text=True, timeout=60
        )
        assert started.returncode == 2
        assert "the server refused" in started.stderr and "caller ID" in started.stderr
        paused = subprocess.run(
            [*run, "pause", "ctl", "--json"], env=env, capture_output=True, text=True, timeout=60
        )
        assert paused.returncode == 2 and "not running" in paused.stderr
        bad = subprocess.run(
            [*run, "start", "ctl", "--token", "od_wrong"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "unknown or revoked API token" in bad.stderr
        # issue 16.10: no token needed, like every other command; a one-use token is made
        # for an admin (the server made one at its first start), else a manager; revoked at once
        own = {k: v for k, v in env.items() if k != "OUTDIAL_TOKEN"}
        tokenless = subprocess.run(
            [*run, "start", "ctl"], env=own, capture_output=True, text=True, timeout=60
        )
        assert tokenless.returncode == 2 and "caller ID" in tokenless.stderr
        made = [(t.name, t.revoked_at, u) for t, u in auth.list_tokens(engine)]
        assert [(u, r is not None) for n, r, u in made if n == "cli: campaign start"] == [
            ("admin", True)
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_campaign_status_text_says_why_and_that_its_server_is_gone(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: the reasons come first, in words, before the counts."""
    from campaigns import rules
    from campaigns import store as campaigns
    from dialer import recovery

    engine, now = sqlite_engine, datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    cid = dialdata.campaign_with_contacts(engine, "later", ["+8613800000011"])
    spec = {"name": "later", "caller_id": "+8610010000", "active_from": "2099-01-07",
            "schedule": {"wed": ["09:00-18:00"]}}  # fmt: skip
    campaigns.save_spec(engine, rules.parse_campaign(spec))
    dbstatus.set_campaign_status(engine, cid, "running")
    recovery.desire(engine, cid, "running", "n1", now)  # no heartbeat: its server is gone

    capsys.readouterr()
    main(["--database-url", f"sqlite:///{tmp_path / 'outdial.db'}", "campaign", "status", "later"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"campaign {cid} later: interrupted (progressive)"
    assert lines[1].startswith("  not running: the server that ran it stopped")
    assert lines[2] == (
        "  not dialing: outside the schedule — next window Wed 2099-01-07 09:00 Asia/Shanghai"
    )
    assert "pacer: no decision recorded yet" not in "\n".join(lines)


def test_campaign_status_counts_simulated_calls_apart(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17: the simulated carrier's calls are never in the real figures."""
    engine, now = sqlite_engine, datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    numbers = ["+8613800000011", "+8613800000022", "+8613800000033"]
    cid = dialdata.campaign_with_contacts(engine, "mixed", numbers)
    real, *sims = hopper.claim(engine, cid, 3, now)
    hopper.open_attempt(engine, "real-1", cid, real, "n1", now)
    for i, lead in enumerate(sims):
        hopper.open_attempt(engine, f"sim-{i}", cid, lead, hopper.simulated_node("n1"), now)

    url = f"sqlite:///{tmp_path / 'outdial.db'}"
    capsys.readouterr()
    main(["--database-url", url, "campaign", "status", "mixed", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["attempts_by_state"] == {"dialing": 1}  # the real call alone
    assert data["simulated"]["attempts_by_state"] == {"dialing": 2}
    assert data["calls_in_flight"] == 3  # every line in use, whoever answers it
    main(["--database-url", url, "campaign", "status", "mixed"])
    text = capsys.readouterr().out
    assert "  attempts: dialing 1\n" in text
    assert "SIMULATED calls (the simulated carrier; not real calls, not counted above)" in text
    assert "    attempts: dialing 2\n" in text
