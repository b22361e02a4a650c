"""Messages between the pool and a worker that the engine never sees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerReady:
    worker_id: int
    sip_port: int


@dataclass(frozen=True, slots=True)
class WorkerStartFailed:
    worker_id: int
    message: str


@dataclass(frozen=True, slots=True)
class SlotReleased:
    """A pjsua Call object was freed after DISCONNECTED; its slot is usable again."""

    call_id: str
    kind: str  # "customer" or "agent"


@dataclass(frozen=True, slots=True)
class WorkerStopped:
    worker_id: int


def run_worker(worker_id: int, config: object, cmd_conn: object, evt_conn: object) -> None:
    """Process entry point; imports pjsua2 only inside the child process."""
    from sip.worker import main

    main(worker_id, config, cmd_conn, evt_conn)  # type: ignore[arg-type]
