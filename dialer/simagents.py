"""Simulated agents acting through the real agent runtime (issue 17), so the floor board and
the reports fill with the data a real floor would make.

Each simulated agent is a user (``outdial demo`` makes sim01..sim10) whose softphone is
the simulated carrier's (``sip:agent-sim01@127.0.0.1:PORT``, auto-answer). Once a second
the driver looks at every agent's state in the runtime — the same ``AgentOps`` calls the
agent API makes — and does what an agent would:

* logged out while a campaign runs: log in to the running campaign with the fewest of us;
* talking: after a talk time, a survey campaign's call goes to the survey IVR
  (``transfer_to_ivr``); any other call is ended by the agent after a conversation time
  (unless the simulated customer hangs up first);
* wrap-up: after a wrap-up time, set a disposition drawn from the campaign's own codes
  (mostly success; now and then a callback, a refusal, a do-not-call);
* ready: now and then pause with a reason, and come back after a while.

The decisions are drawn from ``random.Random``; nothing here is a rule of the dialer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine as DbEngine

from dialer.agent_ops import dispositions_of, pause_reasons_of

log = structlog.get_logger(__name__)

PAUSE_REASONS = ("break", "coaching", "meeting")

#: The users that are simulated agents: ``outdial demo`` makes them (outdial/demo.py), named
#: ``sim*`` with the simulated carrier's softphone. Reports leave their time out by default.
SIM_AGENTS = "SELECT id FROM users WHERE username LIKE 'sim%' AND sip_uri LIKE 'sip:agent-%'"


@dataclass
class _Agent:
    user_id: int
    username: str
    state: str = ""
    since: float = 0.0
    talk_for: float = 0.0
    converse_for: float = 0.0
    wrap_for: float = 0.0
    pause_for: float = 0.0
    transferred: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class SimAgentSettings:
    talk: tuple[float, float] = (3.0, 8.0)  # seconds before a survey call goes to the IVR
    converse: tuple[float, float] = (15.0, 45.0)  # other calls: the agent wraps the talk up
    wrap: tuple[float, float] = (2.0, 8.0)
    pause_chance: float = 1 / 400  # per second while ready
    pause: tuple[float, float] = (15.0, 45.0)
    tick: float = 1.0


def softphone_uri(trunk: str, username: str) -> str:
    """The simulated carrier's auto-answering softphone for ``username`` (``host:port`` of the
    carrier; sip/simcarrier.py ``agent_uri``): what a person signs in with under the
    simulator."""
    return f"sip:agent-{username}@{trunk}"


class SimulatedAgents:
    """Drives the users named ``sim*`` with a ``sip:agent-...`` softphone through ``runtime``."""

    def __init__(
        self,
        runtime: Any,
        db: DbEngine,
        softphone: Callable[[str], str],
        settings: SimAgentSettings | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.db = db
        self.softphone = softphone
        self.settings = settings or SimAgentSettings()
        self.rng = random.Random(seed)
        self.clock = clock
        self.agents: dict[int, _Agent] = {}
        self.kinds: dict[int, str] = {}
        self.actions = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except Exception:
                log.exception("simulated agents")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.tick)

    async def step(self) -> None:
        await asyncio.to_thread(self._load)
        for agent in list(self.agents.values()):
            try:
                await self._act(agent)
            except Exception as exc:  # a refusal (409, 400) is the runtime saying no: next tick
                log.info("simulated agent refused", agent=agent.username, why=str(exc)[:200])

    def _load(self) -> None:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.text(
                    SIM_AGENTS.replace("SELECT id", "SELECT id, username") + " AND disabled = :f"
                ),
                {"f": False},
            ).all()
            for cid in self.runtime.running:
                if cid not in self.kinds:
                    kind = conn.execute(
                        sa.text("SELECT kind FROM campaigns WHERE id = :c"), {"c": cid}
                    ).scalar()
                    self.kinds[cid] = str(kind or "")
        for uid, name in rows:
            self.agents.setdefault(int(uid), _Agent(int(uid), str(name)))

    async def _act(self, a: _Agent) -> None:
        rt, s, now = self.runtime, self.settings, self.clock()
        status = rt.agent_status(a.user_id)
        state = status["state"] if status else "logged_out"
        if state != a.state:
            a.state, a.since = state, now
            a.talk_for = self.rng.uniform(*s.talk)
            a.converse_for = self.rng.uniform(*s.converse)
            a.wrap_for = self.rng.uniform(*s.wrap)
        held = now - a.since
        if state == "logged_out":
            await self._login(a)
        elif state == "talk" and status:
            await self._talk(a, status, held)
        elif state == "wrap" and status and held >= a.wrap_for:
            await self._dispose(a, status)
        elif state == "ready" and status and self._crowded(int(status["campaign_id"])):
            await rt.agent_logout(a.user_id)  # next tick: the campaign with the fewest of us
            self.actions += 1
        elif state == "ready" and self.rng.random() < s.pause_chance * s.tick:
            a.pause_for = self.rng.uniform(*s.pause)
            cid = int(status["campaign_id"]) if status else None
            listed = await asyncio.to_thread(pause_reasons_of, self.db, cid) if cid else ()
            # a reason the campaign lists (its own [[pause_reasons]] or the default ones)
            usable = [r for r in PAUSE_REASONS if r in listed] or list(listed)
            if usable:
                await rt.agent_pause(a.user_id, self.rng.choice(usable))
            self.actions += 1
        elif state == "paused" and held >= (a.pause_for or s.pause[0]):
            await rt.agent_ready(a.user_id)
            self.actions += 1

    def _load_by_campaign(self) -> dict[int, int]:
        """Agents logged in per running campaign that takes agents."""
        return {
            cid: len(run.agents)
            for cid, run in self.runtime.running.items()
            if not run.paused and run.engine.settings.core.mode != "agentless"
        }

    def _crowded(self, campaign_id: int) -> bool:
        """More than one agent above the emptiest campaign: move over (a campaign started
        after the others gets its share of the floor)."""
        load = self._load_by_campaign()
        return campaign_id in load and load[campaign_id] > min(load.values()) + 1

    async def _login(self, a: _Agent) -> None:
        rt = self.runtime
        load = self._load_by_campaign()
        if not load:
            return
        cid = min(load, key=lambda c: (load[c], c))
        await rt.agent_login(a.user_id, cid, sip_uri=self.softphone(a.username))
        self.actions += 1

    async def _talk(self, a: _Agent, status: dict[str, Any], held: float) -> None:
        call_id = str(status.get("call_id") or "")
        cid = int(status["campaign_id"])
        if self.kinds.get(cid) == "satisfaction_survey" and held >= a.talk_for:
            if call_id and call_id not in a.transferred:
                a.transferred.add(call_id)
                await self.runtime.transfer_to_ivr(a.user_id, call_id)
                self.actions += 1
        elif held >= a.converse_for and call_id:
            await self.runtime.agent_hangup(a.user_id, call_id)
            self.actions += 1

    async def _dispose(self, a: _Agent, status: dict[str, Any]) -> None:
        call_id = str(status.get("call_id") or "")
        if not call_id:
            return
        cid = int(status["campaign_id"])
        codes, _region = await asyncio.to_thread(dispositions_of, self.db, cid)
        code, callback = self._pick(codes)
        when = self.runtime.wall() + timedelta(hours=2) if callback else None
        try:
            await self.runtime.disposition(a.user_id, call_id, code, "simulated agent", when)
        except Exception:
            if not callback:
                raise
            fallback, _ = self._pick([c for c in codes if not c.callback])
            await self.runtime.disposition(a.user_id, call_id, fallback, "simulated agent")
        self.actions += 1

    def _pick(self, codes: Any) -> tuple[str, bool]:
        """Mostly a success; sometimes a non-success final, a callback, a do-not-call."""
        weighted: list[tuple[Any, float]] = []
        for c in codes:
            if c.success:
                w = 0.75
            elif c.callback:
                w = 0.08
            elif c.do_not_call or not getattr(c, "contact", True):
                w = 0.02
            else:
                w = 0.13
            weighted.append((c, w))
        chosen = self.rng.choices([c for c, _ in weighted], weights=[w for _, w in weighted])[0]
        return str(chosen.code), bool(chosen.callback)
