"""The process-wide owner of running campaign engines (what the web API and CLI talk to).

One :class:`DialerRuntime` per process holds a :class:`dialer.engine.CampaignEngine` per
running campaign, each with its own SIP port (a ``sip.pool.SipPool`` by default, created
when the campaign starts) and its own compliance gate (``compliance.gate.gate_for``). It
keeps the campaign row's ``status`` in step, persists agents' sessions, fans the engine's
pushes out to the agents' WebSockets, and persists the pacer's decisions so that
``outdial campaign status`` can say why a campaign is (not) dialing.

There is no allow-all fallback: if no compliance gate can be built, a campaign does not
start (:class:`dialer.errors.GateUnavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine as DbEngine

from campaigns.rules import RetryPolicy
from dialer import launch, recovery, sessions
from dialer import status as dbstatus
from dialer.agent_ops import WRAP_AFTER_RESTART, AgentDesk
from dialer.campaign_ports import GateFactory, ManagedPort, SipFactory, default_gate, sip_pool
from dialer.core import CoreConfig, connect_from_for
from dialer.engine import CampaignEngine
from dialer.errors import CampaignNotReady, NotRunning
from dialer.hopper import SIMULATED_NODE
from dialer.pacing import Decision
from dialer.ports import ComplianceGate, EngineSettings
from outdial.memo import Memo
from outdial.models import utcnow
from sip.commands import is_e164
from sip.config import PoolConfig

log = structlog.get_logger(__name__)

DECISION_REFRESH = 30.0  # seconds: an unchanged pacer decision is persisted again this often
DECISION_MIN_GAP = 5.0  # seconds between persisted decisions that changed (about 17k rows/day)


@dataclass
class Running:
    """One campaign this process dials."""

    campaign_id: int
    engine: CampaignEngine
    port: ManagedPort
    paused: bool = False  # by a manager (or a restart of a paused campaign)
    held: bool = False  # by its schedule (dialer/scheduling.py)
    monitor: asyncio.Task[None] | None = None
    last_decision: tuple[Decision, float] | None = None
    agents: set[int] = field(default_factory=set)  # user ids logged in here

    def hold(self, *, paused: bool | None = None, held: bool | None = None) -> None:
        """The one place a campaign's pause is decided: its runner places new calls only
        when neither a manager nor its schedule holds it (the runner's ``core.dialing``
        follows). A manager's resume outside the schedule does not dial."""
        self.paused = self.paused if paused is None else paused
        self.held = self.held if held is None else held
        if self.paused or self.held:
            self.engine.pause()
        else:
            self.engine.resume()


class DialerRuntime:
    """Starts, pauses, resumes and stops campaigns; agents work through its ``desk``
    (dialer/agent_ops.py), whose methods it offers as its own."""

    def __init__(
        self,
        db: DbEngine,
        *,
        sip_factory: SipFactory | None = None,
        pool_config: PoolConfig | None = None,
        gate_factory: GateFactory = default_gate,
        node: str | None = None,
        default_caller_id: str = "",
        default_safe_harbor: str | None = None,
        owned_numbers: frozenset[str] | None = None,
        trunk_lines: int = 100,
        engine_options: Mapping[str, Any] | None = None,
        stop_drain: float = 10.0,
        decision_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.sip_factory = sip_factory or sip_pool(pool_config)
        self.gate_factory = gate_factory
        self.node = node or socket.gethostname()[:64]
        self.default_caller_id = default_caller_id
        self.default_safe_harbor = default_safe_harbor
        #: company-owned caller IDs (rules 11, 23, 27); None: the campaign's own counts as owned
        self.owned_numbers = owned_numbers
        #: calls in flight the trunk carries; a campaign without its own max_lines gets this
        self.trunk_lines = trunk_lines
        self.engine_options = dict(engine_options or {})
        self.stop_drain = stop_drain
        self.decision_every = decision_every
        self.clock, self.wall = clock, wall
        self.running: dict[int, Running] = {}
        self._lock = asyncio.Lock()
        self.desk = AgentDesk(self)
        self.hub, self.agent_campaign, self.previews = (
            self.desk.hub,
            self.desk.agent_campaign,
            self.desk.previews,
        )
        # what the web layer, the simulated agents and the CLI call: the desk's methods
        self.agent_login, self.agent_ready = self.desk.agent_login, self.desk.agent_ready
        self.agent_pause, self.agent_logout = self.desk.agent_pause, self.desk.agent_logout
        self.agent_status, self.agent_hangup = self.desk.agent_status, self.desk.agent_hangup
        self.disposition, self.transfer_to_ivr = self.desk.disposition, self.desk.transfer_to_ivr
        self.owns_live_call = self.desk.owns_live_call
        self.preview_next, self.preview_dial = self.desk.preview_next, self.desk.preview_dial
        self.preview_skip, self.live_amd = self.desk.preview_skip, self.desk.live_amd
        self.test_softphone = self.desk.test_softphone

    # --- campaigns ------------------------------------------------------------------------
    async def start(self, campaign_id: int) -> dict[str, Any]:
        """Start dialing a campaign (or resume it if paused here)."""
        async with self._lock:
            run = self.running.get(campaign_id)
            if run is None:
                await self._start(campaign_id)
            elif run.paused:
                run.hold(paused=False)
                status = "scheduled" if run.held else "running"
                await asyncio.to_thread(dbstatus.set_campaign_status, self.db, campaign_id, status)
            await self._desire(campaign_id, "running")
        return await self.status(campaign_id)

    async def _forget(self, campaign_id: int) -> None:
        """Stop a campaign that is meant to run but does not (its resumption was refused, or
        its server is gone): it will not resume at the next start."""
        row = await asyncio.to_thread(recovery.run_of, self.db, campaign_id)
        if row is None or row.desired == "stopped":
            raise NotRunning(f"campaign {campaign_id} is not running here", campaign=campaign_id)
        await self._desire(campaign_id, "stopped")
        await asyncio.to_thread(dbstatus.set_campaign_status, self.db, campaign_id, "stopped")

    async def _desire(self, campaign_id: int, desired: str) -> None:
        """What the manager wants survives a restart (issue 16 item 5)."""
        await asyncio.to_thread(
            recovery.desire, self.db, campaign_id, desired, self.node, self.wall()
        )

    async def resume_all(self) -> list[int]:
        """At server start: run again every campaign meant to run (or be paused) here. Launch
        checks run again; a refusal is logged and kept for the status. Returns those resumed."""
        resumed: list[int] = []
        for row in await asyncio.to_thread(recovery.to_resume, self.db, self.node):
            cid = row.campaign_id
            try:
                await self.start(cid)
                if row.desired == "paused":
                    await self.pause(cid)
            except Exception as exc:
                await self._refused(cid, exc)
                continue
            resumed.append(cid)
            log.info("campaign resumed after a restart", campaign=cid, desired=row.desired)
        return resumed

    async def _refused(self, campaign_id: int, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        log.warning("campaign not resumed after a restart", campaign=campaign_id, why=message)
        await asyncio.to_thread(recovery.refuse, self.db, campaign_id, message, self.wall())
        await asyncio.to_thread(dbstatus.set_campaign_status, self.db, campaign_id, "interrupted")
        try:  # what the dead engine left open is closed all the same (and audited)
            settings_retry = await asyncio.to_thread(self._retry_policy, campaign_id)
            gate = await asyncio.to_thread(self._gate, campaign_id)
            await asyncio.to_thread(
                recovery.close_after_crash,
                self.db,
                gate,
                campaign_id,
                settings_retry,
                self.wall(),
                self.node,
            )
        except Exception:  # agents' sessions stay: they come back when it is started
            log.exception("closing calls left by a crash failed", campaign=campaign_id)

    def _gate(self, campaign_id: int) -> ComplianceGate:
        """The campaign's gate; dialing the simulated carrier, its abandon gauges count the
        simulated calls alone, apart from the legal gauge of real calls (issue 17)."""
        gate = self.gate_factory(self.db, campaign_id)
        facts = getattr(gate, "facts", None)
        if facts is not None and self.node.endswith(SIMULATED_NODE):
            facts.simulated = True
        return gate

    def _retry_policy(self, campaign_id: int) -> RetryPolicy:
        from campaigns import store

        return store.spec_of(self.db, store.get(self.db, campaign_id)).retry

    async def _start(self, campaign_id: int) -> None:
        settings = await asyncio.to_thread(self.engine_settings, campaign_id)
        gate = await asyncio.to_thread(self._gate, campaign_id)
        await asyncio.to_thread(launch.basis_checks, gate, campaign_id)
        port = self.sip_factory(campaign_id)
        size_for = getattr(port, "set_max_lines", None)  # SipPool: workers follow the lines
        if callable(size_for):
            size_for(settings.core.max_lines)
        await port.start()
        try:
            engine = CampaignEngine(
                self.db,
                port,
                settings,
                gate,
                push=self._pusher(campaign_id),
                clock=self.clock,
                wall=self.wall,
                on_screen_overflow=self._drop_screen,
            )
            # agents a crash (or a shutdown) left logged in come back once the engine runs
            left = await asyncio.to_thread(sessions.sessions_of, self.db, campaign_id)
            await asyncio.to_thread(sessions.close_sessions, self.db, campaign_id)
            recovered = await engine.start(dialing=True)
        except BaseException:
            await port.close()
            raise
        run = Running(campaign_id, engine, port)
        self.running[campaign_id] = run
        await asyncio.to_thread(recovery.started, self.db, campaign_id, self.node, self.wall())
        run.monitor = asyncio.create_task(self._watch(run), name=f"campaign-{campaign_id}")
        await asyncio.to_thread(dbstatus.set_campaign_status, self.db, campaign_id, "running")
        agents = await self._restore_agents(run, left)
        dropped = [
            r.finished.call_id for r in engine.recovered if r.finished.sip_outcome == "dropped"
        ]
        log.info(
            "campaign started",
            campaign=campaign_id,
            mode=settings.core.mode,
            recovered=recovered,
            dropped_calls=dropped,
            agents_resumed=agents,
            pacer_relearned=engine.relearned,
        )

    async def _restore_agents(self, run: Running, left: list[sessions.SessionRow]) -> list[int]:
        """Log the agents back in as they were: ready, paused (same reason), or, if their call
        was cut by the crash, paused for its wrap-up until they set its disposition."""
        owners = {
            r.finished.agent_user_id
            for r in run.engine.recovered
            if r.finished.agent_user_id is not None
        }
        back: list[int] = []
        for row in left:
            try:
                due = row.user_id in owners or row.state == "wrap"  # a disposition is due
                owed = None
                if due:  # back in the wrap-up of that call, which names it
                    owed = await asyncio.to_thread(
                        sessions.owed_call, self.db, run.campaign_id, row.user_id
                    )
                await self.agent_login(row.user_id, run.campaign_id, row.sip_uri, owed)
                if due and owed is None:  # the call is not known: paused until disposed
                    await self.agent_pause(row.user_id, WRAP_AFTER_RESTART, listed=False)
                elif row.state == "paused":
                    await self.agent_pause(row.user_id, row.pause_reason or "paused", listed=False)
            except Exception:
                log.exception("an agent's session could not be resumed", user_id=row.user_id)
                continue
            back.append(row.user_id)
        return back

    async def pause(self, campaign_id: int) -> dict[str, Any]:
        """No new calls; calls in progress and agents carry on."""
        run = self.campaign_run(campaign_id)
        run.hold(paused=True)
        await asyncio.to_thread(dbstatus.set_campaign_status, self.db, campaign_id, "paused")
        await self._desire(campaign_id, "paused")
        return await self.status(campaign_id)

    async def resume(self, campaign_id: int) -> dict[str, Any]:
        return await self.start(campaign_id)

    async def stop(self, campaign_id: int, drain: float | None = None) -> dict[str, Any]:
        """Stop dialing; calls still up after ``drain`` seconds are hung up; agents are
        logged out (an agent in wrap-up can still set the disposition afterwards)."""
        async with self._lock:
            run = self.running.pop(campaign_id, None)
            if run is None:
                await self._forget(campaign_id)
                return await self.status(campaign_id)
            await self._stop(run, self.stop_drain if drain is None else drain)
            await self._desire(campaign_id, "stopped")
        return await self.status(campaign_id)

    async def _stop(self, run: Running, drain: float, shutdown: bool = False) -> None:
        """Stop one engine. At a server shutdown (``shutdown``) the campaign stays desired and
        its agents' sessions are kept: both come back when the server starts again."""
        if run.monitor is not None:
            run.monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.monitor
        await self.previews.release_all(run)  # records held on screens go back to the queue
        try:
            await run.engine.stop(drain_timeout=drain)
        finally:
            await run.port.close()
        kind = "server_stopping" if shutdown else "campaign_stopped"
        for user_id in list(run.agents):
            self.agent_campaign.pop(user_id, None)
            await self.hub.send(user_id, {"type": kind, "campaign_id": run.campaign_id})
        if not shutdown:
            await asyncio.to_thread(sessions.close_sessions, self.db, run.campaign_id)
        status = "interrupted" if shutdown else "stopped"
        await asyncio.to_thread(dbstatus.set_campaign_status, self.db, run.campaign_id, status)
        await asyncio.to_thread(recovery.stopped, self.db, run.campaign_id)
        log.info("campaign stopped", campaign=run.campaign_id)

    async def stop_all(self, drain: float | None = None) -> None:
        """Stop every engine (application shutdown)."""
        async with self._lock:
            runs, self.running = list(self.running.values()), {}
            for run in runs:
                try:
                    await self._stop(
                        run, self.stop_drain if drain is None else drain, shutdown=True
                    )
                except Exception:
                    log.exception("stopping a campaign failed", campaign=run.campaign_id)
        await self.hub.close_all()

    async def status(self, campaign_id: int, memo: Memo | None = None) -> dict[str, Any]:
        """The database's view (dialer/status.py; its costly counts kept in ``memo`` if given)
        plus what the running engine knows (always fresh)."""
        out = await asyncio.to_thread(dbstatus.db_status, self.db, campaign_id, self.wall(), memo)
        run = self.running.get(campaign_id)
        out["running_here"] = run is not None
        if run is None:
            return out
        snap = run.engine.snapshot()  # the runner's one snapshot (issue 11.5)
        decision = run.engine.core.pacer.last_decision
        out["status"] = "paused" if run.paused else "running"
        out["snapshot"] = snap
        for key in ("calls_in_flight", "calls_by_state", "agents_by_state", "messages_played"):
            out[key] = snap[key]
        out["agents"] = [s for uid in sorted(run.agents) if (s := self.agent_status(uid))]
        out["pacer"] = {
            "explain": snap["pacer_words"],
            "relearned_at_start": snap["relearned_at_start"],  # past attempts learned again
            "last_decision": dbstatus.decision_json(decision) if decision else None,
        }
        out["abandon"]["pacer_gauge"] = snap["abandon_live"]["pacer_gauge"]
        out["abandon"]["target"] = snap["abandon_live"]["target"]
        out["abandon"]["cap"] = snap["abandon_live"]["cap"]
        sip_status = getattr(run.port, "status", None)  # SipPool: capacity, module limits
        if callable(sip_status):
            out["sip"] = sip_status()
        return out

    # --- building an engine ------------------------------------------------------------------
    def engine_settings(self, campaign_id: int) -> EngineSettings:
        """EngineSettings from the campaign's typed definition (blocking: a thread).

        Every dialing setting comes from ``spec.dialing`` (campaigns/dialing.py, issue 11.3);
        ``max_lines`` absent there means the trunk's capacity (``OUTDIAL_SIP_MAX_LINES``).
        """
        from campaigns import store

        camp = store.get(self.db, campaign_id)
        spec = store.spec_of(self.db, camp)
        dialing = spec.dialing
        caller_id = (spec.caller_id or self.default_caller_id).strip()
        if not is_e164(caller_id):  # rules 11, 23, 27: a real number, never anonymous
            raise CampaignNotReady(
                f"campaign {camp.name!r} has no E.164 caller ID; set caller_id",
                campaign=campaign_id,
                field="caller_id",
                rules=["rule-11", "rule-23", "rule-27"],
            )
        try:
            core = CoreConfig(
                mode=spec.mode.value,
                ratio=dialing.lines_per_agent,
                amd=dialing.amd,
                amd_deadline=dialing.amd_deadline,
                amd_sample_share=dialing.amd_sample_share,
                connect_from=connect_from_for(camp.region),
                max_lines=dialing.lines(self.trunk_lines),
                max_cps=dialing.max_cps,
                abandon_target=dialing.abandon_target,
                abandon_cap=dialing.abandon_cap,
            )
        except (TypeError, ValueError) as exc:
            raise CampaignNotReady(f"campaign {camp.name!r}: {exc}", campaign=campaign_id) from exc
        settings = EngineSettings(
            campaign_id=campaign_id,
            core=core,
            caller_id=caller_id,
            ring_timeout=float(dialing.ring_timeout),
            retry=spec.retry,
            node=self.node,
            machine_action=dialing.machine_action.value,
            machine_prompt=dialing.machine_prompt,
            preview_auto_dial_seconds=float(dialing.preview_auto_dial_seconds),
            wrap_up_limit=float(dialing.wrap_up_limit),
            record_calls=dialing.record_calls,
            softphone_test=dialing.softphone_test,
            team_callback_grace_min=spec.callback_team_delay_minutes,
        )
        settings = replace(settings, **self.engine_options)
        # rules 4, 20: the definition names an uploaded prompt; the file is found here
        prompt = spec.safe_harbor_prompt if spec is not None else ""
        settings.safe_harbor_wav = (
            str(launch.prompt_path(campaign_id, prompt, settings.data_dir))
            if prompt
            else self.default_safe_harbor
        )
        if dialing.machine_action.value == "leave_message" and settings.machine_wav is None:
            settings.machine_wav = launch.machine_wav(campaign_id, camp.name, settings)
        launch.launch_checks(camp.name, campaign_id, settings, self.owned_numbers, prompt)
        return settings

    # --- the engine's side -----------------------------------------------------------------
    def _pusher(self, campaign_id: int) -> Callable[[str, dict[str, Any]], Any]:
        async def push(agent_id: str, message: dict[str, Any]) -> None:
            try:
                user_id = int(agent_id)
            except ValueError:  # "ivr" and other non-agent channels: nobody's screen
                return
            if message.get("type") == "agent_state":
                await asyncio.to_thread(
                    sessions.set_state,
                    self.db,
                    user_id,
                    str(message["state"]),
                    str(message.get("reason") or ""),
                    self.wall(),
                )
            if message.get("type") == "call_connected":  # the agent's script, filled in
                message = {**message, **await asyncio.to_thread(self._script, campaign_id, message)}
            await self.hub.send(user_id, {**message, "campaign_id": campaign_id})

        return push

    async def _drop_screen(self, agent_id: str) -> None:
        """An agent's screen fell behind (dialer/screens.py): close it; it resyncs."""
        if agent_id.isdigit():
            await self.hub.drop(int(agent_id))

    def _script(self, campaign_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """``script`` (the campaign's script with the record's fields filled in) and
        ``script_missing`` (fields the record lacks) for a ``call_connected`` message."""
        from campaigns import rules, store

        try:
            spec = store.spec_of(self.db, store.get(self.db, campaign_id))
        except Exception:  # the record must still reach the agent's screen
            log.exception("no script for the connected call", campaign=campaign_id)
            return {"script": "", "script_missing": []}
        record = dict(message.get("record") or {})
        fields = {
            **{str(k): v for k, v in dict(record.get("custom") or {}).items()},
            **{k: v for k, v in record.items() if not isinstance(v, (dict, list))},
            "number": message.get("number", ""),
        }
        text, missing = rules.render_script(spec.script, fields)
        return {"script": text, "script_missing": missing}

    async def _watch(self, run: Running) -> None:
        """Persist the pacer's decision: the first, then a changed one at most every 5 s, an
        unchanged one every 30 s (the API shows the live one; this is for other processes)."""
        next_beat = self.clock() + recovery.HEARTBEAT
        while True:
            await asyncio.sleep(self.decision_every)
            try:
                await self._persist_decision(run)
                if self.clock() >= next_beat:  # the engine is alive (dialer/recovery.py)
                    next_beat = self.clock() + recovery.HEARTBEAT
                    await asyncio.to_thread(recovery.beat, self.db, [run.campaign_id], self.wall())
            except Exception:
                log.exception("persisting a pacer decision failed", campaign=run.campaign_id)

    async def _persist_decision(self, run: Running) -> None:
        d = run.engine.core.pacer.last_decision
        if d is None:
            return
        now = self.clock()
        if run.last_decision is not None:
            prev, at = run.last_decision
            same = (prev.mode, prev.calls, prev.reason) == (d.mode, d.calls, d.reason)
            gap = DECISION_REFRESH if same else DECISION_MIN_GAP
            if prev is d or now - at < gap:
                return
        run.last_decision = (d, now)
        await asyncio.to_thread(dbstatus.persist_decision, self.db, run.campaign_id, d, self.wall())

    def campaign_run(self, campaign_id: int) -> Running:
        """The campaign running here (NotRunning otherwise)."""
        run = self.running.get(campaign_id)
        if run is None:
            raise NotRunning(f"campaign {campaign_id} is not running here", campaign=campaign_id)
        return run


def from_config(db: DbEngine, cfg: Any) -> DialerRuntime:
    """The server's runtime: SIP trunk and owned caller IDs from outdial's configuration."""
    from sip.config import SipConfig, TrunkConfig

    trunk = None
    if cfg.sip_trunk:
        host, _, port = cfg.sip_trunk.partition(":")
        trunk = TrunkConfig(
            host=host,
            port=int(port or 5060),
            username=cfg.sip_trunk_user,
            password=cfg.sip_trunk_password,
        )
    first, last = cfg.rtp_ports
    sip = SipConfig(
        bind_host=cfg.sip_bind_host,
        trunk=trunk,
        auto_answer=cfg.sip_auto_answer,
        rtp_port_start=first,
        rtp_port_end=last,
    )
    pool = PoolConfig(sip, customer_lines=cfg.sip_calls_per_worker, max_workers=60)
    return DialerRuntime(
        db,
        pool_config=pool,
        owned_numbers=frozenset(cfg.owned_numbers),
        trunk_lines=cfg.sip_max_lines,
        # IVR prompts and recordings live under the server's data directory
        engine_options={"data_dir": str(cfg.data_dir)},
    )


__all__ = ["DialerRuntime", "GateFactory", "ManagedPort", "SipFactory", "default_gate"]
