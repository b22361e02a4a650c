"""Simulated agents (dialer/simagents.py) against a recording stand-in for the runtime: they
log in where they are fewest, hand survey calls to the IVR, set a disposition from the
campaign's own codes after wrap-up, pause with a reason and come back. A hand-advanced clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from campaigns import store
from dialer.agent_ops import dispositions_of
from dialer.simagents import PAUSE_REASONS, SimAgentSettings, SimulatedAgents
from outdial import auth


@dataclass
class Runtime:
    """What SimulatedAgents calls on DialerRuntime, recorded; states set by the test."""

    running: dict[int, Any] = field(default_factory=dict)
    states: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, cid: int, mode: str = "progressive") -> None:
        core = SimpleNamespace(mode=mode)
        self.running[cid] = SimpleNamespace(
            paused=False, agents=set(), engine=SimpleNamespace(settings=SimpleNamespace(core=core))
        )

    def wall(self) -> datetime:
        return datetime(2026, 12, 7, 6, 0, tzinfo=UTC)

    def agent_status(self, uid: int) -> dict[str, Any] | None:
        return self.states.get(uid)

    async def agent_login(self, uid: int, cid: int, sip_uri: str) -> None:
        self.calls.append(("login", uid, cid, sip_uri))
        self.running[cid].agents.add(uid)
        self.states[uid] = {"state": "ready", "campaign_id": cid, "call_id": None}

    async def agent_logout(self, uid: int) -> None:
        self.calls.append(("logout", uid))
        self.running[self.states.pop(uid)["campaign_id"]].agents.discard(uid)

    async def agent_pause(self, uid: int, reason: str) -> None:
        self.calls.append(("pause", uid, reason))
        self.states[uid]["state"] = "paused"

    async def agent_ready(self, uid: int) -> None:
        self.calls.append(("ready", uid))
        self.states[uid]["state"] = "ready"

    async def transfer_to_ivr(self, uid: int, call_id: str) -> None:
        self.calls.append(("ivr", uid, call_id))
        self.states[uid]["state"] = "wrap"

    async def agent_hangup(self, uid: int, call_id: str) -> None:
        self.calls.append(("hangup", uid, call_id))
        self.states[uid]["state"] = "wrap"

    async def disposition(
        self, uid: int, call_id: str, code: str, notes: str, when: Any = None
    ) -> None:
        self.calls.append(("disposition", uid, call_id, code, when is not None))
        self.states[uid].update(state="ready", call_id=None)


def _setup(engine: Engine) -> tuple[Runtime, list[int], int, int]:
    survey = store.create(engine, "s", kind="satisfaction_survey").id
    visit = store.create(engine, "v", kind="return_visit").id
    assert survey is not None and visit is not None
    uids = []
    for i in range(1, 5):
        user = auth.create_user(
            engine, f"sim{i:02d}", "password-1", "agent", "", f"sip:agent-sim{i:02d}@127.0.0.1"
        )
        uids.append(int(user.id or 0))
    auth.create_user(engine, "simon", "password-1", "agent", "", "sip:1001@10.0.0.5")  # a person
    return Runtime(), uids, survey, visit


def test_simulated_agents_work_the_floor_through_the_runtime(sqlite_engine: Engine) -> None:
    rt, uids, survey, visit = _setup(sqlite_engine)
    now = [0.0]
    settings = SimAgentSettings(pause_chance=0.0)
    sims = SimulatedAgents(
        rt,
        sqlite_engine,
        lambda n: f"sip:agent-{n}@127.0.0.1:5999",
        settings,
        seed=1,
        clock=lambda: now[0],
    )

    async def tick(seconds: float = 1.0) -> None:
        now[0] += seconds
        await sims.step()

    async def walk() -> None:
        await tick()
        assert rt.calls == []  # no campaign runs: nobody logs in
        rt.add(survey)
        rt.add(visit)
        await tick()
        logins = [c for c in rt.calls if c[0] == "login"]
        assert {c[1] for c in logins} == set(uids)  # the person "simon" is not driven
        assert sorted(c[2] for c in logins) == sorted([survey, survey, visit, visit])
        assert all(c[3].endswith("@127.0.0.1:5999") for c in logins)
        # a survey call goes to the IVR after the talk time, then a disposition after wrap-up
        agent = next(c[1] for c in logins if c[2] == survey)
        rt.states[agent].update(state="talk", call_id="call-1")
        await tick()
        assert ("ivr", agent, "call-1") not in rt.calls
        await tick(settings.talk[1])
        assert ("ivr", agent, "call-1") in rt.calls
        await tick()
        await tick(settings.wrap[1])
        (done,) = [c for c in rt.calls if c[0] == "disposition"]
        codes = {c.code for c in dispositions_of(sqlite_engine, survey)[0]}
        assert done[2] == "call-1" and done[3] in codes  # one of the campaign's own
        # a return visit's call is ended by the agent after the conversation time
        other = next(c[1] for c in logins if c[2] == visit)
        rt.states[other].update(state="talk", call_id="call-2")
        await tick()
        await tick(settings.converse[1])
        assert ("hangup", other, "call-2") in rt.calls

    asyncio.run(walk())


def test_pauses_have_a_reason_and_end_and_a_crowded_campaign_sheds_agents(
    sqlite_engine: Engine,
) -> None:
    rt, _uids, survey, visit = _setup(sqlite_engine)
    now = [0.0]
    settings = SimAgentSettings(pause_chance=1.0)
    sims = SimulatedAgents(
        rt, sqlite_engine, lambda n: f"sip:agent-{n}@h", settings, seed=2, clock=lambda: now[0]
    )

    async def walk() -> None:
        rt.add(visit)
        now[0] += 1
        await sims.step()  # all four log in to the only campaign
        rt.add(survey)  # a second campaign starts: two move over
        for _ in range(3):
            now[0] += 1
            await sims.step()
        assert {len(run.agents) for run in rt.running.values()} == {2}
        pauses = [c for c in rt.calls if c[0] == "pause"]
        assert pauses and all(c[2] in PAUSE_REASONS for c in pauses)
        now[0] += settings.pause[1] + 1
        await sims.step()
        now[0] += 1
        await sims.step()
        assert any(c[0] == "ready" for c in rt.calls)

    asyncio.run(walk())
