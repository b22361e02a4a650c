"""A real `outdial serve` killed with SIGKILL during a bridged call, then started again
(issue 16 item 5), over real SIP: SIPp is the carrier behind the trunk (the customer answers,
tests/dialer/scenarios/carrier.xml) and the agent's auto-answering softphone.

The SIP workers of the killed server exit by themselves. After the kill, before the restart,
`outdial campaign status` says the campaign is not running (no stale ``running``, no call in
flight, no agent talking). After the restart the campaign runs
again by itself, the log says what was resumed, the bridged call is recorded as connected then
dropped, owned by its agent, ended no later than the kill (not at the restart), has its audit
outcome, its record waits for the agent's disposition (not redialed), and the agent, logged back
in, sets that disposition (no 403) and is ready again. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dialdata
import pytest
import sqlalchemy as sa
from dialdata import rows
from serverctl import Server, free_tcp_port, wait_for
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from campaigns import prompts, rules
from campaigns import store as campaigns
from compliance import store
from outdial import auth
from outdial.models import as_utc
from outdial.roles import Role
from sip.pcap import write_all

pytestmark = [pytest.mark.sip, pytest.mark.slow]

SCENARIOS = Path(__file__).parent / "scenarios"
CALLER_ID = "+8610010000"
CUSTOMER = "+8613800100000"  # carrier.xml: +86138001... answers and talks for 6 s


def ts(value: datetime | str) -> datetime:
    """A timestamp from raw SQL (SQLite gives text, PostgreSQL an aware datetime), in UTC."""
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def test_sigkill_mid_call_then_restart(engine: Engine, db_url: str, tmp_path: Path) -> None:
    db = engine
    zone = dialdata.afternoon_zone(datetime.now(UTC))  # rule 28 calling hours, any time
    cid = dialdata.campaign_with_contacts(db, "restart", [CUSTOMER])
    campaigns.save_spec(
        db,
        rules.parse_campaign(
            {
                "name": "restart",
                "mode": "progressive",
                "caller_id": CALLER_ID,
                "safe_harbor_prompt": "safe_harbor",  # rules 4, 20
            }
        ),
    )
    owner = prompts.resolve_owner(db, "campaign", str(cid))  # outdial prompts add, by name
    prompts.store(tmp_path, owner, "safe_harbor", Path(dialdata.safe_harbor()))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET timezones = :z"), {"z": f'["{zone}"]'})
    store.consent_record(
        db, CUSTOMER, "granted", evidence="e2e", at=datetime.now(UTC) - timedelta(1)
    )
    auth.create_user(db, "boss", "password-1", Role.MANAGER)
    boss = auth.create_token(db, "boss", "t")[1]

    workdir = write_all(tmp_path / "sipp")
    carrier = SippPeer(SCENARIOS / "carrier.xml", workdir, calls=1, timeout=120)
    softphone = SippPeer(SCENARIOS / "agent.xml", workdir, calls=5, timeout=120)
    agent = auth.create_user(db, "li", "password-1", Role.AGENT, sip_uri=softphone.uri("li"))
    assert agent.id is not None
    li = auth.create_token(db, "li", "t")[1]
    env = {
        **os.environ,
        "OUTDIAL_DATA_DIR": str(tmp_path),
        "OUTDIAL_DATABASE_URL": db_url,
        "OUTDIAL_PORT": str(free_tcp_port()),
        "OUTDIAL_ADMIN_PASSWORD": "admin-pass-1",
        "OUTDIAL_SIP_TRUNK": f"127.0.0.1:{carrier.port}",
        "OUTDIAL_OWNED_NUMBERS": CALLER_ID,
        "OUTDIAL_LOG_FORMAT": "json",
    }
    servers: list[Server] = []
    try:
        time.sleep(0.3)  # let SIPp bind
        first = Server(env, tmp_path / "first.log")
        servers.append(first)
        status, body = first.call("POST", f"/api/campaigns/{cid}/start", boss, {})
        assert status == 200 and body["campaign"]["status"] == "running", body
        status, body = first.call("POST", "/api/agent/login", li, {"campaign_id": cid})
        assert status == 200 and body["agent"]["state"] == "ready", body

        def bridged() -> Any:
            found = rows(
                db,
                "SELECT call_id, bridged_at FROM attempts WHERE bridged_at IS NOT NULL"
                " AND agent_user_id IS NOT NULL",
            )
            return found[0] if found else None

        call_id, bridged_at = wait_for("the customer bridged to the agent", bridged)
        (owner,) = rows(db, "SELECT agent_user_id FROM attempts WHERE call_id = :c", c=call_id)
        assert owner[0] == agent.id  # the call is the agent's from the bridge on
        first.proc.kill()  # kill -9 of the server process alone
        first.proc.wait(timeout=30)
        killed_at = datetime.now(UTC)
        wait_for("its SIP workers to exit by themselves", lambda: not first.group_alive())

        # --- dead: the status says what is true now --------------------------------------
        st = subprocess.run(
            [sys.executable, "-m", "outdial", "campaign", "status", "restart", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert st.returncode == 0, st.stderr
        dead = json.loads(st.stdout)
        assert dead["status"] == "interrupted", dead
        assert dead["calls_in_flight"] == 0 and dead["unresolved_calls"] == 1
        assert dead["agents_by_state"] == {} and dead["agents_to_resume"] == 1
        assert dead["resume"]["desired"] == "running"

        # --- restarted: the campaign runs again by itself -------------------------------
        time.sleep(1.0)  # the recovery must not date the call by the restart
        second = Server(env, tmp_path / "second.log")
        servers.append(second)

        lines = wait_for(
            "the log of what was resumed",
            lambda: (
                [
                    json.loads(line)
                    for line in (tmp_path / "second.log").read_text().splitlines()
                    if "campaign resumed after a restart" in line or "campaign started" in line
                ]
                if "campaign resumed after a restart" in (tmp_path / "second.log").read_text()
                else None
            ),
            timeout=60,
        )
        started, said = lines
        assert said["event"] == "campaign resumed after a restart" and said["campaign"] == cid
        assert started["dropped_calls"] == [call_id] and started["agents_resumed"] == [agent.id]
        code, data = second.call("GET", f"/api/campaigns/{cid}/status", boss)
        now = data["campaign"]
        assert code == 200 and now["status"] == "running" and now["running_here"]

        att = rows(
            db,
            "SELECT state, final, sip_outcome, agent_user_id, ended_at, reason FROM attempts"
            " WHERE call_id = :c",
            c=call_id,
        )[0]
        assert att.final and att.state == "completed" and att.sip_outcome == "dropped", att
        assert att.agent_user_id == agent.id
        ended = ts(att.ended_at)
        assert ts(bridged_at) <= ended <= killed_at  # not the restart's time
        (contact,) = rows(db, "SELECT status, attempts, next_due_at FROM contacts")
        assert contact.status == "wrap" and contact.attempts == 1  # the agent's, not redialed
        outcomes = [
            json.loads(b)["call_id"]
            for (b,) in rows(db, "SELECT body FROM audit_log WHERE kind = 'outcome'")
        ]
        assert outcomes == [call_id]  # the decision has its outcome, once
        assert store.audit_verify(db).intact

        # --- the agent is back, in the wrap-up of the cut call, and disposes it ------------
        (me,) = now["agents"]
        assert me["user_id"] == agent.id and me["state"] == "wrap" and me["call_id"] == call_id
        assert me["sip_uri"] == softphone.uri("li")
        status, body = second.call("POST", "/api/agent/pause", li, {"reason": "break"})
        assert status == 409 and body["error"] == "disposition_owed", body  # the call is owed
        assert body["call_id"] == call_id
        status, body = second.call(
            "POST", "/api/agent/disposition", li, {"call_id": call_id, "code": "success"}
        )
        assert status == 200, body
        assert body["disposition"]["agent"]["state"] == "ready"
        (contact,) = rows(db, "SELECT status FROM contacts")
        assert contact.status == "done"
        (dispo,) = rows(db, "SELECT disposition FROM attempts WHERE call_id = :c", c=call_id)
        assert dispo[0] == "success"
    finally:
        for server in servers:
            server.kill_group(signal.SIGTERM)
            try:
                server.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill_group(signal.SIGKILL)
        for peer in (carrier, softphone):
            peer.kill()
