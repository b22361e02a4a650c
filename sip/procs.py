"""The SIP workers' processes as the pool (sip/pool.py) starts and keeps them.

``mp_context`` picks forkserver (default) or spawn; ``without_main_module`` keeps the
parent's ``__main__`` out of a starting worker; :class:`WorkerProc` is the pool's record of
one worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import multiprocessing.spawn as mp_spawn
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any


def mp_context(method: str) -> Any:
    """``forkserver`` (default): workers fork from a server that has already imported
    pjsua2 (but never created an endpoint, so no PJSIP state or thread is inherited).

    ``spawn``: a clean interpreter per worker, about twice the CPU and memory.
    """
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["sip.worker"])
    return ctx


_launch_lock = threading.Lock()


@contextlib.contextmanager
def without_main_module() -> Any:
    """Start processes that do not re-import the parent's ``__main__``.

    multiprocessing's spawn and forkserver children import the parent's main script
    as ``__mp_main__``; under ``outdial serve`` that is the console script, i.e. all
    of ``outdial.cli`` and the app: measured here 2.2 s of CPU and ~110 MB PSS per
    worker instead of 0.2 s and ~20 MB. A worker needs nothing from ``__main__`` (its
    entry is ``sip.entry.run_worker``), so the main entries are left out of the
    preparation data for the duration of ``Process.start()``.
    """
    original = mp_spawn.get_preparation_data

    def without_main(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _launch_lock:
        mp_spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            mp_spawn.get_preparation_data = original


@dataclass(eq=False)
class WorkerProc:
    """One SIP worker process as the pool sees it: its pipe, its calls and legs."""

    worker_id: int
    rtp_start: int  # first port of its block of the pool's RTP range
    process: Any
    cmds: Connection
    ready: asyncio.Future[int]
    customers: set[str] = field(default_factory=set)  # slots held, until SlotReleased
    agents: set[str] = field(default_factory=set)
    monitors: set[str] = field(default_factory=set)  # calls with a supervisor's leg
    stopping: bool = False
    alive: bool = True
    idle_since: float = 0.0
    #: one thread at a time may wait on the process: with forkserver, two concurrent polls
    #: race for the status the server sends and the loser reads 255 ("unknown")
    reap_lock: threading.Lock = field(default_factory=threading.Lock)
    exitcode: int | None = None  # as last seen by a reaping thread
    holds_ports: bool = True  # its RTP block is not yet given back to the range

    def reap(self, timeout: float, kill: bool = False) -> int | None:
        """Wait up to ``timeout`` for the process to exit (then SIGKILL it if ``kill``)."""
        with self.reap_lock:
            self.process.join(timeout)
            if kill and self.process.exitcode is None:
                self.process.kill()
                self.process.join(5)
            self.exitcode = self.process.exitcode
            return self.exitcode


__all__ = ["WorkerProc", "mp_context", "without_main_module"]
