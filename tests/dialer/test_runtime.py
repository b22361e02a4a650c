"""The dialer runtime over the fake SIP port and a real database (SQLite and PostgreSQL):
start, agents, the customer's record pushed on connect, dispositions (committed before the
agent is ready again; do-not-call reaches the DNC list at once), pause, stop, refusals."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dialdata
import jsonschema
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns.errors import CallbackRefused
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.campaign_ports import default_gate
from dialer.errors import CampaignNotReady, DispositionOwed, GateUnavailable, NotYourCall
from dialer.runtime import DialerRuntime
from outdial import auth
from outdial.errors import Conflict, InvalidInput
from outdial.roles import Role
from sip import events as ev
from sip.fake import FakeScript, FakeSipPort, stock_script
from web import ws_schema

CALLER_ID = "+8610010000"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TALK = FakeScript(delay=0.1, bye_after=0.4)  # answers, the customer hangs up 0.4 s later
SCRIPTS = {"1": TALK, "2": FakeScript(final=486, delay=0.1), "9": FakeScript(bye_after=60.0)}


def script_for(target: str) -> FakeScript:
    return stock_script(target) if target.startswith("sip:") else SCRIPTS[target[-1]]


class Gate:
    """Allows every dial; records what it was asked (the real gate has its own tests)."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        self.checked.append(lead.number)
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        pass

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


class Screen:
    """An agent's WebSocket as the hub sees it; ``on_message`` runs as each one arrives."""

    def __init__(self, on_message: Any = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.on_message = on_message

    async def send_str(self, data: str) -> None:
        msg = json.loads(data)
        # every message a screen gets is one the OpenAPI description documents (issue 16.9)
        jsonschema.validate(msg, ws_schema.MESSAGES[msg["type"]])
        if self.on_message is not None:
            self.on_message(msg)
        self.messages.append(msg)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


def runtime(engine: Engine, gate: Gate | None = None, **kw: Any) -> DialerRuntime:
    the_gate = gate or Gate()
    return DialerRuntime(
        engine,
        sip_factory=kw.pop("sip_factory", lambda cid: FakeSipPort(script_for)),
        gate_factory=lambda db, cid: the_gate,
        node="test-node",
        default_caller_id=kw.pop("caller_id", CALLER_ID),
        default_safe_harbor=dialdata.safe_harbor(),
        engine_options={
            "ring_timeout": 1.0,
            "allow_short_ring_timeout_for_tests": True,
            "tick": 0.02,
            "pace_every": 0.1,
            "record_calls": False,  # the fake port records nothing; no ./var/recordings
        },
        stop_drain=0.0,
        decision_every=0.05,
        **kw,
    )


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def agent(engine: Engine, name: str) -> int:
    user = auth.create_user(engine, name, "password-1", Role.AGENT, sip_uri="sip:agent@127.0.0.1")
    assert user.id is not None
    return user.id


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


async def wait_for(pred: Any, timeout: float = 30.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_connect_push_disposition_then_ready(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "r1", ["+8613800000011"])
    rt = runtime(engine)
    uid = agent(engine, "a1")
    seen: dict[str, Any] = {}

    def on_message(msg: dict[str, Any]) -> None:
        if msg["type"] == "agent_state" and msg["state"] == "ready" and "call" in seen:
            seen["disposition_when_ready"] = scalar(
                engine, "SELECT disposition FROM attempts WHERE call_id = :c", c=seen["call"]
            )
        if msg["type"] == "call_connected":
            seen["call"] = msg["call_id"]

    screen = Screen(on_message)
    rt.hub.add(uid, screen)
    status = await rt.start(cid)
    assert status["status"] == "running" and status["running_here"]
    assert scalar(engine, "SELECT status FROM campaigns WHERE id = :c", c=cid) == "running"
    login = await rt.agent_login(uid, cid)
    assert login["state"] == "ready" and login["sip_uri"] == "sip:agent@127.0.0.1"
    assert (await rt.agent_ready(uid))["state"] == "ready"  # already ready: no change

    await wait_for(lambda: bool(screen.of("call_ended")))
    (connected,) = screen.of("call_connected")
    assert connected["number"] == "+8613800000011" and connected["campaign_id"] == cid
    assert connected["record"]["name"] == "客户1"
    assert connected["record"]["custom"] == {"product": "kettle"}
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "wrap")
    assert scalar(engine, "SELECT state FROM agent_sessions WHERE user_id = :u", u=uid) == "wrap"
    status = await rt.status(cid)
    assert status["pacer"]["last_decision"]["mode"] == "progressive"
    assert "ready" in status["pacer"]["explain"]
    snap = status["snapshot"]  # the runner's one snapshot (issue 11.5)
    [me] = snap["agents_live"]
    assert (me["agent_id"], me["state"]) == (str(uid), "wrap") and me["since_seconds"] >= 0
    assert snap["abandon_live"]["cap"] == 0.03 and snap["pacer_words"] == status["pacer"]["explain"]
    assert rt.agent_status(uid) == {"user_id": uid, "campaign_id": cid} | me | {
        "softphone_test": None  # no test call: the agent logged in by the API, not the desk
    }  # the WS hello
    for leave in (rt.agent_logout(uid), rt.agent_pause(uid, "break")):
        with pytest.raises(DispositionOwed) as owed:  # the record waits for the disposition
            await leave
        assert owed.value.fields["call_id"] == connected["call_id"]
        assert owed.value.as_dict()["error"] == "disposition_owed"
    assert (rt.agent_status(uid) or {})["state"] == "wrap"  # still in wrap-up, call owed

    result = await rt.disposition(uid, connected["call_id"], "success", notes="ok")
    assert result["final"] and result["agent"]["state"] == "ready"
    await wait_for(lambda: "disposition_when_ready" in seen)  # screens follow, never lead
    assert seen["disposition_when_ready"] == "success"  # committed before the agent was ready
    assert scalar(engine, "SELECT status FROM contacts WHERE campaign_id = :c", c=cid) == "done"
    assert scalar(engine, "SELECT count(*) FROM state_changes WHERE machine = 'pacer'") >= 1
    assert (await rt.status(cid))["records_remaining"] == 0  # complete: nothing left to dial

    await rt.stop(cid)
    assert scalar(engine, "SELECT status FROM campaigns WHERE id = :c", c=cid) == "stopped"
    assert scalar(engine, "SELECT count(*) FROM agent_sessions") == 0
    assert screen.of("campaign_stopped")


async def test_do_not_call_disposition_reaches_the_dnc_list(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "r2", ["+8613800000021"])
    rt = runtime(engine)
    uid, other = agent(engine, "a1"), agent(engine, "a2")
    screen = Screen()
    rt.hub.add(uid, screen)
    await rt.start(cid)
    await rt.agent_login(uid, cid)
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "wrap")
    await wait_for(lambda: bool(screen.of("call_connected")))  # the screen's own pace
    call_id = screen.of("call_connected")[0]["call_id"]
    with pytest.raises(NotYourCall):
        await rt.disposition(other, call_id, "do_not_call")
    with pytest.raises(InvalidInput):
        await rt.disposition(uid, call_id, "no_such_code")
    with pytest.raises(InvalidInput):  # a callback code needs its time
        await rt.disposition(uid, call_id, "callback")
    assert scalar(engine, "SELECT count(*) FROM dnc_entries") == 0

    result = await rt.disposition(uid, call_id, "do_not_call")
    assert result["do_not_call"] and result["final"]
    dnc = scalar(engine, "SELECT source FROM dnc_entries WHERE number = '+8613800000021'")
    assert dnc == "disposition"  # rule 9
    assert scalar(engine, "SELECT status FROM contacts WHERE campaign_id = :c", c=cid) == "done"
    await rt.stop_all()


async def test_pause_stops_new_calls_and_stop_hangs_up(engine: Engine) -> None:
    numbers = ["+8613800000019", "+8613800000029", "+8613800000039"]
    cid = dialdata.campaign_with_contacts(engine, "r3", numbers)
    gate = Gate()
    rt = runtime(engine, gate)
    uid = agent(engine, "a1")
    await rt.start(cid)
    assert (await rt.pause(cid))["status"] == "paused"
    assert scalar(engine, "SELECT status FROM campaigns WHERE id = :c", c=cid) == "paused"
    await rt.agent_login(uid, cid)
    await asyncio.sleep(0.5)  # five pacing rounds while paused
    assert gate.checked == [] and scalar(engine, "SELECT count(*) FROM attempts") == 0

    assert (await rt.resume(cid))["status"] == "running"
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "talk")
    assert len(gate.checked) == 1  # progressive, one ready agent: one line
    started = asyncio.get_running_loop().time()
    status = await rt.stop(cid)  # the customer would talk for 60 s: hung up now
    assert asyncio.get_running_loop().time() - started < 5
    assert status["status"] == "stopped" and not status["running_here"]
    assert status["calls_in_flight"] == 0
    assert scalar(engine, "SELECT final FROM attempts")
    assert scalar(engine, "SELECT state FROM attempts") == "completed"
    # after the stop the agent can still dispose of the call they had
    call_id = scalar(engine, "SELECT call_id FROM attempts")
    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    with pytest.raises(CallbackRefused):  # 03:00 for the customer: outside legal hours
        await rt.disposition(uid, call_id, "callback", callback_at=at(day, 3))
    result = await rt.disposition(uid, call_id, "callback", callback_at=at(day, 10))
    assert result["callback_at"] == at(day, 10).astimezone(UTC).isoformat()
    assert scalar(engine, "SELECT disposition FROM attempts") == "callback"
    assert scalar(engine, "SELECT status FROM contacts WHERE primary_number = :n",
                  n=numbers[0]) == "retry"  # fmt: skip


async def test_refuses_to_start_without_caller_id_or_gate(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = dialdata.campaign_with_contacts(sqlite_engine, "r4", ["+8613800000011"])
    with pytest.raises(CampaignNotReady):
        await runtime(sqlite_engine, caller_id="").start(cid)
    assert callable(default_gate(sqlite_engine, cid).check)  # the real gate, compliance/gate.py
    monkeypatch.setitem(sys.modules, "compliance.gate", None)
    with pytest.raises(GateUnavailable):
        default_gate(sqlite_engine, cid)
    monkeypatch.setitem(sys.modules, "compliance.gate", types.ModuleType("compliance.gate"))
    with pytest.raises(GateUnavailable):
        default_gate(sqlite_engine, cid)
    rt = DialerRuntime(  # the default gate factory
        sqlite_engine, default_caller_id=CALLER_ID, default_safe_harbor=dialdata.safe_harbor()
    )
    with pytest.raises(GateUnavailable):
        await rt.start(cid)
    assert not rt.running
    assert scalar(sqlite_engine, "SELECT status FROM campaigns WHERE id = :c", c=cid) == "draft"


async def test_launch_checks_refuse_an_unlawful_campaign(sqlite_engine: Engine) -> None:
    """Rules 4/20 (a safe-harbor message where calls can be abandoned) and 11/23/27 (a
    company-owned caller ID) are checked before anything is dialed."""
    cid = dialdata.campaign_with_contacts(sqlite_engine, "r5", ["+8613800000011"])
    rt = runtime(sqlite_engine)
    rt.default_safe_harbor = None
    with pytest.raises(CampaignNotReady, match="safe-harbor"):
        await rt.start(cid)
    rt = runtime(sqlite_engine)
    rt.default_safe_harbor = "/nonexistent/safe-harbor.wav"
    with pytest.raises(CampaignNotReady, match="does not exist"):
        await rt.start(cid)
    rt = runtime(sqlite_engine)
    rt.owned_numbers = frozenset({"+8610000000000"})
    with pytest.raises(CampaignNotReady, match="not company-owned"):
        await rt.start(cid)
    assert not rt.running


async def test_agent_hanging_up_first_goes_to_wrap_up(sqlite_engine: Engine) -> None:
    """The real pool reports the agent's leg ending (bridged) when the agent hangs up, and
    also when the call is torn down; either way the agent must reach wrap-up, not stay in
    talk, and the record must wait for their disposition."""
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "r6", ["+8613800000019"])
    rt = runtime(engine)
    uid = agent(engine, "a1")
    await rt.start(cid)
    await rt.agent_login(uid, cid)
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "talk")
    call_id = (rt.agent_status(uid) or {})["call_id"]
    port = rt.running[cid].port
    port.events.put_nowait(ev.AgentLegEnded(call_id, "sip:agent@127.0.0.1", 200, "BYE", True))
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "wrap")
    await wait_for(lambda: bool(scalar(engine, "SELECT final FROM attempts")))
    assert scalar(engine, "SELECT status FROM contacts") == "wrap"
    assert scalar(engine, "SELECT agent_user_id FROM attempts") == uid
    await rt.disposition(uid, call_id, "success")
    assert (rt.agent_status(uid) or {})["state"] == "ready"
    await rt.stop_all()


async def test_preview_agent_sees_the_record_then_dials_or_skips(sqlite_engine: Engine) -> None:
    """Preview mode (issue 6): the record comes first; dialing reserves the agent, so the
    call is bridged to them; a skipped record goes back to the queue."""
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(
        engine, "pv", ["+8613800000011", "+8613800000022"], mode="preview"
    )
    rt = runtime(engine)
    uid = agent(engine, "pv1")
    screen = Screen()
    rt.hub.add(uid, screen)
    await rt.start(cid)
    try:
        await rt.agent_login(uid, cid)
        first = await rt.preview_next(uid)
        assert first is not None and first["number"] == "+8613800000011"
        assert screen.of("preview")[-1]["record"]["name"] == "客户1"
        assert (await rt.preview_next(uid))["contact_id"] == first["contact_id"]  # still held
        await rt.preview_skip(uid)
        assert (
            scalar(engine, "SELECT status FROM contacts WHERE id = :i", i=first["contact_id"])
            == "new"
        )
        second = await rt.preview_next(uid)
        assert second is not None
        result = await rt.preview_dial(uid)
        assert result["dialed"]
        await wait_for(lambda: bool(screen.of("call_connected")))
        assert screen.of("call_connected")[-1]["number"] == second["number"]
    finally:
        await rt.stop_all()


async def test_preview_offers_a_team_callback_to_its_team_only(engine: Engine) -> None:
    """A due team callback of team A in a preview campaign: zhao (team B) is offered the
    other record, wang (A) the callback's (the team read at sign-in from users.team)."""
    from campaigns import contacts
    from lists.models import Contact
    from outdial.storage import session_scope

    held, other = "+8613800000011", "+8613800000022"
    cid = dialdata.campaign_with_contacts(engine, "pvt", [held, other], mode="preview")
    rt = runtime(engine)
    wang, zhao = agent(engine, "wang"), agent(engine, "zhao")
    auth.set_team(engine, "wang", "A")
    auth.set_team(engine, "zhao", "B")
    with session_scope(engine) as s:
        first = s.execute(sa.select(Contact).where(Contact.primary_number == held)).scalar_one()
        contacts.set_callback(s, first, datetime.now(UTC) - timedelta(minutes=1), None, "A")
    await rt.start(cid)
    try:
        await rt.agent_login(wang, cid)
        await rt.agent_login(zhao, cid)
        offered = await rt.preview_next(zhao)
        assert offered is not None and offered["number"] == other
        mine = await rt.preview_next(wang)
        assert mine is not None and mine["number"] == held
    finally:
        await rt.stop_all()


async def test_a_restart_resumes_what_managers_wanted(engine: Engine) -> None:
    """Issue 16 item 5: desired state survives the server; launch checks run again."""
    from campaigns import rules
    from campaigns import store as campaigns
    from dialer import recovery
    from dialer.errors import NotRunning

    ids = {
        name: dialdata.campaign_with_contacts(engine, name, [f"+86138000005{i}2"])
        for i, name in enumerate(("run", "held", "off", "bad"))
    }
    uid = agent(engine, "a-restart")
    first = runtime(engine)
    for cid in ids.values():
        await first.start(cid)
    await first.agent_login(uid, ids["run"])
    await first.agent_pause(uid, "lunch")
    await first.pause(ids["held"])
    await first.stop(ids["off"])
    await first.stop_all()  # the server shuts down: nothing a manager asked for changes
    assert scalar(engine, "SELECT status FROM campaigns WHERE id = :c", c=ids["run"]) == (
        "interrupted"
    )
    assert scalar(engine, "SELECT count(*) FROM agent_sessions") == 1
    # meanwhile the definition became unlawful: it names a safe-harbor prompt never uploaded
    campaigns.save_spec(
        engine,
        rules.parse_campaign({"name": "bad", "caller_id": CALLER_ID, "safe_harbor_prompt": "sh"}),
    )

    second = runtime(engine)
    try:
        resumed = await second.resume_all()
        assert resumed == [ids["run"], ids["held"]]
        assert not second.running[ids["run"]].paused and second.running[ids["held"]].paused
        assert ids["off"] not in second.running and ids["bad"] not in second.running
        back = second.agent_status(uid)
        assert back is not None and (back["state"], back["pause_reason"]) == ("paused", "lunch")
        bad = await second.status(ids["bad"])
        assert bad["status"] == "interrupted" and not bad["running_here"]
        assert "has no prompt 'sh'" in bad["resume"]["refused"]
        assert "was refused" in bad["interrupted"]
        held = await second.status(ids["held"])
        assert held["status"] == "paused" and held["resume"]["desired"] == "paused"
        off = await second.status(ids["off"])
        assert off["status"] == "stopped" and off["resume"] is None
        # the manager gives up on the refused one: it will not be tried at the next start
        gave_up = await second.stop(ids["bad"])
        assert gave_up["status"] == "stopped" and gave_up["resume"] is None
        assert [r.campaign_id for r in recovery.to_resume(engine, "test-node")] == [
            ids["run"],
            ids["held"],
        ]
        with pytest.raises(NotRunning):
            await second.stop(ids["bad"])
    finally:
        await second.stop_all()


async def test_safe_harbor_prompt_by_name(sqlite_engine: Engine, tmp_path: Any) -> None:
    """Issue 16 item 4: the definition names an uploaded prompt; launch checks say how to
    upload a missing one; once uploaded, the engine plays the file under the data directory."""
    from campaigns import prompts, rules
    from campaigns import store as campaigns_store

    spec = rules.parse_campaign(
        {"name": "sh", "mode": "predictive", "caller_id": CALLER_ID, "safe_harbor_prompt": "sh1"}
    )
    camp, _ = campaigns_store.save_spec(sqlite_engine, spec)
    cid = camp.id or 0
    rt = runtime(sqlite_engine)
    rt.default_safe_harbor = None
    rt.engine_options["data_dir"] = str(tmp_path)
    with pytest.raises(CampaignNotReady) as err:
        await asyncio.to_thread(rt.engine_settings, cid)
    assert "has no prompt 'sh1'" in err.value.message
    assert "outdial prompts add FILE --campaign sh --name sh1" in err.value.message
    owner = prompts.resolve_owner(sqlite_engine, "campaign", "sh")
    stored = prompts.store(
        tmp_path, owner, "sh1", __import__("pathlib").Path(dialdata.safe_harbor())
    )
    settings = await asyncio.to_thread(rt.engine_settings, cid)
    assert settings.safe_harbor_wav == stored["path"]
    # without a prompt named, a predictive campaign is refused with how to attach one
    campaigns_store.save_spec(
        sqlite_engine, rules.parse_campaign({**rules.spec_to_dict(spec), "safe_harbor_prompt": ""})
    )
    with pytest.raises(CampaignNotReady, match='safe_harbor_prompt = "safe_harbor"'):
        await asyncio.to_thread(rt.engine_settings, cid)


async def test_agent_hangs_up_sees_the_script_and_a_callback_joins_the_one_list(
    engine: Engine,
) -> None:
    """Issue 16 items 7 and 8: the script arrives filled in with call_connected; the agent
    ends the call itself; its "callback" disposition is the same callback record the API
    makes, in the list that `outdial callbacks list` and GET /api/callbacks show."""
    from campaigns import callbacks, rules
    from campaigns import store as campaigns_store

    cid = dialdata.campaign_with_contacts(engine, "r9", ["+8613800000019"])  # talks 60 s
    spec = rules.parse_campaign(
        {"name": "r9", "caller_id": CALLER_ID, "script": "您好{name}，您购买的{product}{color}"}
    )
    campaigns_store.save_spec(engine, spec)
    rt = runtime(engine)
    uid, other = agent(engine, "a1"), agent(engine, "a2")
    screen = Screen()
    rt.hub.add(uid, screen)
    await rt.start(cid)
    await rt.agent_login(uid, cid)
    await wait_for(lambda: bool(screen.of("call_connected")))
    (connected,) = screen.of("call_connected")
    call_id = connected["call_id"]
    assert (rt.agent_status(uid) or {}).get("state") == "talk"
    assert connected["script"] == "您好客户1，您购买的kettle[missing: color]"
    assert connected["script_missing"] == ["color"]

    with pytest.raises(Conflict, match="hang it up first"):
        await rt.disposition(uid, call_id, "success")
    with pytest.raises(NotYourCall):
        await rt.agent_hangup(other, call_id)
    result = await rt.agent_hangup(uid, call_id)
    assert result["hung_up"] and result["call_id"] == call_id
    await wait_for(lambda: (rt.agent_status(uid) or {}).get("state") == "wrap")
    await wait_for(lambda: bool(scalar(engine, "SELECT final FROM attempts")))
    assert scalar(engine, "SELECT state FROM attempts") == "completed"
    with pytest.raises(Conflict):  # no longer connected
        await rt.agent_hangup(uid, call_id)

    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    done = await rt.disposition(uid, call_id, "callback", callback_at=at(day, 10), notes="晚点")
    (cb,) = callbacks.list_callbacks(engine)
    assert (cb.owner_kind, cb.owner_id, cb.status) == ("agent", uid, "pending")
    assert (cb.phone, cb.contact_ref, cb.note) == ("+8613800000019", f"call:{call_id}", "晚点")
    assert callbacks.callback_json(cb)["due_at"] == done["callback_at"]
    assert cb.customer_zone == "Asia/Shanghai" and cb.local_time.startswith(f"{day}T10:00")
    assert callbacks.list_callbacks(engine, actor_id=other) == []  # personal to the agent
    assert scalar(engine, "SELECT callback_owner_id FROM contacts") == uid
    await rt.stop_all()


async def test_a_marketing_campaign_without_consent_does_not_start(sqlite_engine: Engine) -> None:
    """Issue 16 item 1, rule 26: with the real gate, a CN marketing campaign none of whose
    records has consent is refused at start with how to record it; one consent unblocks it."""
    from compliance import store

    cid = dialdata.campaign_with_contacts(sqlite_engine, "促销", ["+8613800000011"])
    rt = DialerRuntime(
        sqlite_engine,
        sip_factory=lambda cid: FakeSipPort(script_for),
        default_caller_id=CALLER_ID,
        default_safe_harbor=dialdata.safe_harbor(),
        stop_drain=0.0,
    )
    with pytest.raises(CampaignNotReady) as err:
        await rt.start(cid)
    msg = err.value.message
    assert "none of its 1 records can be called" in msg and "marketing call" in msg
    assert "outdial consent add" in msg and "compliance preview --campaign 促销" in msg
    assert not rt.running
    store.consent_record(sqlite_engine, "+8613800000011", "granted", evidence="form")
    assert (await rt.start(cid))["status"] == "running"
    await rt.stop_all()


def test_engine_settings_come_from_the_typed_dialing_spec(engine: Engine, tmp_path: Any) -> None:
    """Issue 11.3: every dialing field reaches the engine; no max_lines means the trunk's."""
    from pathlib import Path

    from campaigns import prompts, rules, store

    def settings_for(dialing: dict[str, Any]) -> Any:
        spec = rules.parse_campaign(
            {"name": "rv", "mode": "predictive", "caller_id": CALLER_ID, "dialing": dialing}
        )
        cid = store.save_spec(engine, spec)[0].id or 0
        owner = prompts.resolve_owner(engine, "campaign", str(cid))
        prompts.store(Path(tmp_path), owner, "vm", Path(dialdata.safe_harbor()))
        rt = DialerRuntime(
            engine,
            node="n",
            default_safe_harbor=dialdata.safe_harbor(),
            trunk_lines=240,
            engine_options={"data_dir": str(tmp_path)},
        )
        return rt.engine_settings(cid)

    s = settings_for(
        {
            "lines_per_agent": 2.0,
            "abandon_target": 0.01,
            "abandon_cap": 0.02,
            "max_cps": 4.5,
            "ring_timeout": 22,
            "amd": True,
            "machine_action": "leave_message",
            "machine_prompt": "vm",
            "preview_auto_dial_seconds": 12,
            "wrap_up_limit": 45,
            "record_calls": False,
        }
    )
    core = s.core
    assert (core.mode, core.ratio, core.max_lines, core.max_cps) == ("predictive", 2.0, 240, 4.5)
    assert (core.amd, core.abandon_target, core.abandon_cap) == (True, 0.01, 0.02)
    assert (s.ring_timeout, s.machine_action, s.machine_prompt) == (22.0, "leave_message", "vm")
    assert s.machine_wav is not None and s.machine_wav.endswith("vm.wav")
    assert (s.preview_auto_dial_seconds, s.wrap_up_limit) == (12.0, 45.0)
    assert s.record_calls is False
    again = settings_for({"max_lines": 30})
    assert again.core.max_lines == 30
    assert again.record_calls is True  # a campaign records its calls unless it says not to


async def test_a_machine_gets_the_campaigns_message_then_a_hang_up(
    engine: Engine, tmp_path: Any
) -> None:
    """[dialing] amd = true, machine_action = "leave_message": on a machine verdict the
    engine plays the campaign's machine_prompt, then hangs up; no agent is offered it."""
    from pathlib import Path

    from campaigns import prompts, rules, store

    dialing = {"amd": True, "machine_action": "leave_message", "machine_prompt": "vm"}
    spec = rules.parse_campaign({"name": "vm", "caller_id": CALLER_ID, "dialing": dialing})
    cid = store.save_spec(engine, spec)[0].id or 0
    dialdata.add_contacts(engine, cid, ["+8613800000011"])
    ports: list[FakeSipPort] = []

    def port(_cid: int) -> FakeSipPort:
        def script(target: str) -> FakeScript:
            return stock_script(target) if target.startswith("sip:") else FakeScript(amd="machine")

        ports.append(FakeSipPort(script))
        return ports[-1]

    def make() -> DialerRuntime:
        rt = runtime(engine, sip_factory=port)
        rt.engine_options["data_dir"] = str(tmp_path)
        return rt

    with pytest.raises(CampaignNotReady) as missing:
        await make().start(cid)
    assert missing.value.fields["field"] == "dialing.machine_prompt"

    owner = prompts.resolve_owner(engine, "campaign", str(cid))
    wav = prompts.store(Path(tmp_path), owner, "vm", Path(dialdata.safe_harbor()))["path"]
    rt, uid = make(), agent(engine, "vm1")
    await rt.start(cid)
    try:
        await rt.agent_login(uid, cid)
        engine_ = rt.running[cid].engine
        await wait_for(lambda: engine_.machine_messages_left == 1)
        assert [w for _, w in ports[-1].played] == [wav]
        await wait_for(
            lambda: scalar(engine, "SELECT count(*) FROM attempts WHERE ended_at IS NOT NULL") == 1
        )
        assert rt.agent_status(uid)["state"] == "ready"  # never offered the machine
    finally:
        await rt.stop_all()


async def test_wrap_up_past_its_limit_reminds_the_agent(engine: Engine) -> None:
    """[dialing] wrap_up_limit: the screen gets wrap_up_overdue once; the agent stays in
    wrap-up until the disposition is set (it must be committed first)."""
    cid = dialdata.campaign_with_contacts(engine, "wrap", ["+8613800000011"])
    rt = runtime(engine)
    rt.engine_options["wrap_up_limit"] = 0.3  # the spec's whole seconds, shortened for the test
    uid = agent(engine, "w1")
    screen = Screen()
    rt.hub.add(uid, screen)
    await rt.start(cid)
    try:
        await rt.agent_login(uid, cid)
        await wait_for(lambda: bool(screen.of("wrap_up_overdue")))
        (late,) = screen.of("wrap_up_overdue")
        assert late["limit_seconds"] == 0.3
        assert late["call_id"] == screen.of("call_connected")[0]["call_id"]
        assert rt.agent_status(uid)["state"] == "wrap"
        await rt.disposition(uid, late["call_id"], "success")
        assert rt.agent_status(uid)["state"] == "ready"
    finally:
        await rt.stop_all()


def test_a_runtime_dialing_the_simulated_carrier_keeps_its_gauges_apart(
    sqlite_engine: Engine,
) -> None:
    """Issue 17: the node marked simulated gets a gate whose abandon gauges and caps count
    the simulated carrier's calls alone; any other node's gate counts real calls only."""
    cid = dialdata.campaign_with_contacts(sqlite_engine, "simgate", ["+8613800000001"])
    sim = DialerRuntime(sqlite_engine, node=hopper.simulated_node("n1"))
    real = DialerRuntime(sqlite_engine, node="n1")
    assert sim._gate(cid).facts.simulated is True  # type: ignore[attr-defined]
    assert real._gate(cid).facts.simulated is False  # type: ignore[attr-defined]


class StalledScreen:
    """A browser that reads nothing: every send waits forever; closing it is noted."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def send_str(self, data: str) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        self.closed.set()


async def test_an_overflowing_screen_is_closed_and_the_others_stay(sqlite_engine: Engine) -> None:
    """issue 11.2: the runner's screen lane overflows for a browser that reads nothing; the
    runtime (``_drop_screen``) closes that agent's sockets so the page reconnects and
    resyncs, and touches nobody else's."""
    cid = dialdata.campaign_with_contacts(sqlite_engine, "drop1", [])
    rt = runtime(sqlite_engine)
    slow, other = agent(sqlite_engine, "slow"), agent(sqlite_engine, "other")
    stalled, fine = StalledScreen(), Screen()
    rt.hub.add(slow, stalled)
    rt.hub.add(other, fine)
    await rt.start(cid)
    try:
        run = rt.running[cid]
        screens = run.engine.screens
        for i in range(screens.size + 2):  # one stuck in send_str, a full queue, one more
            screens.offer(str(slow), {"type": "call_released", "call_id": f"c{i}"})
            # no await in this loop: "ivr" (nobody's screen) overflows too, and is ignored
            screens.offer("ivr", {"type": "ivr_start", "call_id": f"c{i}"})
        await asyncio.wait_for(stalled.closed.wait(), 5)
        assert rt.hub.connected(slow) == 0 and screens.dropped == 2
        assert rt.hub.connected(other) == 1
        screens.offer(str(other), {"type": "call_released", "call_id": "x"})
        await wait_for(lambda: bool(fine.of("call_released")), 5)
    finally:
        await rt.stop(cid)


def test_the_servers_campaigns_share_its_rtp_port_range(sqlite_engine: Engine) -> None:
    """OUTDIAL_RTP_PORTS reaches every campaign's SIP pool, and all of them draw their
    workers' blocks from one range (sip/rtp_ports.py): two campaigns never overlap."""
    from dialer.runtime import from_config
    from outdial import config

    cfg = config.load({"OUTDIAL_RTP_PORTS": "31000-31999", "OUTDIAL_DATA_DIR": "/tmp"})
    runtime = from_config(sqlite_engine, cfg)
    from sip.pool import SipPool

    first, second = runtime.sip_factory(1), runtime.sip_factory(2)
    assert isinstance(first, SipPool) and isinstance(second, SipPool)
    assert first.rtp_ports is second.rtp_ports
    assert (first.rtp_ports.first, first.rtp_ports.last) == (31000, 31999)
