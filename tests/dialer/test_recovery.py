"""dialer/recovery.py on SQLite and PostgreSQL: what a dead engine left open is closed by the
best evidence of when it ended, every decision gets its outcome, a status is true now, and
the pacer relearns from recent attempts (issue 16 item 5)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import dialdata
from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns.rules import RetryPolicy
from compliance import store as compliance
from dialer import hopper, recovery, sessions
from dialer import status as dbstatus
from dialer.actions import Lead
from dialer.models import Attempt, StateChange
from dialer.pacing import Pacer, PacerConfig, PastCall, View
from lists.models import Contact
from outdial import auth
from outdial.models import as_utc
from outdial.roles import Role
from outdial.storage import session_scope

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NODE = "n1"


class Sink:
    """The compliance gate's outcome half, recording what recovery audits."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[hopper.Finished, Lead, datetime]] = []

    def record_outcome(self, finished: hopper.Finished, lead: Lead, at: datetime) -> None:
        self.outcomes.append((finished, lead, at))


def attempt(
    engine: Engine, cid: int, call_id: str, events: list[tuple[str, datetime]], **cols: Any
) -> Lead:
    """An attempt dialed at T0 whose call went through ``events`` (target state, at)."""
    [lead] = hopper.claim(engine, cid, 1, T0, node=NODE)
    hopper.open_attempt(engine, call_id, cid, lead, NODE, T0)
    with session_scope(engine) as s:
        att = s.exec(select(Attempt).where(Attempt.call_id == call_id)).one()
        for target, at in events:
            s.add(StateChange(at=at, campaign_id=cid, machine="call", entity=call_id,
                              source="x", event="e", target=target))  # fmt: skip
            att.state = target
        for k, v in cols.items():
            setattr(att, k, v)
        s.add(att)
    return lead


def row(engine: Engine, call_id: str) -> Attempt:
    with session_scope(engine) as s:
        return s.exec(select(Attempt).where(Attempt.call_id == call_id)).one()


def contact(engine: Engine, contact_id: int) -> Contact:
    with session_scope(engine) as s:
        c = s.get(Contact, contact_id)
        assert c is not None
        return c


def test_a_crash_is_closed_by_evidence_not_by_the_restart(engine: Engine) -> None:
    numbers = ["+8613800000301", "+8613800000302", "+8613800000303"]
    cid = dialdata.campaign_with_contacts(engine, "crash", numbers)
    agent = auth.create_user(engine, "wang", "password-1", Role.AGENT)
    assert agent.id is not None
    sec = [T0 + timedelta(seconds=n) for n in range(10)]
    talk = attempt(engine, cid, "talk", [("ringing", sec[2]), ("bridged", sec[9])],
                   answered_at=sec[8], bridged_at=sec[9])  # fmt: skip
    with session_scope(engine) as s:  # who took it: only the agent machine's trail says so
        s.add(StateChange(at=T0 + timedelta(seconds=9), campaign_id=cid, machine="agent",
                          entity=str(agent.id), source="reserved", event="connect",
                          target="talk", reason="talk"))  # fmt: skip
    ring = attempt(engine, cid, "ring", [("ringing", T0 + timedelta(seconds=3))])
    attempt(engine, cid, "wait", [("waiting_for_agent", T0 + timedelta(seconds=6))],
                   answered_at=T0 + timedelta(seconds=6))  # fmt: skip
    heartbeat = T0 + timedelta(seconds=40)  # the engine was alive then; the talk went on
    recovery.started(engine, cid, NODE, T0 - timedelta(minutes=1))
    recovery.beat(engine, [cid], heartbeat)
    with session_scope(engine) as s:  # a dial decided, then the crash before its attempt row
        compliance.audit(s, "decision", {"call_id": "lost", "campaign_id": cid,
                                         "number": "+8613800000399", "allowed": True},
                         T0 + timedelta(seconds=30))  # fmt: skip
        compliance.audit(s, "decision", {"call_id": "nope", "campaign_id": cid,
                                         "number": "+8613800000398", "allowed": False},
                         T0 + timedelta(seconds=31))  # fmt: skip
    restart = T0 + timedelta(hours=1)
    sink = Sink()

    closed = recovery.close_after_crash(engine, sink, cid, RetryPolicy(), restart, NODE)

    assert sorted(r.finished.call_id for r in closed) == ["ring", "talk", "wait"]
    t = row(engine, "talk")  # connected, then dropped; the agent's; ended at the heartbeat
    assert (t.final, t.state, t.sip_outcome, t.agent_user_id) == (
        True, "completed", "dropped", agent.id,
    )  # fmt: skip
    assert t.ended_at is not None and as_utc(t.ended_at) == heartbeat
    assert contact(engine, talk.contact_id).status == "wrap"  # waits for the disposition
    r = row(engine, "ring")  # unanswered: failed at its last event, retried from then
    assert r.state == "failed" and r.ended_at is not None
    assert as_utc(r.ended_at) == T0 + timedelta(seconds=3)
    c = contact(engine, ring.contact_id)
    assert c.status == "retry" and c.next_due_at is not None
    assert as_utc(c.next_due_at) == T0 + timedelta(seconds=3 + 1800)  # failure: 30 min
    w = row(engine, "wait")  # a live answer no agent took: abandoned (rule 3)
    assert w.state == "abandoned" and w.abandoned and w.ended_at is not None
    assert as_utc(w.ended_at) == T0 + timedelta(seconds=6)
    audited = {f.call_id: (f.sip_outcome, at) for f, _, at in sink.outcomes}
    assert audited == {
        "talk": ("dropped", heartbeat),
        "ring": ("engine_restart", T0 + timedelta(seconds=3)),
        "wait": ("dropped", T0 + timedelta(seconds=6)),
        "lost": ("not_placed", T0 + timedelta(seconds=30)),
    }

    # the agent's disposition of the dropped call is theirs to set (no 403 path)
    hopper.record_disposition(engine, "talk", "success", True, None, "", restart)
    assert contact(engine, talk.contact_id).status == "done"


def test_status_is_true_now_while_the_engine_is_gone(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "gone", ["+8613800000311"])
    attempt(engine, cid, "c1", [("ringing", T0)])
    user = auth.create_user(engine, "zhao", "password-1", Role.AGENT)
    assert user.id is not None
    sessions.open_session(engine, user.id, cid, "sip:zhao@127.0.0.1")
    sessions.set_state(engine, user.id, "talk", "", T0)
    dbstatus.set_campaign_status(engine, cid, "running")
    recovery.desire(engine, cid, "running", NODE, T0)
    recovery.started(engine, cid, NODE, T0)  # this process's pid

    live = dbstatus.db_status(engine, cid, T0 + timedelta(seconds=5))
    assert live["status"] == "running" and live["calls_in_flight"] == 1
    assert live["agents_by_state"] == {"talk": 1}

    gone = dbstatus.db_status(engine, cid, T0 + recovery.STALE_AFTER + timedelta(seconds=1))
    assert gone["status"] == "interrupted" and gone["calls_in_flight"] == 0
    assert gone["unresolved_calls"] == 1 and gone["agents_to_resume"] == 1
    assert gone["agents_by_state"] == {} and gone["resume"]["desired"] == "running"
    assert "resumes (running) when `outdial serve` starts" in gone["interrupted"]

    recovery.refuse(engine, cid, "campaign 'gone' cannot start: no caller ID", T0)
    refused = dbstatus.db_status(engine, cid, T0 + timedelta(minutes=5))
    assert refused["resume"]["refused"] == "campaign 'gone' cannot start: no caller ID"
    assert "was refused" in refused["interrupted"]


def test_a_killed_server_on_this_host_is_gone_at_once(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "pid", ["+8613800000321"])
    recovery.started(engine, cid, recovery.local_node(), T0)
    run = recovery.run_of(engine, cid)
    assert run is not None and run.pid == os.getpid()
    assert recovery.alive(run, T0 + timedelta(seconds=1))
    run.pid = 2**22 + 12345  # above pid_max's default: no such process
    assert not recovery.alive(run, T0 + timedelta(seconds=1))
    assert [r.campaign_id for r in recovery.to_resume(engine, recovery.local_node())] == []
    recovery.desire(engine, cid, "paused", recovery.local_node(), T0)
    assert [r.desired for r in recovery.to_resume(engine, recovery.local_node())] == ["paused"]
    recovery.desire(engine, cid, "stopped", recovery.local_node(), T0)
    assert recovery.to_resume(engine, recovery.local_node()) == []


def test_the_pacer_relearns_from_recent_attempts(engine: Engine) -> None:
    numbers = [f"+86138000004{i:02d}" for i in range(36)]
    cid = dialdata.campaign_with_contacts(engine, "learn", numbers)
    leads = hopper.claim(engine, cid, 36, T0, node=NODE)
    for i, lead in enumerate(leads):
        call_id = f"p{i}"
        hopper.open_attempt(engine, call_id, cid, lead, NODE, T0)
        live = i % 3 == 0
        with session_scope(engine) as s:
            att = s.exec(select(Attempt).where(Attempt.call_id == call_id)).one()
            att.final = True
            att.state = "completed" if live else "no_answer"
            att.answered_at = T0 + timedelta(seconds=7) if live else None
            att.bridged_at = T0 + timedelta(seconds=7.5) if live else None
            att.answer_to_bridge_ms = 500.0 if live else None
            att.ended_at = T0 + timedelta(seconds=97 if live else 25)
            att.sip_outcome = "engine_restart" if i >= 34 else "answered"  # 2 taught nothing
            s.add(att)
    past = recovery.recent_calls(engine, cid, T0 + timedelta(minutes=10))
    assert len(past) == 34
    assert sum(p.outcome == "live" for p in past) == 12
    assert all(p.talk_seconds == 89.5 for p in past if p.outcome == "live")
    assert recovery.recent_calls(engine, cid, T0 + timedelta(hours=3)) == []  # too old

    pacer = Pacer(PacerConfig(mode="predictive"))
    assert pacer.replay(past) == 34 and pacer.resolved == 34
    pacer.calls_to_place(View(now=0.0, ready=2, busy=(("talk", 30.0),), ringing=(), waiting=0))
    assert pacer.last_decision is not None
    assert "Still learning" not in pacer.last_decision.reason
    assert abs(pacer.attempts.hit_rate - 12 / 34) < 0.12  # the prior's weight is 20 dials
    _ = PastCall  # the type recent_calls returns


def test_campaigns_running_before_the_upgrade_are_meant_to_run(db_url: str) -> None:
    """Migration 0005_recovery_campaign_runs: what ran before it resumes after it."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from outdial import migrate, storage

    eng = storage.make_engine(db_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
        script = ScriptDirectory.from_config(cfg)

        def on_recovery(head: str) -> bool:  # 0005_recovery_campaign_runs or built on it
            revs = script.iterate_revisions(head, "base")
            return any(r.revision == "0005_recovery_campaign_runs" for r in revs)

        with eng.begin() as conn:  # every head but this one and those built on it
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004_dialer")
            for head in sorted(migrate.script_heads(eng)):
                if not on_recovery(head):
                    command.upgrade(cfg, head)
        with eng.begin() as conn:
            for name, status in (("a", "running"), ("b", "paused"), ("c", "stopped")):
                conn.execute(
                    sa.text(
                        "INSERT INTO campaigns (name, kind, mode, status, region, dedupe,"
                        " created_at) VALUES (:n, 'generic', 'progressive', :s, 'CN',"
                        " 'campaign', CURRENT_TIMESTAMP)"
                    ),
                    {"n": name, "s": status},
                )
        migrate.upgrade(eng)
        wanted = [(r.campaign_id, r.desired) for r in recovery.to_resume(eng, "any-node")]
        assert [d for _, d in wanted] == ["running", "paused"]
    finally:
        eng.dispose()
