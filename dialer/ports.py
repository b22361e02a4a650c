"""What a campaign runner (dialer/engine.py) is given: its SIP port, its compliance gate and
its settings. The Protocols are complete: the runner calls every method, none is looked up
with ``getattr`` (issue 11.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from campaigns.rules import RetryPolicy
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.core import CoreConfig
from sip import commands as sipcmd
from sip import events as sipev


class SipPort(Protocol):
    events: asyncio.Queue[sipev.SipEvent]

    async def originate(self, cmd: sipcmd.Originate) -> None: ...
    async def hangup(self, call_id: str) -> None: ...
    async def connect_agent(self, call_id: str, agent_uri: str) -> None: ...
    async def play_prompt(self, call_id: str, wav: str) -> None: ...
    async def start_recording(self, call_id: str, path: str) -> None: ...
    async def stop_recording(self, call_id: str, path: str) -> None: ...
    async def drop_agent(self, call_id: str) -> None: ...


class ComplianceGate(Protocol):
    """Decides one dial at a wall-clock instant and audits the decision (rule 36)."""

    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict: ...

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None: ...

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        """(abandoned, live answers) of the campaign's legal gauge (rules 2, 18), which a
        predictive pacer steers by; None: no legal gauge, the pacer keeps its own counts."""
        ...

    def launch_problems(self) -> list[str]:
        """Why the campaign must not start (rule 26: no record it may lawfully call), in
        words; empty when it may."""
        ...


@dataclass
class EngineSettings:
    campaign_id: int
    core: CoreConfig
    caller_id: str
    display_name: str = ""
    ring_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    safe_harbor_wav: str | None = None  # rules 4, 20: required for modes that can abandon
    node: str = "node-1"
    tick: float = 0.1  # unused since the runner sleeps until the core's wake_at (kept: API)
    pace_every: float = 1.0  # the pacer is asked once a second (shared/pacing/world.md)
    allow_short_ring_timeout_for_tests: bool = False
    data_dir: str | None = None  # IVR prompts and recordings; None: outdial's data_dir
    # issue 11.3, from the campaign's [dialing] table (campaigns/dialing.py)
    machine_action: str = "hang_up"  # or "leave_message" (plays machine_prompt)
    machine_prompt: str = ""
    machine_wav: str | None = None  # the machine_prompt's file, resolved by the runtime
    preview_auto_dial_seconds: float = 0.0  # 0: only the agent dials
    wrap_up_limit: float = 0.0  # seconds; 0: no limit
    # [dialing] record_calls (on by default in a campaign; the runtime passes it): each call
    # recorded to DATA_DIR/recordings/<call id>.wav (quality/recordings.py) for QA review
    record_calls: bool = False
    # [dialing] softphone_test: the desk rings an agent's softphone once at sign-in
    softphone_test: bool = True
    # the campaign's callback_team_delay_minutes: a team callback's record waits this long
    # for its team's agents (campaigns/callback_times.py team_callback_holder)
    team_callback_grace_min: int = 15

    def data_path(self) -> Path:
        """IVR prompts and recordings live here: ``data_dir``, else outdial's configured one."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        from outdial import config

        return Path(config.load().data_dir)


Push = Callable[[str, dict[str, Any]], Awaitable[None] | None]
Overflow = Callable[[str], Awaitable[None] | None]
