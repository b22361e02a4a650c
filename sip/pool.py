"""The asyncio side of the SIP layer: a supervised pool of worker processes.

Each worker (``sip/worker.py``, a separate process) owns one pjsua2 endpoint and
up to K customer calls, each with its agent-leg slot reserved; K and the media budgets
come from the pjsua2 module's compiled limits (``sip/limits.py``, read once at start).
The pool places each call on the least-loaded ready worker that already carries calls
(an idle one only when those are full, so the warm reserve stays idle and the pool's
size follows the calls in flight), reserves agent-leg slots on the
same worker, reads every worker's events on a small thread per worker and hands
them to the loop with ``loop.call_soon_threadsafe``. When a worker dies, each of
its calls that has not ended gets ``CallEnded(outcome=worker_lost)`` — still
exactly one final event per call — and a replacement worker is started with backoff.

Warm reserve: ``start()`` starts ``min_workers`` and ``warm_workers`` idle ones;
whenever a call takes an idle worker, a replacement starts in the background (at
most ``spawn_concurrency`` starts in flight), so a call waits for a worker start
only when demand outruns the reserve. Idle workers above ``min_workers`` and the
reserve are stopped after ``idle_shrink_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

import structlog

from sip import events as ev
from sip.commands import (
    ConnectAgent,
    DropAgent,
    Hangup,
    MonitorMode,
    Originate,
    PlayPrompt,
    SetMonitorMode,
    Shutdown,
    StartMonitor,
    StartRecording,
    StopMonitor,
    StopRecording,
)
from sip.config import PoolConfig, SipConfig
from sip.entry import run_worker
from sip.errors import (
    NoAgentSlot,
    NoMonitorSlot,
    PoolExhausted,
    PortClosed,
    SipConfigError,
    SipStackError,
    UnknownCall,
)
from sip.limits import ModuleLimits, WorkerPlan, plan_worker, probe_limits
from sip.procs import WorkerProc, mp_context, without_main_module
from sip.protocol import SlotReleased, WorkerReady, WorkerStartFailed, WorkerStopped
from sip.rtp_ports import RtpPortRange

log = structlog.get_logger(__name__)


class SipPool:
    """A SIP port backed by worker processes. Use ``async with SipPool(cfg) as pool``."""

    def __init__(
        self,
        config: PoolConfig | None = None,
        on_event: Callable[[ev.SipEvent], None] | None = None,
        limits: ModuleLimits | None = None,
        rtp_ports: RtpPortRange | None = None,
    ) -> None:
        """``limits``: the module's compiled limits; None reads them at ``start()``. Given
        smaller than the module's, the workers enforce them (pjsua's maxCalls): tests use
        this to run a pool as on a stock 4-call module.

        ``rtp_ports``: the media port range shared with other pools of this process (the
        runtime's campaigns); None: the config's own ``rtp_port_start..rtp_port_end``."""
        self.config = config or PoolConfig()
        sip = self.config.sip
        self.rtp_ports = rtp_ports or RtpPortRange(sip.rtp_port_start, sip.rtp_port_end)
        self._limits = limits
        self.plan: WorkerPlan | None = None
        self._max_lines: int | None = None
        self.events: asyncio.Queue[ev.SipEvent] = asyncio.Queue()
        self._on_event = on_event
        self._workers: dict[int, WorkerProc] = {}
        self._calls: dict[str, WorkerProc] = {}  # customer calls without a CallEnded yet
        self._ids = itertools.count(1)
        self._ctx = mp_context(self.config.start_method)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._crashes = 0
        self._respawn_after = 0.0  # loop time before which the reserve is not refilled
        self._tasks: set[asyncio.Task[None]] = set()
        #: exit code of every worker that has exited, by worker id (health, tests)
        self.exit_codes: dict[int, int | None] = {}

    # ----- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Start ``min_workers`` plus the warm reserve; return when all of them are ready."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._make_plan()
            while True:
                self._refill(raise_errors=True)
                starting = [w for w in self._workers.values() if not w.ready.done()]
                if not starting:
                    break
                await asyncio.gather(*(w.ready for w in starting))
        except BaseException:
            await self.close()
            raise
        self._keep(self._shrink_loop())

    async def close(self, timeout: float = 10.0) -> None:
        """Stop every worker: each hangs up its calls and exits; stragglers are killed."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        workers = list(self._workers.values())
        for w in workers:
            self._stop(w)
        for w in workers:
            # the reader may have seen the pipe close before the process was reaped
            self.exit_codes[w.worker_id] = await asyncio.to_thread(w.reap, timeout, True)
            self._free_ports(w)  # reaped (killed if need be): a shared range gets it back
        # Let the reader threads' last callbacks (CallEnded, worker exit) run.
        for _ in range(50):
            if not self._workers:
                break
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> SipPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _make_plan(self) -> None:
        cfg = self.config
        if self._limits is None:  # a child interpreter reads them; cached per process
            self._limits = await asyncio.to_thread(probe_limits)
        self.plan = plan_worker(self._limits, cfg.customer_lines, cfg.agent_legs, cfg.spare_slots)
        per_worker = self._worker_config().rtp_ports_per_worker
        if self.rtp_ports.blocks_of(per_worker) < max(1, cfg.min_workers):
            raise SipConfigError(
                f"RTP ports {self.rtp_ports} ({self.rtp_ports.size}) are too few: each SIP "
                f"worker needs {per_worker} ({self.plan.lines} calls), and "
                f"{max(1, cfg.min_workers)} must start; widen OUTDIAL_RTP_PORTS",
                field="rtp_ports",
            )
        if self.plan.note:  # said once per pool, and kept in status()
            log.warning("sip_calls_per_worker_lowered", note=self.plan.note)
        log.info(
            "sip_worker_plan",
            calls_per_worker=self.plan.lines,
            agent_legs=self.plan.agent_legs,
            max_calls=self._limits.max_calls,
            built_by_outdial=self._limits.built_by_outdial,
        )

    def set_max_lines(self, lines: int | None) -> None:
        """Size the pool for a campaign's lines in flight: at most enough workers for
        ``lines`` customer calls plus the warm reserve (and never above ``max_workers``)."""
        self._max_lines = lines

    def max_workers(self) -> int:
        """``max_workers``, fewer for a campaign's few lines, and never more workers than
        the RTP port range holds (each has its own block of ports)."""
        cfg = self.config
        if self.plan is None:
            return cfg.max_workers
        fit = self.rtp_ports.blocks_of(self._worker_config().rtp_ports_per_worker)
        if self._max_lines is None:
            return max(1, min(cfg.max_workers, fit))
        needed = -(-self._max_lines // self.plan.lines) + cfg.warm_workers
        return max(1, min(cfg.max_workers, needed, fit))

    def status(self) -> dict[str, Any]:
        """The pool's capacity and load (health pages, tests)."""
        plan, limits = self.plan, self._limits
        return {
            "workers": self.worker_count(),
            "max_workers": self.max_workers(),
            "calls": self.active_calls(),
            "calls_per_worker": plan.lines if plan else None,
            "agent_legs_per_worker": plan.agent_legs if plan else None,
            "module_max_calls": limits.max_calls if limits else None,
            "module_built_by_outdial": limits.built_by_outdial if limits else None,
            "rtp_ports": str(self.rtp_ports),
            "note": plan.note if plan else "",
        }

    def _plan(self) -> WorkerPlan:
        if self.plan is None:
            raise PortClosed("the SIP pool is not running")
        return self.plan

    # ----- commands --------------------------------------------------------------------
    async def originate(self, cmd: Originate) -> None:
        """Place a call; its outcome arrives later as exactly one ``CallEnded``."""
        self._check_open()
        if cmd.call_id in self._calls:
            raise UnknownCall(f"call id {cmd.call_id!r} is already in use", call_id=cmd.call_id)
        worker = self._pick_worker()
        worker.customers.add(cmd.call_id)
        self._calls[cmd.call_id] = worker
        try:
            await worker.ready
            self._send(worker, cmd)
        except Exception:
            # Never placed: the caller gets the error and no CallEnded will follow.
            self._calls.pop(cmd.call_id, None)
            worker.customers.discard(cmd.call_id)
            raise

    async def hangup(self, call_id: str) -> None:
        self._send(self._worker_of(call_id), Hangup(call_id))

    async def connect_agent(
        self, call_id: str, agent_uri: str, auto_answer: tuple[str, ...] | None = None
    ) -> None:
        """Call the agent's phone and bridge it; ``auto_answer``: this agent's hint forms
        (sip/agent_headers.py), None for the pool's ``SipConfig.auto_answer``."""
        cmd = ConnectAgent(call_id, agent_uri, auto_answer)
        worker = self._worker_of(call_id)
        if call_id in worker.agents or len(worker.agents) >= self._plan().agent_legs:
            raise NoAgentSlot("no free agent leg on the call's worker", call_id=call_id)
        self._send_holding(worker, worker.agents, call_id, cmd)

    def _send_holding(self, worker: WorkerProc, legs: set[str], call_id: str, cmd: object) -> None:
        """Send ``cmd`` with ``call_id``'s leg held in ``legs``; a refused send frees it."""
        legs.add(call_id)
        try:
            self._send(worker, cmd)
        except SipStackError:
            legs.discard(call_id)
            raise

    async def drop_agent(self, call_id: str) -> None:
        """Hang up the agent leg only (a transfer); ``AgentLegEnded`` follows."""
        self._send(self._worker_of(call_id), DropAgent(call_id))

    async def start_monitor(
        self,
        call_id: str,
        supervisor_uri: str,
        mode: MonitorMode = MonitorMode.LISTEN,
        auto_answer: tuple[str, ...] | None = None,
    ) -> None:
        """Call a supervisor's phone and join it to the call in ``mode`` (sip/monitor.py):
        ``MonitorJoined`` follows, then ``MonitorEnded``. The leg is reserved on the call's
        worker from the agent-leg budget; one supervisor per call."""
        cmd = StartMonitor(call_id, supervisor_uri, MonitorMode(mode), auto_answer)
        worker = self._worker_of(call_id)
        if call_id in worker.monitors:
            raise NoMonitorSlot("the call has a supervisor already", call_id=call_id)
        # every customer call keeps its agent leg reserved: supervisors take the spare ones
        reserved = max(len(worker.agents), len(worker.customers))
        if reserved + len(worker.monitors) >= self._plan().agent_legs:
            raise NoMonitorSlot("no free leg on the call's worker", call_id=call_id)
        self._send_holding(worker, worker.monitors, call_id, cmd)

    async def set_monitor_mode(self, call_id: str, mode: MonitorMode) -> None:
        """Switch the call's supervisor to listen, whisper or barge (``MonitorModeSet``)."""
        self._send(self._worker_of(call_id), SetMonitorMode(call_id, MonitorMode(mode)))

    async def stop_monitor(self, call_id: str) -> None:
        """Hang up the supervisor's leg only; the call goes on (``MonitorEnded``)."""
        self._send(self._worker_of(call_id), StopMonitor(call_id))

    async def play_prompt(self, call_id: str, wav: str) -> None:
        self._send(self._worker_of(call_id), PlayPrompt(call_id, wav))

    async def start_recording(self, call_id: str, path: str) -> None:
        self._send(self._worker_of(call_id), StartRecording(call_id, path))

    async def stop_recording(self, call_id: str, path: str) -> None:
        self._send(self._worker_of(call_id), StopRecording(call_id, path))

    # ----- introspection (bench, tests) --------------------------------------------------
    def worker_pids(self) -> dict[int, int]:
        return {w.worker_id: w.process.pid for w in self._workers.values() if w.alive}

    def active_calls(self) -> int:
        return len(self._calls)

    def idle_ready_workers(self) -> int:
        """Workers ready to take a call at once and holding none: the warm reserve."""
        return sum(1 for w in self._idle_workers() if w.ready.done())

    def worker_count(self) -> int:
        """Live workers, including those still starting and not yet stopping."""
        return len(self._live_workers())

    def worker_pid_of(self, call_id: str) -> int:
        """Pid of the worker holding ``call_id`` (tests, diagnostics)."""
        return int(self._worker_of(call_id).process.pid)

    def kill_worker_of(self, call_id: str) -> int:
        """SIGKILL the worker holding ``call_id`` (tests of crash handling); returns its pid."""
        worker = self._worker_of(call_id)
        worker.process.kill()
        return int(worker.process.pid)

    # ----- internals -------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._loop is None or self._closing:
            raise PortClosed("the SIP pool is not running")

    def _worker_of(self, call_id: str) -> WorkerProc:
        self._check_open()
        worker = self._calls.get(call_id)
        if worker is None or not worker.alive:
            raise UnknownCall(f"no live call {call_id!r}", call_id=call_id)
        return worker

    def _pick_worker(self) -> WorkerProc:
        lines = self._plan().lines
        usable = [w for w in self._live_workers() if len(w.customers) < lines]
        ready = [w for w in usable if w.ready.done()]
        busy = [w for w in ready if w.customers or w.agents]
        if busy:  # least-loaded of the workers already carrying calls
            worker = min(busy, key=lambda w: (len(w.customers) + len(w.agents), w.worker_id))
        elif ready:  # all of those are full: take one from the warm reserve
            worker = min(ready, key=lambda w: w.worker_id)
        elif usable:  # the reserve ran dry: the worker that started first
            worker = min(usable, key=lambda w: w.worker_id)
        elif len(self._workers) >= self.max_workers():
            raise PoolExhausted(
                f"all {len(self._workers)} SIP workers are full",
                max_workers=self.max_workers(),
            )
        else:  # on demand, beyond spawn_concurrency: this call is waiting for it
            worker = self._spawn()
        # Runs after the caller has placed the call on ``worker`` (call_soon), so that
        # worker no longer counts as idle and the reserve is topped up.
        assert self._loop is not None
        self._loop.call_soon(self._refill)
        return worker

    def _live_workers(self) -> list[WorkerProc]:
        """Workers alive and not told to stop (ready or still starting)."""
        return [w for w in self._workers.values() if w.alive and not w.stopping]

    def _idle_workers(self) -> list[WorkerProc]:
        return [w for w in self._live_workers() if not w.customers and not w.agents]

    def _refill(self, *, raise_errors: bool = False) -> None:
        """Start workers (in the background) up to min_workers and the warm reserve.

        At most ``spawn_concurrency`` starts are in flight; each WorkerReady calls this
        again, so a burst is refilled at a bounded rate instead of all at once.
        """
        if self._closing or self._loop is None:
            return
        cfg = self.config
        now = self._loop.time()
        if now < self._respawn_after:  # crash backoff: _restart_later calls us again
            return
        while True:
            live = self._live_workers()
            starting = sum(1 for w in live if not w.ready.done())
            short = len(live) < cfg.min_workers or len(self._idle_workers()) < cfg.warm_workers
            if not short or starting >= cfg.spawn_concurrency:
                return
            if len(self._workers) >= self.max_workers():
                return
            try:
                self._spawn()
            except (SipConfigError, OSError) as exc:  # e.g. RTP ranges exhausted, no fds
                if raise_errors:
                    raise
                log.error("sip_worker_start_failed", error=str(exc))
                return

    def _spawn(self) -> WorkerProc:
        assert self._loop is not None
        worker_id = next(self._ids)
        sip_cfg = self._worker_config()
        rtp_start = self.rtp_ports.take(sip_cfg.rtp_ports_per_worker)  # SipConfigError if full
        try:
            cmd_r, cmd_w = self._ctx.Pipe(duplex=False)
            evt_r, evt_w = self._ctx.Pipe(duplex=False)
            proc = self._ctx.Process(
                target=run_worker,
                args=(worker_id, sip_cfg.at_ports(rtp_start), cmd_r, evt_w),
                name=f"outdial-sip-{worker_id}",
                daemon=True,
            )
            with without_main_module():
                proc.start()
        except BaseException:
            self.rtp_ports.give_back(rtp_start)
            raise
        cmd_r.close()
        evt_w.close()
        worker = WorkerProc(worker_id, rtp_start, proc, cmd_w, self._loop.create_future())
        worker.idle_since = self._loop.time()
        self._workers[worker_id] = worker
        threading.Thread(
            target=self._reader, args=(worker, evt_r), name=f"sip-reader-{worker_id}", daemon=True
        ).start()
        log.info("sip_worker_started", worker_id=worker_id, pid=proc.pid, rtp_start=rtp_start)
        return worker

    def _worker_config(self) -> SipConfig:
        """The SIP settings a worker gets: limits, plan, and an RTP range that fits them."""
        plan, sip = self._plan(), self.config.sip
        # RTP+RTCP per call slot in each half (customer and agent accounts, sip/worker.py)
        ports = max(sip.rtp_ports_per_worker, 4 * plan.calls + 16)
        return replace(sip, limits=self._limits, plan=plan, rtp_ports_per_worker=ports)

    def _reader(self, worker: WorkerProc, conn: Connection) -> None:
        """Reader thread: forward each message to the loop; report the worker's exit."""
        loop = self._loop
        assert loop is not None
        try:
            while True:
                msg = conn.recv()
                loop.call_soon_threadsafe(self._on_message, worker, msg)
        except (EOFError, OSError):
            pass
        except RuntimeError:  # the loop is closed
            return
        worker.reap(5)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._on_exit, worker)

    def _send(self, worker: WorkerProc, cmd: object) -> None:
        try:
            worker.cmds.send(cmd)
        except (OSError, ValueError) as exc:
            raise SipStackError("SIP worker is gone", worker_id=worker.worker_id) from exc

    def _emit(self, event: ev.SipEvent) -> None:
        self.events.put_nowait(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("sip_event_callback_failed")

    def _on_message(self, worker: WorkerProc, msg: object) -> None:
        if isinstance(msg, WorkerReady):
            self._crashes = 0
            if not worker.ready.done():
                worker.ready.set_result(msg.sip_port)
            self._refill()  # one start fewer in flight
        elif isinstance(msg, WorkerStartFailed):
            if not worker.ready.done():
                worker.ready.set_exception(SipStackError(f"SIP worker failed: {msg.message}"))
        elif isinstance(msg, SlotReleased):
            held = {"customer": worker.customers, "monitor": worker.monitors}
            held.get(msg.kind, worker.agents).discard(msg.call_id)
            if not worker.customers and self._loop is not None:
                worker.idle_since = self._loop.time()
        elif isinstance(msg, WorkerStopped):
            worker.stopping = True
        else:
            if isinstance(msg, ev.CallEnded):
                self._calls.pop(msg.call_id, None)
            elif isinstance(msg, ev.AgentLegEnded):
                # the call's agent leg is over: the next agent may be called at once (the
                # engine does so on this very event, issue 11.4); the worker frees the pjsua
                # slot a little later and waits for it if it must (_SLOT_WAIT)
                worker.agents.discard(msg.call_id)
            elif isinstance(msg, ev.MonitorEnded):
                worker.monitors.discard(msg.call_id)  # as for agents: a new one may come
            self._emit(msg)  # type: ignore[arg-type]

    def _on_exit(self, worker: WorkerProc) -> None:
        worker.alive = False
        self._workers.pop(worker.worker_id, None)
        self._free_ports(worker)
        code = worker.exitcode  # None if the pipe closed before the process was reaped
        if code is not None or self.exit_codes.get(worker.worker_id) is None:
            self.exit_codes[worker.worker_id] = code
        lost: tuple[str, ...] = ()
        if worker.ready.done() and worker.ready.exception() is None:
            lost = tuple(cid for cid, w in self._calls.items() if w is worker)
        else:
            # Never started: the waiting originate() calls raise instead of ending.
            if not worker.ready.done():
                worker.ready.set_exception(SipStackError("SIP worker exited during start"))
            worker.ready.exception()  # mark retrieved: nobody may be waiting
        for call_id in lost:
            del self._calls[call_id]
            self._emit(
                ev.CallEnded(
                    call_id,
                    ev.Outcome.WORKER_LOST,
                    0,
                    "SIP worker process died",
                    ev.HungUpBy.NONE,
                    0.0,
                )
            )
        if worker.stopping:
            return
        code = worker.exitcode
        log.warning("sip_worker_died", worker_id=worker.worker_id, exitcode=code, lost=len(lost))
        self._emit(ev.WorkerDied(worker.worker_id, code, lost))
        if not self._closing:
            delay = min(self.config.restart_backoff * (2**self._crashes), 10.0)
            self._crashes += 1
            if self._loop is not None:
                self._respawn_after = self._loop.time() + delay
            self._keep(self._restart_later(delay))

    def _free_ports(self, worker: WorkerProc) -> None:
        """Its process is gone (so are its sockets): its RTP block may go to another."""
        if worker.holds_ports:
            worker.holds_ports = False
            self.rtp_ports.give_back(worker.rtp_start)

    async def _restart_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._closing:
            return
        if len(self._workers) < max(self.config.min_workers, 1):
            self._spawn()
        self._refill()

    def _stop(self, worker: WorkerProc) -> None:
        worker.stopping = True
        with contextlib.suppress(OSError, ValueError):
            worker.cmds.send(Shutdown())

    async def _shrink_loop(self) -> None:
        """Stop workers idle longer than ``idle_shrink_after``, keeping ``min_workers``
        and the warm reserve (the longest-idle ones go first)."""
        assert self._loop is not None
        cfg = self.config
        while True:
            await asyncio.sleep(min(1.0, max(0.1, cfg.idle_shrink_after / 2)))
            now = self._loop.time()
            live = len(self._live_workers())
            idle = sorted(
                (w for w in self._idle_workers() if w.ready.done()), key=lambda w: w.idle_since
            )
            spare = len(idle) - cfg.warm_workers
            for w in idle:
                if live <= cfg.min_workers or spare <= 0:
                    break
                if now - w.idle_since < cfg.idle_shrink_after:
                    break
                self._stop(w)
                spare -= 1
                live -= 1

    def _keep(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
