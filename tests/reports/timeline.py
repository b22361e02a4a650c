"""A tiny hand-computed timeline (one agent, five calls, a pause) shared by the reports tests.

All times UTC on 2026-12-01; the campaign's zone is Asia/Shanghai (09:00-09:30 local).

    01:00:00 login (ready)
    call 1  dial 01:00:00, answer 01:00:10, reserve 01:00:10, talk 01:00:11-01:02:11 (120 s),
            wrap to 01:02:41 (30 s), disposition "sale" (success, final)
    call 2  dial 01:05:00, answer 01:05:20, reserve 01:05:20, talk 01:05:21-01:06:21 (60 s),
            wrap to 01:07:21 (60 s), disposition "callback" with a pause "break"
    pause   01:07:21-01:17:21 (600 s, reason break), then ready
    call 3  dial 01:20:00, no answer
    call 4  dial 01:21:00, answered by a machine at 01:21:05
    call 5  dial 01:22:00, answered 01:22:04, abandoned (no agent free)
    01:30:00 logout

Expected by hand: dials 5, live answers 3 (calls 1, 2, 5), connect rate 3/5 = 0.6,
contacts 2, successes 1, success rate 0.5, abandon rate 1/3, time to answer
(10 + 20 + 5 + 4) / 4 = 9.75 s; ready 10 + 159 + 759 = 928 s, reserved 2 s, talk 180 s,
wrap 90 s, away 600 s; occupancy 270 / 1200 = 0.225; AHT 270 / 2 = 135 s; FCR 1/2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from campaigns.models import Disposition
from dialer.models import Attempt, StateChange
from outdial import auth
from outdial.storage import session_scope

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def at(h: int, m: int, s: int = 0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


AGENT_CHANGES = [  # (time, target, reason)
    (at(1, 0), "ready", ""),
    (at(1, 0, 10), "reserved", "c1"),
    (at(1, 0, 11), "talk", "c1"),
    (at(1, 2, 11), "wrap", "c1"),
    (at(1, 2, 41), "ready", ""),
    (at(1, 5, 20), "reserved", "c2"),
    (at(1, 5, 21), "talk", "c2"),
    (at(1, 6, 21), "wrap", "c2"),
    (at(1, 7, 21), "paused", "break"),
    (at(1, 17, 21), "ready", ""),
    (at(1, 30), "logged_out", ""),
]


def build(engine: Engine, campaign_name: str = "回访一") -> dict[str, int]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "support"))
    import dialdata

    agent = auth.create_user(engine, "wang", "password-1", "agent")
    cid = dialdata.campaign_with_contacts(
        engine, campaign_name, [f"+8613800000{i:03d}" for i in range(1, 6)]
    )
    with session_scope(engine) as s:
        s.add(Disposition(campaign_id=cid, code="sale", success=True, final=True))
        s.add(Disposition(campaign_id=cid, code="callback", callback=True))
        contacts = [
            r[0]
            for r in s.exec(
                __import__("sqlmodel").text(
                    f"SELECT id FROM contacts WHERE campaign_id = {cid} ORDER BY id"
                )
            )
        ]
        calls = [
            (at(1, 0), at(1, 0, 10), at(1, 0, 11), False, "", agent.id, "sale", "completed"),
            (at(1, 5), at(1, 5, 20), at(1, 5, 21), False, "", agent.id, "callback", "completed"),
            (at(1, 20), None, None, False, "", None, "", "no_answer"),
            (at(1, 21), at(1, 21, 5), None, False, "machine", None, "", "machine"),
            (at(1, 22), at(1, 22, 4), None, True, "", None, "", "abandoned"),
        ]
        for i, (dial, ans, br, ab, amd, ag, dispo, state) in enumerate(calls):
            s.add(
                Attempt(
                    call_id=f"c{i + 1}",
                    campaign_id=cid,
                    contact_id=contacts[i],
                    number=f"+8613800000{i + 1:03d}",
                    created_at=dial,
                    answered_at=ans,
                    bridged_at=br,
                    abandoned=ab,
                    amd=amd,
                    agent_user_id=ag,
                    disposition=dispo,
                    state=state,
                    final=True,
                    ended_at=dial + timedelta(seconds=200),
                )
            )
        prev = "logged_out"
        for t, target, reason in AGENT_CHANGES:
            s.add(
                StateChange(
                    at=t,
                    campaign_id=cid,
                    machine="agent",
                    entity=str(agent.id),
                    source=prev,
                    event="x",
                    target=target,
                    reason=reason,
                )
            )
            prev = target
    return {"campaign": cid, "agent": int(agent.id or 0)}


def build_simulated(engine: Engine) -> dict[str, int]:
    """The hand timeline plus the simulated carrier's work in the same half-hour: agent sim01
    (``outdial demo``'s kind: softphone sip:agent-...) ready 01:00-01:10, talking on a
    simulated call 01:10-01:12 (a sale), ready again until logging out at 01:20; and a
    simulated call abandoned at 01:25 (answered 01:25:02)."""
    import sqlalchemy as sa

    ids = build(engine)
    sim = auth.create_user(
        engine, "sim01", "password-1", "agent", "模拟坐席01", "sip:agent-sim01@127.0.0.1"
    )
    with engine.connect() as conn:
        contacts = list(conn.execute(sa.text("SELECT id FROM contacts ORDER BY id")).scalars())
    with session_scope(engine) as s:
        for call_id, contact, dial, ans, br, ab, ag, dispo in (
            ("sim1", contacts[0], at(1, 9, 50), at(1, 10), at(1, 10), False, sim.id, "sale"),
            ("sim2", contacts[1], at(1, 25), at(1, 25, 2), None, True, None, ""),
        ):
            s.add(
                Attempt(
                    call_id=call_id,
                    campaign_id=ids["campaign"],
                    contact_id=contact,
                    number="+8613800000001",
                    node="n~sim",
                    created_at=dial,
                    answered_at=ans,
                    bridged_at=br,
                    abandoned=ab,
                    agent_user_id=ag,
                    disposition=dispo,
                    state="completed",
                    final=True,
                    simulated=True,
                )
            )
        prev = "logged_out"
        for t, target in ((at(1, 0), "ready"), (at(1, 10), "talk"), (at(1, 12), "ready")):
            s.add(
                StateChange(
                    at=t,
                    campaign_id=ids["campaign"],
                    machine="agent",
                    entity=str(sim.id),
                    source=prev,
                    event="x",
                    target=target,
                    reason="",
                )
            )
            prev = target
        s.add(
            StateChange(
                at=at(1, 20),
                campaign_id=ids["campaign"],
                machine="agent",
                entity=str(sim.id),
                source=prev,
                event="x",
                target="logged_out",
                reason="",
            )
        )
    return ids
