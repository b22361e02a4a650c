"""The runner's dialing I/O (issue 11.1): claiming records, the compliance gate's second check
and the attempt row, off the runner's task (they wait on the database). Each result comes
back to the runner as a message in its one inbox; nothing here touches the core. The attempt
row is committed before the INVITE, so a crash never dials a number twice (issue 6).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine as DbEngine

from campaigns.callback_times import TeamsOnline
from dialer import actions as act
from dialer import hopper
from dialer.inbox import Claimed, Prepared, Settled
from dialer.ports import ComplianceGate, EngineSettings

log = structlog.get_logger(__name__)


class LeadFeed:
    """Claims and prepares one campaign's calls; answers through the runner's inbox."""

    def __init__(
        self,
        db: DbEngine,
        settings: EngineSettings,
        gate: ComplianceGate,
        wall: Callable[[], datetime],
        inbox: asyncio.Queue[Any],
        failures: Counter[str],
    ) -> None:
        self.db, self.settings, self.gate, self.wall = db, settings, gate, wall
        self.inbox, self.failures = inbox, failures

    async def claim(
        self, calls: int, owners: frozenset[int], teams: TeamsOnline = hopper.NO_TEAMS
    ) -> None:
        leads: list[act.Lead] = []
        try:
            leads = await asyncio.to_thread(
                hopper.claim,
                self.db,
                self.settings.campaign_id,
                calls,
                self.wall(),
                owners,
                self.settings.node,
                teams,
            )
        finally:  # even when the claim failed: the pacer must not wait for it forever
            self.inbox.put_nowait(Claimed(calls, tuple(leads)))

    async def prepare_all(self, leads: list[act.Lead]) -> None:
        for i, lead in enumerate(leads):
            try:
                call_id = await self.prepare(lead)
            except Exception:
                self.failures["prepare"] += 1
                log.exception("a claimed lead could not be prepared", contact=lead.contact_id)
                self.inbox.put_nowait(Settled(len(leads) - i))
                return
            if call_id is None:
                self.inbox.put_nowait(Settled(1))
            else:
                self.inbox.put_nowait(Prepared(call_id, lead))

    async def prepare(self, lead: act.Lead) -> str | None:
        """The gate's second check, then the attempt row (committed before the INVITE)."""
        call_id = uuid.uuid4().hex
        verdict = await asyncio.to_thread(self.gate.check, lead, self.wall(), call_id)
        if not verdict.allowed:
            await asyncio.to_thread(
                hopper.defer, self.db, lead, verdict.next_allowed_at, verdict.reason or "blocked"
            )
            return None
        await asyncio.to_thread(
            hopper.open_attempt,
            self.db,
            call_id,
            self.settings.campaign_id,
            lead,
            self.settings.node,
            self.wall(),
        )
        return call_id

    async def withdraw(self, call_id: str, lead: act.Lead) -> None:
        await asyncio.to_thread(hopper.withdraw, self.db, call_id, lead)
        why = "withdrawn: its agent became busy"
        gone = hopper.Finished(call_id, "cancelled", "not_placed", 0, why, False, None, None)
        await asyncio.to_thread(self.gate.record_outcome, gone, lead, self.wall())
