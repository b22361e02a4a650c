"""The campaign runner: one task per running campaign owns its core (issue 11.1, 11.2).

One path for data (shared/STYLE.md): everything that changes a campaign — SIP events, agent
commands from the web, preview dials, schedule holds, the pacer's beat — is a message in the
runner's one inbox, handled in order by one task; nothing else touches
:class:`dialer.core.DialerCore`. The core says when it next needs waking
(``tick(now) -> (actions, wake_at)``) and the runner sleeps until a message or that time.

The actions the core returns go to three lanes, SIP first:

1. SIP commands are sent at once (dialer/sip_lane.py; an INVITE from its own task: a pool
   may wait for a worker);
2. screen pushes go to a bounded queue per agent (dialer/screens.py): a slow browser never
   delays dialing;
3. state goes to the write-behind writer (dialer/writer.py), committed in batches.

Blocking work (claiming leads, the compliance gate, the attempt row: dialer/lead_feed.py) runs
in threads outside the runner; its results come back as messages. Every dial passes the
compliance gate twice: when the lead is selected and again immediately before the INVITE
(issue 6); the attempt row is committed before the INVITE.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine as DbEngine

from campaigns.callback_times import TeamsOnline
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import callback_agents, hopper, recovery
from dialer.core import DialerCore
from dialer.errors import UnknownAgent
from dialer.inbox import (
    STOP,
    TICK,
    Ask,
    Claimed,
    Dialing,
    Gauge,
    Message,
    Prepared,
    Settled,
    WrapCheck,
)
from dialer.ivr import IvrRunner
from dialer.lead_feed import LeadFeed
from dialer.ports import ComplianceGate, EngineSettings, Overflow, Push, SipPort
from dialer.screens import ScreenLanes
from dialer.sip_lane import SIP_ACTIONS, SipLane
from dialer.snapshot import snapshot
from dialer.softphone_check import SoftphoneChecks
from dialer.wrap_reminder import WrapReminder
from dialer.writer import Outcome, StateWriter
from outdial.models import utcnow
from sip import events as sipev

log = structlog.get_logger(__name__)

__all__ = [
    "TICK",
    "CampaignEngine",
    "CampaignRunner",
    "ComplianceGate",
    "EngineSettings",
    "GateVerdict",
    "Push",
    "SipPort",
]


class CampaignRunner:
    """Runs one campaign: ``await start()``, agents come and go, ``await stop()``."""

    def __init__(
        self,
        db: DbEngine,
        sip: SipPort,
        settings: EngineSettings,
        gate: ComplianceGate,
        push: Push | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
        ivr: IvrRunner | None = None,
        on_screen_overflow: Overflow | None = None,
    ) -> None:
        self.db, self.sip, self.settings, self.gate = db, sip, settings, gate
        self.ivr = ivr  # agentless: made at the first StartIvr unless given
        self.core = DialerCore(settings.core)
        self.core.pace_every = settings.pace_every
        self.push = push
        self.clock, self.wall = clock, wall
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.screens = ScreenLanes(push, on_screen_overflow)
        limit = settings.wrap_up_limit
        self.wrap_reminder = WrapReminder(self.core.agents, self.screens, self.inbox, limit)
        self.writer = StateWriter(
            db,
            settings.campaign_id,
            settings.retry,
            wall,
            audit=gate.record_outcome,
            on_outcome=self._outcome_committed,
        )
        self.agent_users: dict[str, int] = {}  # agent id -> users.id
        self.user_teams: dict[int, str] = {}  # users.id -> users.team (team callbacks)
        self.leads: dict[str, act.Lead] = {}
        self.amd: dict[str, str] = {}
        self.finished = 0  # call outcomes committed
        self.recovered: list[recovery.Recovered] = []  # calls closed at start-up
        self.relearned = 0  # past attempts the pacer learned from at start-up
        #: every SIP failure and caught error, by where it happened (issue 11.4: none is
        #: dropped unlogged and uncounted); ``outdial campaign status`` shows them
        self.failures: Counter[str] = Counter()
        self.lane = SipLane(sip, settings, self.inbox, self.failures)  # the first lane
        self.feed = LeadFeed(db, settings, gate, wall, self.inbox, self.failures)  # claims
        self.handled = 0  # messages handled (benchmarks)
        self.phones = SoftphoneChecks()  # the test calls at sign-in (no customer, no attempt)
        self._tasks: list[asyncio.Task[None]] = []
        self._io: set[asyncio.Task[Any]] = set()  # claims, gate checks, attempt rows
        self._side = self.lane.side  # INVITEs; messages played, then a hang-up
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._gauge_busy = False
        #: a supervisor's leg (issue 19.1): its events go to dialer/monitoring.py when set
        self.on_monitor: Callable[[sipev.SipEvent], None] | None = None

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, dialing: bool = True) -> int:
        """Recover attempts a crash left in flight, then run. Returns how many were closed."""
        recovered = await self._recover()
        self.core.dialing = dialing
        self.core.next_pace = self.clock()
        self.writer.start()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"runner-{self.settings.campaign_id}"),
            asyncio.create_task(self._pump(), name=f"sip-events-{self.settings.campaign_id}"),
        ]
        self.inbox.put_nowait(TICK)
        return len(recovered)

    async def _recover(self) -> list[recovery.Recovered]:
        """Close what a crash left open (dialer/recovery.py), every audited decision with its
        outcome (rule 36); the pacer relearns from the campaign's recent calls."""
        cid, wall = self.settings.campaign_id, self.wall()
        recovered = await asyncio.to_thread(
            recovery.close_after_crash,
            self.db,
            self.gate,
            cid,
            self.settings.retry,
            wall,
            self.settings.node,
        )
        self.recovered = recovered
        past = await asyncio.to_thread(recovery.recent_calls, self.db, cid, wall)
        self.relearned = self.core.pacer.replay(past)
        return recovered

    def pause(self) -> None:
        """Stop placing new calls; calls in progress go on."""
        self.inbox.put_nowait(Dialing(False))

    def resume(self) -> None:
        self.inbox.put_nowait(Dialing(True))

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop dialing, let live calls end (or hang them up), commit, then stop the tasks."""
        self.inbox.put_nowait(Dialing(False))
        deadline = self.clock() + drain_timeout
        while self._io and self.clock() < deadline:  # leads being prepared get placed
            await asyncio.sleep(0.02)
        while (self.core.calls or not self.inbox.empty()) and self.clock() < deadline:
            await asyncio.sleep(0.05)
        for call_id in list(self.core.calls):
            await self.lane.hang_up(call_id)
        while (self.core.calls or not self.inbox.empty()) and self.clock() < deadline + 5:
            await asyncio.sleep(0.05)
        if self.ivr is not None:  # the survey responses of ended calls are finished
            await self.ivr.drain(timeout=5.0)
        self.inbox.put_nowait(STOP)
        await self._tasks[0]
        self._tasks[1].cancel()
        await asyncio.gather(self._tasks[1], return_exceptions=True)
        await self.writer.close()  # every outcome committed
        await self.screens.drain()
        await self.screens.close()

    @property
    def messages_played(self) -> int:
        """Safe-harbor messages played to the end (rules 3, 4, 20)."""
        return self.lane.messages_played

    @property
    def machine_messages_left(self) -> int:
        return self.lane.machine_messages_left

    def snapshot(self) -> dict[str, Any]:
        """The campaign's live state (dialer/snapshot.py) and the runner's own counters."""
        return {
            **snapshot(self.core, self.clock()),
            "messages_played": self.messages_played,
            "failures": dict(self.failures),
            "writer_backlog": self.writer.backlog,
            "screens_dropped": self.screens.dropped,
            "relearned_at_start": self.relearned,
        }

    # --- agents (the web layer calls these; each is a message) --------------------------------
    async def ask(self, fn: Callable[[float], list[act.Action]]) -> None:
        """Run ``fn(now)`` on the core inside the runner and carry out its actions."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait(Ask(fn, done))
        await done

    async def agent_login(
        self, agent_id: str, user_id: int, uri: str, owed_call: str | None = None, team: str = ""
    ) -> None:
        def login(now: float) -> list[act.Action]:
            self.agent_users[agent_id] = user_id
            self.user_teams[user_id] = team
            return self.core.agent_login(agent_id, uri, now, owed_call)

        await self.ask(login)

    async def agent_ready(self, agent_id: str) -> None:
        await self.ask(lambda now: self.core.agent_ready(agent_id, now))

    async def agent_pause(self, agent_id: str, reason: str) -> None:
        await self.ask(lambda now: self.core.agent_pause(agent_id, reason, now))

    async def agent_logout(self, agent_id: str) -> None:
        def logout(now: float) -> list[act.Action]:
            self.phones.forget(agent_id)
            return self.core.agent_logout(agent_id, now)

        await self.ask(logout)

    async def test_softphone(self, agent_id: str) -> None:
        """Ring the signed-in agent's softphone once (dialer/softphone_check.py); the result
        reaches their screen as ``softphone_test`` and stays in ``phones.latest``."""

        def ring(now: float) -> list[act.Action]:
            agent = self.core.agents.get(agent_id)
            if agent is None:
                raise UnknownAgent("log in first", agent=agent_id)
            return self.phones.start(agent_id, agent.uri, now)

        await self.ask(ring)

    async def transfer_to_ivr(self, agent_id: str, call_id: str) -> None:
        """The agent hands the customer to the campaign's survey IVR and goes to wrap-up."""
        await self.ask(lambda now: self.core.transfer_to_ivr(agent_id, call_id, now))

    async def disposition(
        self,
        agent_id: str,
        call_id: str,
        code: str,
        final: bool,
        callback_at: datetime | None = None,
        notes: str = "",
        pause_reason: str | None = None,
    ) -> None:
        """Barriers: the call's outcome is committed, then the agent's result; only then does
        the agent leave wrap-up (and can be offered the next call)."""
        await self.writer.barrier()
        await asyncio.to_thread(
            hopper.record_disposition,
            self.db,
            call_id,
            code,
            final,
            callback_at,
            notes,
            self.wall(),
        )
        await self.ask(lambda now: self.core.agent_disposition(agent_id, now, pause_reason))

    async def dial_preview(self, agent_id: str, lead: act.Lead) -> str | None:
        """Preview mode: the agent chose to dial this record; they are reserved for it."""
        call_id = await self.feed.prepare(lead)
        if call_id is None:
            return None
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait(Prepared(call_id, lead, agent_id, done, paced=False))
        return await done

    # --- the runner's task ------------------------------------------------------------------
    async def _pump(self) -> None:
        """SIP events join the one inbox."""
        while True:
            self.inbox.put_nowait(await self.sip.events.get())

    async def _run(self) -> None:
        while True:
            msg = await self.inbox.get()
            if msg is STOP:
                if self._timer is not None:
                    self._timer.cancel()
                return
            self.handled += 1
            try:
                if msg is TICK:
                    self._timer = self._timer_at = None
                else:
                    await self._handle(msg)
                if self._timer is None:  # the core may have work now: ask it when
                    await self._tick()
            except Exception:  # one bad message must not stop the campaign
                self.failures["message"] += 1
                log.exception("runner failed on a message", message=type(msg).__name__)

    async def _tick(self) -> None:
        now = self.clock()
        actions, wake_at = self.core.tick(now)
        actions += self.phones.expire(now)
        phones_at = self.phones.next_deadline()
        if phones_at is not None:
            wake_at = phones_at if wake_at is None else min(wake_at, phones_at)
        await self._carry_out(actions)
        if wake_at is not None:
            self._arm(wake_at)

    def _arm(self, at: float) -> None:
        """Wake the runner at ``at`` (the core's clock) unless it wakes before anyway."""
        if self._timer_at is not None and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, at - self.clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self.inbox.put_nowait, TICK)
        self._timer_at = at

    async def _handle(self, msg: Message) -> None:
        if isinstance(msg, Ask):
            try:
                actions = msg.fn(self.clock())
                await self._carry_out(actions)
            except Exception as exc:  # the caller's error (UnknownAgent, IllegalTransition)
                if not msg.done.done():
                    msg.done.set_exception(exc)
                return
            if not msg.done.done():
                msg.done.set_result(None)
        elif isinstance(msg, Claimed):
            self._claimed(msg)
        elif isinstance(msg, Prepared):
            await self._place(msg)
        elif isinstance(msg, Settled):
            self.core.claims_settled(msg.count)
        elif isinstance(msg, Gauge):
            self._gauge_busy = False
            self.core.pacer.set_abandon_gauge(msg.abandoned, msg.live)
        elif isinstance(msg, Dialing):
            self.core.dialing = msg.on
            self.core.next_pace = self.clock()
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._timer_at = None
        elif isinstance(msg, WrapCheck):
            self.wrap_reminder.check(msg)
        else:
            await self._on_sip(msg)

    async def _on_sip(self, e: sipev.SipEvent) -> None:
        now = self.clock()
        core = self.core
        if self.phones.owns(getattr(e, "call_id", "")):  # a test call at sign-in
            if isinstance(e, sipev.CommandFailed):
                self.lane.failed("softphone_test", e.call_id, f"{e.error_code}: {e.message}")
            await self._carry_out(self.phones.on_event(e, now))
            return
        if self.ivr is not None and self.ivr.on_event(e) and not isinstance(e, sipev.CallEnded):
            return  # a key, prompt or recording of an IVR call: the IVR flow's alone
        if isinstance(e, sipev.CallProgress) and e.call_id in core.calls:
            await self._carry_out(core.on_progress(e.call_id, e.early_media, now))
        elif isinstance(e, sipev.CallAnswered) and e.call_id in core.calls:
            await self._carry_out(core.on_answered(e.call_id, now))
            self._arm(now + core.config.connect_limit)  # its deadline (rule 3)
        elif isinstance(e, sipev.AmdResult) and e.call_id in core.calls:
            self.amd[e.call_id] = core.amd_label(e.call_id, str(e.verdict))
            verdict = core.on_amd(e.call_id, str(e.verdict), now, e.speech, e.reason)
            await self._carry_out(verdict)
        elif isinstance(e, sipev.AgentLegBridged) and e.call_id in core.calls:
            await self._carry_out(core.on_agent_bridged(e.call_id, now))
        elif isinstance(e, sipev.AgentLegEnded) and e.call_id in core.calls:
            await self._carry_out(core.on_agent_failed(e.call_id, now))
        elif isinstance(e, sipev.PromptFinished) and self.lane.prompt_over(e.call_id):
            pass
        elif isinstance(e, sipev.MONITOR_EVENTS) or (
            isinstance(e, sipev.CommandFailed) and e.command in sipev.MONITOR_COMMANDS
        ):
            if self.on_monitor is not None:
                self.on_monitor(e)
        elif isinstance(e, sipev.CommandFailed):
            await self._command_failed(e)
        elif isinstance(e, sipev.CallEnded):
            self.lane.prompt_over(e.call_id)
            ended = core.on_ended(e.call_id, str(e.outcome), now, e.sip_status, e.reason)
            await self._carry_out(ended)

    # --- dialing: claims and attempt rows outside the runner, placing inside ------------------
    def _pace(self, calls: int) -> None:
        if self.settings.core.mode == "predictive" and not self._gauge_busy:
            # the campaign's legal gauge, from compliance (issue 6): it outlives this process
            self._gauge_busy = True
            self._io_task(self._read_gauge())
        if calls > 0:
            self._io_task(
                self.feed.claim(calls, frozenset(self._ready_owners()), self.teams_online())
            )

    async def _read_gauge(self) -> None:
        try:
            gauge = await asyncio.to_thread(self.gate.abandon_gauge, self.wall())
        except Exception:  # the database is down: the pacer keeps its own estimate
            self.failures["abandon_gauge"] += 1
            log.exception("abandon gauge not read", campaign=self.settings.campaign_id)
            self._gauge_busy = False
            return
        if gauge is None:  # no legal gauge (a test's gate): the pacer keeps its own counts
            self._gauge_busy = False
            return
        self.inbox.put_nowait(Gauge(*gauge))

    def _claimed(self, msg: Claimed) -> None:
        self.core.claims_settled(msg.asked - len(msg.leads))
        leads, back = callback_agents.split_claimed(
            msg.leads, self._ready_owners(), self.teams_online().ready
        )
        for lead in back:  # busy since the claim: back to the queue
            self.core.claims_settled(1)
            self._io_task(asyncio.to_thread(hopper.unclaim, self.db, lead))
        if leads:
            self._io_task(self.feed.prepare_all(leads))

    async def _place(self, msg: Prepared) -> None:
        if msg.paced:
            self.core.claims_settled(1)
        agent_id = msg.agent_id
        if (msg.lead.owner is not None or msg.lead.team is not None) and agent_id is None:
            agent_id = callback_agents.reserved_for(msg.lead, self._ready_owners(), self.user_teams)
            if agent_id is None:
                # the owner was taken while the attempt was written: no INVITE went out, so
                # the attempt is withdrawn and the callback waits for the agent's next ready
                self._io_task(self.feed.withdraw(msg.call_id, msg.lead))
                return
        try:
            actions = self.core.place(msg.call_id, msg.lead, self.clock(), agent_id)
        except Exception as exc:  # the previewing agent left meanwhile
            self.failures["place"] += 1
            log.warning("a prepared call was not placed", call_id=msg.call_id, error=str(exc))
            self._io_task(self.feed.withdraw(msg.call_id, msg.lead))
            if msg.done is not None and not msg.done.done():
                msg.done.set_exception(exc)
            return
        self.leads[msg.call_id] = msg.lead
        await self._carry_out(actions)
        if msg.done is not None and not msg.done.done():
            msg.done.set_result(msg.call_id)

    def teams_online(self) -> TeamsOnline:
        """The teams of the agents signed in to this campaign and of those ready now."""
        grace = self.settings.team_callback_grace_min
        return callback_agents.teams_online(
            self.core.agents, self.agent_users, self.user_teams, grace
        )

    def _ready_owners(self) -> dict[int, str]:
        return callback_agents.ready_owners(self.core.agents, self.agent_users)

    def _io_task(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._io.add(task)
        task.add_done_callback(self._io_done)

    def _io_done(self, task: asyncio.Task[Any]) -> None:
        self._io.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.failures["io"] += 1
            log.error("runner I/O failed", error=repr(task.exception()))

    # --- the three lanes ----------------------------------------------------------------------
    async def _carry_out(self, actions: list[act.Action]) -> None:
        """SIP commands first and at once; then screens and state, which never wait."""
        for a in actions:
            if isinstance(a, SIP_ACTIONS):
                why = await self.lane.send(a)
                if why is not None:  # an agent's leg failed: the next free agent gets the
                    # call, or the connect limit abandons it with the message (rule 3)
                    now = self.clock()
                    await self._carry_out(
                        self.core.on_command_failed(a.call_id, "ConnectAgent", now, why)
                    )
            elif isinstance(a, act.StartIvr):
                self._start_ivr(a)
        wall = self.wall()
        for a in actions:
            if isinstance(a, act.Persist):
                self.writer.transition(a.transition, wall)
            elif isinstance(a, act.Pace):
                self._pace(a.calls)
            elif isinstance(a, act.CallFinished):
                self._finished(a)
            elif isinstance(a, act.AgentConnected):
                self._connected(a)
            elif isinstance(a, act.AgentState):
                self.screens.offer(
                    a.agent_id, {"type": "agent_state", "state": a.state, "reason": a.reason}
                )
                self.wrap_reminder.arm(a)
            elif isinstance(a, act.AgentReleased):
                self.screens.offer(a.agent_id, {"type": "call_released", "call_id": a.call_id})
            elif isinstance(a, act.SoftphoneTested):
                self.screens.offer(
                    a.agent_id,
                    {"type": "softphone_test", "call_id": a.call_id, "result": a.result,
                     "sip_status": a.sip_status, "reason": a.reason},
                )  # fmt: skip

    def _start_ivr(self, a: act.StartIvr) -> None:
        agent_user = self.agent_users.get(a.agent_id) if a.agent_id else None
        self._ivr().start(a.call_id, a.lead, agent_user)
        self.screens.offer("ivr", {"type": "ivr_start", "call_id": a.call_id})
        if a.agent_id:
            self.screens.offer(
                a.agent_id, {"type": "call_transferred", "call_id": a.call_id, "to": "ivr"}
            )

    def _finished(self, a: act.CallFinished) -> None:
        agent_user = self.agent_users.get(a.agent_id) if a.agent_id else None
        f = hopper.Finished(
            a.call_id,
            a.state,
            a.sip_outcome,
            a.sip_status,
            a.reason,
            a.abandoned,
            agent_user,
            a.answer_to_bridge,
            self.amd.pop(a.call_id, ""),
        )
        self.writer.outcome(f, self.leads.pop(a.call_id, a.lead))
        if a.agent_id:
            self.screens.offer(
                a.agent_id, {"type": "call_ended", "call_id": a.call_id, "state": a.state}
            )

    def _outcome_committed(self, outcome: Outcome) -> None:
        self.finished += 1

    def _connected(self, a: act.AgentConnected) -> None:
        user_id = self.agent_users.get(a.agent_id)
        if user_id is not None:  # the call is this agent's, even if the server dies now
            self.writer.owner(a.call_id, user_id)
        self.screens.offer(
            a.agent_id,
            {
                "type": "call_connected",
                "call_id": a.call_id,
                "number": a.lead.number,
                "record": a.lead.data,
                "answer_to_bridge_ms": round(a.answer_to_bridge * 1000, 1),
            },
        )

    def _ivr(self) -> IvrRunner:
        if self.ivr is None:
            self.ivr = IvrRunner(
                self.db,
                self.sip,
                self.settings.campaign_id,
                self.settings.data_path(),
                wall=self.wall,
            )
        return self.ivr

    async def _command_failed(self, e: sipev.CommandFailed) -> None:
        """A SIP command failed (issue 11.4): logged, counted, and the core decides."""
        self.lane.failed(e.command, e.call_id, f"{e.error_code}: {e.message}")
        if e.command == "PlayPrompt" and self.lane.prompt_over(e.call_id, refused=True):
            return  # the message cannot play: the call is hung up at once
        why = f"{e.error_code}: {e.message}"
        await self._carry_out(self.core.on_command_failed(e.call_id, e.command, self.clock(), why))


#: the name the runtime, the web layer and the tests have used since issue 6
CampaignEngine = CampaignRunner
