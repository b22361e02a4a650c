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
