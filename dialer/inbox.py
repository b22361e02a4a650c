"""The campaign runner's inbox (issue 11.1): every message that changes a campaign.

SIP events (sip/events.py) arrive as they are; these are the others. Blocking work done
outside the runner (a claim, the gate and the attempt row, the abandon gauge) reports back
with one of them, so that only the runner's task ever touches the core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from dialer import actions as act
from sip import events as sipev


@dataclass(frozen=True)
class Ask:
    """Run ``fn(now)`` on the core (an agent's command) and answer ``done``."""

    fn: Callable[[float], list[act.Action]]
    done: asyncio.Future[None]


@dataclass(frozen=True)
class Claimed:
    asked: int
    leads: tuple[act.Lead, ...]


@dataclass(frozen=True)
class Prepared:
    """The gate allowed the lead and its attempt row is committed: place the call."""

    call_id: str
    lead: act.Lead
    agent_id: str | None = None  # preview: the agent who dials it
    done: asyncio.Future[str | None] | None = None
    paced: bool = True  # counted in the core's claims_pending


@dataclass(frozen=True)
class Settled:
    count: int  # paced leads blocked by the gate or given back


@dataclass(frozen=True)
class Gauge:
    abandoned: int
    live: int


@dataclass(frozen=True)
class Dialing:
    on: bool  # a manager's pause or a schedule hold


@dataclass(frozen=True)
class WrapCheck:
    agent_id: str
    since: float


class _Tick:
    pass


TICK = _Tick()
STOP = object()

Message = sipev.SipEvent | Ask | Claimed | Prepared | Settled | Gauge | Dialing | WrapCheck
