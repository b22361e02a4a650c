"""The asyncio side of the SIP layer: a supervised pool of worker processes.

Each worker (``sip/worker.py``, spawned) owns one pjsua2 endpoint and at most
4 calls. The pool places each call on a worker with a free customer line
(packing, so idle workers can be stopped), reserves agent-leg slots on the same
worker, reads every worker's events on a small thread per worker and hands them
to the loop with ``loop.call_soon_threadsafe``. When a worker dies, each of its
calls that has not ended gets ``CallEnded(outcome=worker_lost)`` — still exactly
one final event per call — and a replacement worker is started with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing as mp
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import structlog

from sip import events as ev
from sip.commands import ConnectAgent, Hangup, Originate, PlayPrompt, Shutdown, StartRecording
from sip.config import PoolConfig
from sip.errors import NoAgentSlot, PoolExhausted, PortClosed, SipStackError, UnknownCall
from sip.protocol import SlotReleased, WorkerReady, WorkerStartFailed, WorkerStopped, run_worker

log = structlog.get_logger(__name__)


def _context(method: str) -> Any:
    """``spawn`` (default): a clean interpreter per worker, ~0.5-1 s of CPU each.

    ``forkserver``: workers fork from a server that has already imported pjsua2 (but
    never created an endpoint, so no PJSIP state or thread is inherited).
    """
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["sip.worker"])
    return ctx


@dataclass(eq=False)
class _Worker:
    worker_id: int
    slot: int  # index of its RTP port range
    process: Any
    cmds: Connection
    ready: asyncio.Future[int]
    customers: set[str] = field(default_factory=set)  # slots held, until SlotReleased
    agents: set[str] = field(default_factory=set)
    stopping: bool = False
    alive: bool = True
    idle_since: float = 0.0


class SipPool:
    """A SIP port backed by worker processes. Use ``async with SipPool(cfg) as pool``."""

    def __init__(
        self,
        config: PoolConfig | None = None,
        on_event: Callable[[ev.SipEvent], None] | None = None,
    ) -> None:
        self.config = config or PoolConfig()
        self.events: asyncio.Queue[ev.SipEvent] = asyncio.Queue()
        self._on_event = on_event
        self._workers: dict[int, _Worker] = {}
        self._calls: dict[str, _Worker] = {}  # customer calls without a CallEnded yet
        self._ids = itertools.count(1)
        self._ctx = _context(self.config.start_method)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._crashes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: exit code of every worker that has exited, by worker id (health, tests)
        self.exit_codes: dict[int, int | None] = {}

    # ----- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        starting = [self._spawn() for _ in range(self.config.min_workers)]
        await asyncio.gather(*(w.ready for w in starting))
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
            await asyncio.to_thread(w.process.join, timeout)
            if w.process.is_alive():
                w.process.kill()
                await asyncio.to_thread(w.process.join, 5)
            # the reader may have seen the pipe close before the process was reaped
            self.exit_codes[w.worker_id] = w.process.exitcode
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

    async def connect_agent(self, call_id: str, agent_uri: str) -> None:
        cmd = ConnectAgent(call_id, agent_uri)
        worker = self._worker_of(call_id)
        if call_id in worker.agents or len(worker.agents) >= self.config.agent_legs:
            raise NoAgentSlot("no free agent leg on the call's worker", call_id=call_id)
        worker.agents.add(call_id)
        try:
            self._send(worker, cmd)
        except SipStackError:
            worker.agents.discard(call_id)
            raise

    async def play_prompt(self, call_id: str, wav: str) -> None:
        self._send(self._worker_of(call_id), PlayPrompt(call_id, wav))

    async def start_recording(self, call_id: str, path: str) -> None:
        self._send(self._worker_of(call_id), StartRecording(call_id, path))

    # ----- introspection (bench, tests) --------------------------------------------------
    def worker_pids(self) -> dict[int, int]:
        return {w.worker_id: w.process.pid for w in self._workers.values() if w.alive}

    def active_calls(self) -> int:
        return len(self._calls)

    def kill_worker_of(self, call_id: str) -> int:
        """SIGKILL the worker holding ``call_id`` (tests of crash handling); returns its pid."""
        worker = self._worker_of(call_id)
        worker.process.kill()
        return int(worker.process.pid)

    # ----- internals -------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._loop is None or self._closing:
            raise PortClosed("the SIP pool is not running")

    def _worker_of(self, call_id: str) -> _Worker:
        self._check_open()
        worker = self._calls.get(call_id)
        if worker is None or not worker.alive:
            raise UnknownCall(f"no live call {call_id!r}", call_id=call_id)
        return worker

    def _pick_worker(self) -> _Worker:
        lines = self.config.customer_lines
        usable = [
            w
            for w in self._workers.values()
            if w.alive and not w.stopping and len(w.customers) < lines
        ]
        if usable:  # pack: the busiest worker with a free line
            return max(usable, key=lambda w: (len(w.customers), -w.worker_id))
        if len(self._workers) >= self.config.max_workers:
            raise PoolExhausted(
                f"all {len(self._workers)} SIP workers are full",
                max_workers=self.config.max_workers,
            )
        return self._spawn()

    def _free_slot_index(self) -> int:
        used = {w.slot for w in self._workers.values()}
        return next(i for i in itertools.count() if i not in used)

    def _spawn(self) -> _Worker:
        assert self._loop is not None
        worker_id = next(self._ids)
        slot = self._free_slot_index()
        cmd_r, cmd_w = self._ctx.Pipe(duplex=False)
        evt_r, evt_w = self._ctx.Pipe(duplex=False)
        sip_cfg = self.config.sip.for_worker(slot)
        proc = self._ctx.Process(
            target=run_worker,
            args=(worker_id, sip_cfg, cmd_r, evt_w),
            name=f"outdial-sip-{worker_id}",
            daemon=True,
        )
        proc.start()
        cmd_r.close()
        evt_w.close()
        worker = _Worker(worker_id, slot, proc, cmd_w, self._loop.create_future())
        worker.idle_since = self._loop.time()
        self._workers[worker_id] = worker
        threading.Thread(
            target=self._reader, args=(worker, evt_r), name=f"sip-reader-{worker_id}", daemon=True
        ).start()
        log.info("sip_worker_started", worker_id=worker_id, pid=proc.pid)
        return worker

    def _reader(self, worker: _Worker, conn: Connection) -> None:
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
        worker.process.join(5)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._on_exit, worker)

    def _send(self, worker: _Worker, cmd: object) -> None:
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

    def _on_message(self, worker: _Worker, msg: object) -> None:
        if isinstance(msg, WorkerReady):
            self._crashes = 0
            if not worker.ready.done():
                worker.ready.set_result(msg.sip_port)
        elif isinstance(msg, WorkerStartFailed):
            if not worker.ready.done():
                worker.ready.set_exception(SipStackError(f"SIP worker failed: {msg.message}"))
        elif isinstance(msg, SlotReleased):
            (worker.customers if msg.kind == "customer" else worker.agents).discard(msg.call_id)
            if not worker.customers and self._loop is not None:
                worker.idle_since = self._loop.time()
        elif isinstance(msg, WorkerStopped):
            worker.stopping = True
        else:
            if isinstance(msg, ev.CallEnded):
                self._calls.pop(msg.call_id, None)
            self._emit(msg)  # type: ignore[arg-type]

    def _on_exit(self, worker: _Worker) -> None:
        worker.alive = False
        self._workers.pop(worker.worker_id, None)
        code = worker.process.exitcode  # None if the pipe closed before the process was reaped
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
        code = worker.process.exitcode
        log.warning("sip_worker_died", worker_id=worker.worker_id, exitcode=code, lost=len(lost))
        self._emit(ev.WorkerDied(worker.worker_id, code, lost))
        if not self._closing:
            delay = min(self.config.restart_backoff * (2**self._crashes), 10.0)
            self._crashes += 1
            self._keep(self._restart_later(delay))

    async def _restart_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self._closing and len(self._workers) < max(self.config.min_workers, 1):
            self._spawn()

    def _stop(self, worker: _Worker) -> None:
        worker.stopping = True
        with contextlib.suppress(OSError, ValueError):
            worker.cmds.send(Shutdown())

    async def _shrink_loop(self) -> None:
        """Stop workers idle longer than ``idle_shrink_after`` above ``min_workers``."""
        assert self._loop is not None
        while True:
            await asyncio.sleep(1.0)
            now = self._loop.time()
            live = [w for w in self._workers.values() if w.alive and not w.stopping]
            for w in live:
                if len(live) <= self.config.min_workers:
                    break
                idle = not w.customers and not w.agents and w.ready.done()
                if idle and now - w.idle_since >= self.config.idle_shrink_after:
                    self._stop(w)
                    live.remove(w)

    def _keep(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
