"""Wall-clock jobs with APScheduler: campaigns follow their weekly schedule, finish when no
record can be called any more, and the internal DNC list drops entries past retention.

APScheduler only wakes the runtime (shared/STYLE.md): what is due lives in the database
(contacts' ``next_due_at``/``callback_at``, callbacks, webhook deliveries), and the rule of
whether a campaign may dial now is the pure ``campaigns.rules.in_schedule``. A restart loses
nothing: the jobs simply run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from campaigns import store as campaigns
from campaigns.rules import in_schedule
from compliance import store as compliance
from dialer import hopper
from dialer import status as dbstatus
from dialer.runtime import DialerRuntime, Running
from outdial.models import utcnow
from quality import retention_store

log = structlog.get_logger(__name__)


class CampaignScheduler:
    """Owns one AsyncIOScheduler; ``start()`` inside the server's event loop."""

    def __init__(
        self,
        runtime: DialerRuntime,
        every: float = 15.0,
        wall: Callable[[], datetime] = utcnow,
        retention: tuple[Path, int] | None = None,
    ) -> None:
        """``retention``: (data directory, days) for the daily recording purge; None: none."""
        self.runtime = runtime
        self.retention = retention
        self.wall = wall
        self.every = every
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    @property
    def held(self) -> set[int]:
        """Campaigns held by their schedule (``Running.held``, the one place it is kept)."""
        return {cid for cid, run in self.runtime.running.items() if run.held}

    def start(self) -> None:
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.every),
            id="campaign-schedules",
            max_instances=1,
            coalesce=True,
            next_run_time=self.wall(),
        )
        self.scheduler.add_job(
            self.purge_dnc,
            CronTrigger(hour=3, minute=17, timezone=UTC),
            id="dnc-retention",
            max_instances=1,
            coalesce=True,
        )
        if self.retention is not None:
            self.scheduler.add_job(
                self.purge_recordings,
                CronTrigger(hour=3, minute=37, timezone=UTC),
                id="recording-retention",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        """Hold or release each running campaign by its schedule; complete finished ones."""
        now = self.wall()
        for campaign_id, run in list(self.runtime.running.items()):
            try:
                await self._one(campaign_id, run, now)
            except Exception:  # one campaign's trouble must not stop the others' schedules
                log.exception("schedule check failed", campaign=campaign_id)

    async def _one(self, campaign_id: int, run: Running, now: datetime) -> None:
        db = self.runtime.db
        camp = await asyncio.to_thread(campaigns.get, db, campaign_id)
        spec = await asyncio.to_thread(campaigns.spec_of, db, camp)
        inside = in_schedule(spec, now)
        if not inside and not run.held:
            run.hold(held=True)
            if not run.paused:  # a manager's pause stays what the campaign shows
                await asyncio.to_thread(dbstatus.set_campaign_status, db, campaign_id, "scheduled")
            log.info("campaign outside its schedule: holding", campaign=campaign_id)
        elif inside and run.held:
            run.hold(held=False)
            if not run.paused:
                await asyncio.to_thread(dbstatus.set_campaign_status, db, campaign_id, "running")
                log.info("campaign inside its schedule: dialing", campaign=campaign_id)
        remaining = await asyncio.to_thread(hopper.remaining, db, campaign_id)
        if remaining == 0 and not run.engine.core.calls:
            await self.runtime.stop(campaign_id, drain=0)
            await asyncio.to_thread(dbstatus.set_campaign_status, db, campaign_id, "completed")
            log.info("campaign completed: no record can be called any more", campaign=campaign_id)

    async def purge_dnc(self) -> None:
        removed = await asyncio.to_thread(compliance.dnc_purge_expired, self.runtime.db)
        if removed:
            log.info("DNC entries past retention removed", count=removed)

    async def purge_recordings(self) -> retention_store.Result | None:
        """Delete recordings past ``recording_retention_days`` (quality/retention.py)."""
        if self.retention is None:
            return None
        folder, days = self.retention
        try:
            return await asyncio.to_thread(
                retention_store.apply, self.runtime.db, folder, days, self.wall()
            )
        except Exception:  # the database may be down: tomorrow's run catches up
            log.exception("recording retention failed")
            return None
