"""The engine adapter over the fake SIP port and a real database (SQLite and PostgreSQL):
attempts committed before the INVITE, every record ends in one state, retries, dispositions,
crash recovery, and two engines on one database never dialing a record twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import callbacks, contacts
from campaigns.models import Callback
from dialer import actions as act
from dialer import hopper
from dialer.core import CoreConfig
from dialer.engine import TICK, CampaignEngine, EngineSettings, GateVerdict
from lists.models import Contact
from outdial import auth
from outdial.models import utcnow
from outdial.roles import Role
from outdial.storage import session_scope
from sip import events as ev
from sip.fake import FakeScript, FakeSipPort, stock_script

SCRIPTS = {
    "1": FakeScript(delay=0.2, bye_after=0.6),  # answers, hangs up after 0.6 s
    "2": FakeScript(final=486, delay=0.1),  # busy
    "3": FakeScript(final=None),  # rings until our timeout
    "4": FakeScript(final=503, delay=0.1),
}


def script_for(target: str) -> FakeScript:
    if target.startswith("sip:"):
        return stock_script(target)
    return SCRIPTS[target[-1]]


class RecordingGate:
    """Allows every dial; records what it was asked (the real gate has its own tests)."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.outcomes: list[str] = []

    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        self.checked.append(lead.number)
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        self.outcomes.append(finished.state)

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


def settings(campaign_id: int, **kw: Any) -> EngineSettings:
    return EngineSettings(
        campaign_id=campaign_id,
        core=CoreConfig(mode=kw.pop("mode", "progressive")),
        caller_id="+8610010000",
        ring_timeout=1.0,
        allow_short_ring_timeout_for_tests=True,
        tick=0.02,
        pace_every=0.1,
        **kw,
    )


def agent_user(engine: Engine, name: str = "a1") -> int:
    user = auth.create_user(engine, name, "password-1", Role.AGENT, sip_uri="sip:agent@127.0.0.1")
    assert user.id is not None
    return user.id


def statuses(engine: Engine, campaign_id: int) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT primary_number, status FROM contacts WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
        return {r[0]: r[1] for r in rows}


async def wait_for(pred: Any, timeout: float = 30.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_progressive_campaign_end_to_end(engine: Engine) -> None:
    numbers = ["+8613800000011", "+8613800000022", "+8613800000033", "+8613800000044"]
    cid = dialdata.campaign_with_contacts(engine, "p1", numbers)
    pushed: list[tuple[str, dict[str, Any]]] = []
    gate = RecordingGate()
    async with FakeSipPort(script_for) as sip:
        eng = CampaignEngine(
            engine, sip, settings(cid), gate, push=lambda a, m: pushed.append((a, m))
        )
        await eng.start()
        await eng.agent_login("a1", agent_user(engine), "sip:agent@127.0.0.1")
        ended = lambda: [m for a, m in pushed if m["type"] == "call_ended"]  # noqa: E731
        await wait_for(lambda: bool(ended()))
        connected = [m for a, m in pushed if m["type"] == "call_connected"]
        assert len(connected) == 1 and connected[0]["number"] == "+8613800000011"
        assert connected[0]["record"]["name"] == "客户1"
        assert eng.core.calls_wanted(eng.clock()) == 0  # the only agent is in wrap-up
        await eng.disposition("a1", connected[0]["call_id"], "success", final=True)
        await wait_for(lambda: eng.finished == 4)
        await eng.stop()
    st = statuses(engine, cid)
    assert st["+8613800000011"] == "done"
    assert {st[n] for n in numbers[1:]} == {"retry"}
    assert sorted(gate.outcomes) == ["busy", "completed", "failed", "no_answer"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT number, state, final, answer_to_bridge_ms, disposition FROM attempts")
        ).all()
    assert len(rows) == 4 and all(r[2] for r in rows)
    answered = next(r for r in rows if r[0] == "+8613800000011")
    assert answered[1] == "completed" and answered[3] is not None and answered[4] == "success"
    with engine.connect() as conn:
        changes = conn.execute(sa.text("SELECT count(*) FROM state_changes")).scalar_one()
    assert changes >= 4 * 3  # every transition is persisted


async def test_no_agent_means_abandoned_within_two_seconds(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "p2", ["+8613800000011"])
    async with FakeSipPort(lambda t: FakeScript(delay=0.5, bye_after=5.0)) as sip:
        eng = CampaignEngine(
            engine, sip, settings(cid, safe_harbor_wav="/tmp/none.wav"), RecordingGate()
        )
        await eng.start()
        await eng.agent_login("a1", agent_user(engine), "sip:agent@127.0.0.1")
        await wait_for(lambda: bool(eng.core.calls), 10)  # dialed for the ready agent
        await eng.agent_pause("a1", "coffee")  # before the answer: nobody is free
        await wait_for(lambda: eng.finished == 1 or not eng.core.calls, 10)
        await wait_for(lambda: eng.finished == 1, 10)
        await eng.stop()
    with engine.connect() as conn:
        state, abandoned = conn.execute(sa.text("SELECT state, abandoned FROM attempts")).one()
    assert state == "abandoned" and abandoned
    assert eng.messages_played == 1


async def test_restart_closes_attempts_left_in_flight(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "p3", ["+8613800000011"])
    (lead,) = hopper.claim(engine, cid, 5, datetime.now().astimezone())
    hopper.open_attempt(engine, "lost-call", cid, lead, "node-1", datetime.now().astimezone())
    async with FakeSipPort(script_for) as sip:
        eng = CampaignEngine(engine, sip, settings(cid), RecordingGate())
        assert await eng.start(dialing=False) == 1
        await eng.stop()
    with engine.connect() as conn:
        state, final = conn.execute(sa.text("SELECT state, final FROM attempts")).one()
    assert state == "failed" and final
    assert statuses(engine, cid)["+8613800000011"] == "retry"


async def test_two_engines_on_one_database_never_dial_a_record_twice(engine: Engine) -> None:
    numbers = [f"+86138000001{i:02d}" for i in range(30)]
    cid = dialdata.campaign_with_contacts(engine, "p4", numbers)
    gates = [RecordingGate(), RecordingGate()]
    quick = FakeScript(final=486, delay=0.05)
    async with FakeSipPort(lambda t: quick) as sip1, FakeSipPort(lambda t: quick) as sip2:
        engines = [
            CampaignEngine(engine, sip, settings(cid, node=f"n{i}", mode="agentless"), gates[i])
            for i, sip in enumerate((sip1, sip2))
        ]
        for e in engines:
            await e.start()
        await wait_for(lambda: sum(e.finished for e in engines) == 30, 20)
        for e in engines:
            await e.stop()
    dialed = gates[0].checked + gates[1].checked
    assert sorted(dialed) == sorted(numbers)  # each exactly once
    assert gates[0].checked and gates[1].checked  # both engines took part


# --- personal callbacks (issue 7) --------------------------------------------------------------


def personal_callback(engine: Engine, cid: int, contact_id: int, owner: int, due: datetime) -> int:
    """A pending personal callback on a contact, as campaigns/callbacks.py ``schedule`` leaves it
    (the callback row, and the contact due at its time and held for its agent)."""
    with session_scope(engine) as s:
        row = Callback(
            campaign_id=cid,
            contact_ref=str(contact_id),
            phone="+8613800000011",
            customer_zone="Asia/Shanghai",
            local_time=due.isoformat(timespec="minutes"),
            due_at=due,
            owner_kind="agent",
            owner_id=owner,
        )
        s.add(row)
        contacts.set_callback(s, s.get(Contact, contact_id), due, owner)
        s.flush()
        assert row.id is not None
        return row.id


async def test_personal_callback_waits_for_its_ready_owner(engine: Engine) -> None:
    team, mine, other = "+8613800000021", "+8613800000011", "+8613800000031"
    cid = dialdata.campaign_with_contacts(engine, "cb1", [team, mine, other])
    ids = dict(zip([team, mine, other], hopper_ids(engine, cid), strict=True))
    owner, colleague = agent_user(engine, "owner"), agent_user(engine, "colleague")
    personal_callback(engine, cid, ids[mine], owner, utcnow() - timedelta(minutes=1))
    pushed: list[tuple[str, dict[str, Any]]] = []
    gate = RecordingGate()
    connected = lambda: [(a, m["number"]) for a, m in pushed if m["type"] == "call_connected"]  # noqa: E731
    async with FakeSipPort(script_for) as sip:
        eng = CampaignEngine(
            engine, sip, settings(cid), gate, push=lambda a, m: pushed.append((a, m))
        )
        await eng.start(dialing=False)
        await eng.agent_login("a1", owner, "sip:agent@127.0.0.1")
        await eng.agent_pause("a1", "coffee")
        await eng.agent_login("a2", colleague, "sip:agent@127.0.0.1")
        eng.resume()
        # the colleague is ready, the callback is due and first in line, yet it waits
        await wait_for(lambda: connected() == [("a2", team)])
        await wait_for(lambda: eng.finished == 1)
        await asyncio.sleep(0.5)  # several pacing rounds with the colleague in wrap-up
        assert gate.checked == [team]
        assert statuses(engine, cid)[mine] == "retry"
        await eng.agent_ready("a1")  # the owner is back: their callback before other records
        await wait_for(lambda: len(connected()) == 2)
        assert connected()[1] == ("a1", mine)
        assert gate.checked == [team, mine]
        await wait_for(lambda: eng.finished == 2)
        await eng.stop()
    with engine.connect() as conn:
        bridged = conn.execute(
            sa.text("SELECT agent_user_id, bridged_at FROM attempts WHERE contact_id = :c"),
            {"c": ids[mine]},
        ).one()
    assert bridged[0] == owner and bridged[1] is not None
    assert statuses(engine, cid)[other] == "new"


async def test_missed_personal_callback_moves_to_any_agent(engine: Engine) -> None:
    mine = "+8613800000011"
    cid = dialdata.campaign_with_contacts(engine, "cb2", [mine])
    (contact_id,) = hopper_ids(engine, cid)
    owner, colleague = agent_user(engine, "owner"), agent_user(engine, "colleague")
    cb_id = personal_callback(engine, cid, contact_id, owner, utcnow() - timedelta(hours=1))
    pushed: list[tuple[str, dict[str, Any]]] = []
    gate = RecordingGate()
    async with FakeSipPort(script_for) as sip:
        eng = CampaignEngine(
            engine, sip, settings(cid), gate, push=lambda a, m: pushed.append((a, m))
        )
        await eng.start()
        await eng.agent_login("a2", colleague, "sip:agent@127.0.0.1")  # the owner is away
        await asyncio.sleep(0.5)
        assert gate.checked == []
        assert callbacks.move_missed_to_team(engine, utcnow()) == [cb_id]
        await wait_for(lambda: any(m["type"] == "call_connected" for _, m in pushed))
        assert [(a, m["number"]) for a, m in pushed if m["type"] == "call_connected"] == [
            ("a2", mine)
        ]
        await wait_for(lambda: eng.finished == 1)
        await eng.stop()
    with session_scope(engine) as s:
        contact = s.get(Contact, contact_id)
        assert contact is not None and contact.callback_owner_id is None


def hopper_ids(engine: Engine, cid: int) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id FROM contacts WHERE campaign_id = :c ORDER BY id"), {"c": cid}
        )
        return [r[0] for r in rows]


class ManualPort:
    """A SIP port driven by the test: it records commands; events are injected by hand."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.sent: list[tuple[str, str]] = []
        self.db_state_at_connect: list[str] = []
        self.db: Any = None

    async def originate(self, cmd: Any) -> None:
        self.sent.append(("originate", cmd.call_id))

    async def hangup(self, call_id: str) -> None:
        self.sent.append(("hangup", call_id))

    async def connect_agent(self, call_id: str, agent_uri: str) -> None:
        self.sent.append(("connect", call_id))
        [(state,)] = dialdata.rows(self.db, "SELECT state FROM attempts")
        self.db_state_at_connect.append(state)

    async def play_prompt(self, call_id: str, wav: str) -> None:
        self.sent.append(("prompt", call_id))

    async def start_recording(self, call_id: str, path: str) -> None: ...
    async def stop_recording(self, call_id: str, path: str) -> None: ...

    async def drop_agent(self, call_id: str) -> None:
        self.sent.append(("drop", call_id))


async def settle(eng: CampaignEngine) -> None:
    """Let the runner empty its inbox and its database threads report back (no time passes
    on the fake clock; the wait is only for the threads)."""
    quiet = 0
    for _ in range(1000):
        await asyncio.sleep(0.005)
        busy = not eng.inbox.empty() or eng._io or eng._side
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return


async def test_runner_on_a_fake_clock_sip_first_then_the_connect_limit(engine: Engine) -> None:
    """A synthetic timeline: the pacer beats once a second; the answer's ConnectAgent leaves
    before its state is even queued for the writer (SIP lane first); with the agent's leg
    silent, the connect limit abandons the call at exactly answer + 2 s (rule 3)."""
    cid = dialdata.campaign_with_contacts(engine, "fc", ["+8613800000011"])
    now = [100.0]
    port = ManualPort()
    eng = CampaignEngine(
        engine, port, settings(cid, safe_harbor_wav="/tmp/none.wav"), RecordingGate(),
        clock=lambda: now[0],
    )  # fmt: skip
    port.db = engine
    eng.core.pace_every = 1.0
    await eng.start(dialing=True)
    await eng.agent_login("a1", agent_user(engine), "sip:agent@127.0.0.1")
    now[0] = 100.5
    eng.inbox.put_nowait(engine_tick())
    await settle(eng)
    assert port.sent == []  # the pacer's beat is once a second (shared/pacing/world.md)
    now[0] = 101.0
    eng.inbox.put_nowait(engine_tick())
    await settle(eng)
    [(kind, call_id)] = port.sent
    assert kind == "originate" and eng.core.claims_pending == 0
    now[0] = 101.5
    eng.inbox.put_nowait(ev.CallAnswered(call_id, 1.0, False))
    await settle(eng)
    assert port.sent[-1] == ("connect", call_id)
    assert port.db_state_at_connect == ["dialing"]  # the answer's state was not written yet
    now[0] = 103.49
    eng.inbox.put_nowait(engine_tick())
    await settle(eng)
    assert port.sent[-1] == ("connect", call_id)  # not yet: 1.99 s after the answer
    now[0] = 103.5
    eng.inbox.put_nowait(engine_tick())
    await settle(eng)
    assert ("drop", call_id) in port.sent and ("prompt", call_id) in port.sent
    eng.inbox.put_nowait(ev.PromptFinished(call_id, "/tmp/none.wav"))
    await settle(eng)
    assert port.sent[-1] == ("hangup", call_id)
    eng.inbox.put_nowait(ev.CallEnded(call_id, ev.Outcome.ANSWERED, 200, "", ev.HungUpBy.US, 2))
    await settle(eng)
    await eng.writer.barrier()
    assert eng.finished == 1 and eng.messages_played == 1
    [(state, abandoned)] = dialdata.rows(engine, "SELECT state, abandoned FROM attempts")
    assert state == "abandoned" and abandoned
    await eng.stop(drain_timeout=0)


def engine_tick() -> Any:
    return TICK


async def test_team_callback_goes_to_its_team_while_one_of_it_is_signed_in(
    engine: Engine,
) -> None:
    """A due callback of team A: zhao (team B) is ready, wang (A) signed in but paused, so it
    waits and zhao gets the other record; wang ready: the callback is placed for wang. Once
    no agent of A is signed in, a second A callback goes to zhao (callback_times rule)."""
    first, held, later = "+8613800000021", "+8613800000011", "+8613800000031"
    cid = dialdata.campaign_with_contacts(engine, "cb3", [first, held, later])
    ids = dict(zip([first, held, later], hopper_ids(engine, cid), strict=True))
    wang, zhao = agent_user(engine, "wang"), agent_user(engine, "zhao")
    due = utcnow() - timedelta(minutes=1)
    with session_scope(engine) as s:
        contacts.set_callback(s, s.get(Contact, ids[held]), due, None, "A")
    pushed: list[tuple[str, dict[str, Any]]] = []
    gate = RecordingGate()
    connected = lambda: [(a, m["number"]) for a, m in pushed if m["type"] == "call_connected"]  # noqa: E731
    async with FakeSipPort(script_for) as sip:
        eng = CampaignEngine(
            engine, sip, settings(cid), gate, push=lambda a, m: pushed.append((a, m))
        )
        await eng.start(dialing=False)
        await eng.agent_login("w", wang, "sip:agent@127.0.0.1", team="A")
        await eng.agent_pause("w", "coffee")
        await eng.agent_login("z", zhao, "sip:agent@127.0.0.1", team="B")
        eng.resume()
        await wait_for(lambda: connected() == [("z", first)])
        await wait_for(lambda: eng.finished == 1)
        await asyncio.sleep(0.5)  # pacing rounds with zhao in wrap-up: A's record waits
        assert gate.checked == [first] and statuses(engine, cid)[held] == "retry"
        await eng.agent_ready("w")
        await wait_for(lambda: len(connected()) == 2)
        assert connected()[1] == ("w", held)
        await wait_for(lambda: eng.finished == 2)
        with session_scope(engine) as s:
            contacts.set_callback(s, s.get(Contact, ids[later]), utcnow(), None, "A")
        calls = {a: m["call_id"] for a, m in pushed if m["type"] == "call_connected"}
        await eng.disposition("w", calls["w"], "success", final=True)
        await eng.agent_logout("w")  # nobody of A signed in: zhao keeps the promise
        await eng.disposition("z", calls["z"], "success", final=True)  # zhao ready again
        await wait_for(lambda: len(connected()) == 3)
        assert connected()[2] == ("z", later)
        await wait_for(lambda: eng.finished == 3)
        await eng.stop()
