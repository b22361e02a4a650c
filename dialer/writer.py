"""The campaign runner's state lane: a write-behind writer (issue 11.2).

The runner never waits on the database on the 2-second path: state transitions, the agent
who owns a bridged call and each call's outcome are queued here and committed in batches,
one transaction per batch, by one task of the writer's own. A batch is whatever queued while
the previous one committed, so the delay is bounded by one commit.

Durability barriers: :meth:`StateWriter.barrier` waits until everything queued so far is
committed. The runner uses it where a rule needs durability first: a call's outcome is
committed before the agent's disposition is recorded (the disposition is committed, by the
runtime, before the agent is offered the next call), and the contact of a call stays claimed
until its outcome is committed, so its number cannot be dialed again before. The attempt row
itself is written before the INVITE, outside this lane.

A crash loses at most the batch not yet committed: transitions, which recovery rewrites
(dialer/recovery.py closes attempts left in flight at the next start), never a result.
A batch that fails (the database is down) is retried, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import col

from campaigns.rules import RetryPolicy
from dialer import actions as act
from dialer import hopper
from dialer.models import Attempt
from dialer.states import Transition
from outdial.storage import session_scope

log = structlog.get_logger(__name__)

RETRY_AFTER = 0.5  # seconds before a failed batch is tried again


@dataclass(frozen=True)
class Outcome:
    """A call's end: its attempt closed by the retry rules, then audited (rule 36)."""

    finished: hopper.Finished
    lead: act.Lead


@dataclass
class Batch:
    transitions: list[tuple[Transition[Any, Any], datetime]] = field(default_factory=list)
    owners: list[tuple[str, int]] = field(default_factory=list)  # (call id, users.id)
    outcomes: list[Outcome] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.transitions or self.owners or self.outcomes)


def commit_batch(
    db: DbEngine, campaign_id: int, batch: Batch, policy: RetryPolicy, now: datetime
) -> None:
    """One transaction: transitions, owners, then outcomes (in the order the core made them)."""
    with session_scope(db) as s:
        hopper.write_transitions(s, campaign_id, batch.transitions)
        for call_id, user_id in batch.owners:  # a crash mid-call leaves the call to its agent
            s.execute(
                sa.update(Attempt)
                .where(col(Attempt.call_id) == call_id)
                .values(agent_user_id=user_id)
            )
        for o in batch.outcomes:
            hopper.close_in(s, o.finished, policy, now)


class StateWriter:
    """Queues state and commits it in batches; ``barrier()`` waits for what is queued."""

    def __init__(
        self,
        db: DbEngine,
        campaign_id: int,
        policy: RetryPolicy,
        wall: Callable[[], datetime],
        audit: Callable[[hopper.Finished, act.Lead, datetime], None] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.db, self.campaign_id, self.policy, self.wall = db, campaign_id, policy, wall
        self.audit = audit
        self.on_outcome = on_outcome
        self._pending = Batch()
        self._queued = 0  # items ever queued
        self._committed = 0  # items committed
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.failures = 0

    # --- queueing (never blocks) ------------------------------------------------------------
    def transition(self, t: Transition[Any, Any], at: datetime) -> None:
        self._pending.transitions.append((t, at))
        self._queued_one()

    def owner(self, call_id: str, user_id: int) -> None:
        self._pending.owners.append((call_id, user_id))
        self._queued_one()

    def outcome(self, finished: hopper.Finished, lead: act.Lead) -> None:
        self._pending.outcomes.append(Outcome(finished, lead))
        self._queued_one()

    def _queued_one(self) -> None:
        self._queued += 1
        self._wake.set()

    @property
    def backlog(self) -> int:
        return self._queued - self._committed

    # --- barriers ---------------------------------------------------------------------------
    async def barrier(self) -> None:
        """Return once everything queued before this call is committed."""
        if self._committed >= self._queued:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._queued, fut))
        await asyncio.shield(fut)

    # --- the writer's task --------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"writer-{self.campaign_id}")

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        await self.barrier()
        await self.kill()

    async def kill(self) -> None:
        """Stop at once, losing what is not committed (a crash; tests of the barriers)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, Batch()
            upto = self._queued
            if not batch:
                continue
            await self._commit(batch)
            self._committed = upto
            self.batches += 1
            for o in batch.outcomes:
                if self.on_outcome is not None:
                    self.on_outcome(o)
            self._release()

    async def _commit(self, batch: Batch) -> None:
        while True:
            now = self.wall()
            try:
                await asyncio.to_thread(
                    commit_batch, self.db, self.campaign_id, batch, self.policy, now
                )
                break
            except Exception:  # the database is down: keep the batch, try again
                self.failures += 1
                log.exception("state batch not committed; retrying", campaign=self.campaign_id)
                await asyncio.sleep(RETRY_AFTER)
        if self.audit is not None and batch.outcomes:
            await asyncio.to_thread(self._audit, batch.outcomes, now)

    def _audit(self, outcomes: list[Outcome], now: datetime) -> None:
        for o in outcomes:  # rule 36: every decision gets its outcome
            try:
                assert self.audit is not None
                self.audit(o.finished, o.lead, now)
            except Exception:  # the attempt is closed; the audit row is missing: say so
                self.failures += 1
                log.exception("call outcome not audited", call_id=o.finished.call_id)

    def _release(self) -> None:
        keep: list[tuple[int, asyncio.Future[None]]] = []
        for upto, fut in self._waiters:
            if upto <= self._committed:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((upto, fut))
        self._waiters = keep
