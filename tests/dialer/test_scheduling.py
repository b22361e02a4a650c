"""APScheduler wakes the runtime: campaigns hold outside their weekly schedule, resume inside
it, and complete when no record can be called any more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaigns
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.runtime import DialerRuntime
from dialer.scheduling import CampaignScheduler
from sip.fake import FakeScript, FakeSipPort

# Monday 2026-11-23: 10:00 and 22:00 in Shanghai
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class Allow:
    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        pass

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


def runtime(engine: Engine) -> DialerRuntime:
    return DialerRuntime(
        engine,
        sip_factory=lambda cid: FakeSipPort(lambda t: FakeScript(final=486, delay=0.05)),
        gate_factory=lambda db, cid: Allow(),
        default_caller_id="+8610010000",
        default_safe_harbor=dialdata.safe_harbor(),
        engine_options={
            "ring_timeout": 1.0,
            "allow_short_ring_timeout_for_tests": True,
            "tick": 0.02,
            "pace_every": 0.1,
            "record_calls": False,  # the fake port records nothing; no ./var/recordings
        },
        stop_drain=0.0,
    )


def status(engine: Engine, cid: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT status FROM campaigns WHERE id=:c"), {"c": cid}
            ).scalar_one()
        )


async def test_schedule_holds_and_releases_then_completes(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "sched", ["+8613800000011"], mode="agentless")
    spec = rules.parse_campaign(
        {
            "name": "sched",
            "kind": "satisfaction_survey",
            "mode": "agentless",
            "caller_id": "+8610010000",
            "timezone": "Asia/Shanghai",
            "schedule": {d: ["09:00-18:00"] for d in rules.DAYS},
        }
    )
    campaigns.save_spec(engine, spec)
    rt = runtime(engine)
    clock: dict[str, Any] = {"now": NIGHT}
    sched = CampaignScheduler(rt, wall=lambda: clock["now"])
    try:
        await rt.start(cid)
        rt.running[cid].engine.pause()  # nothing dials before the scheduler has looked
        await sched.tick()
        assert status(engine, cid) == "scheduled" and cid in sched.held
        clock["now"] = MORNING
        await sched.tick()
        assert status(engine, cid) == "running" and cid not in sched.held
        for _ in range(200):  # the one record is dialed: busy, then retry in 10 min
            if rt.running[cid].engine.finished:
                break
            await asyncio.sleep(0.05)
        with engine.begin() as conn:  # no record left to call: the campaign completes
            conn.execute(sa.text("UPDATE contacts SET status='done'"))
        await sched.tick()
        assert status(engine, cid) == "completed" and cid not in rt.running
    finally:
        await rt.stop_all()


async def test_a_managers_resume_outside_the_schedule_does_not_dial(sqlite_engine: Engine) -> None:
    """Pause is kept in one place (``Running.paused`` and ``Running.held``): a manager who
    pauses and resumes a campaign its schedule holds leaves it held, not dialing."""
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "held", ["+8613800000012"], mode="agentless")
    spec = rules.parse_campaign(
        {
            "name": "held",
            "kind": "satisfaction_survey",
            "mode": "agentless",
            "caller_id": "+8610010000",
            "timezone": "Asia/Shanghai",
            "schedule": {d: ["09:00-18:00"] for d in rules.DAYS},
        }
    )
    campaigns.save_spec(engine, spec)
    rt = runtime(engine)
    clock: dict[str, Any] = {"now": NIGHT}
    sched = CampaignScheduler(rt, wall=lambda: clock["now"])
    try:
        await rt.start(cid)
        run = rt.running[cid]
        run.engine.pause()  # nothing dials before the scheduler has looked
        await sched.tick()
        assert cid in sched.held
        before = set(run.engine.core.calls)  # a call the runner placed before the pause above
        await rt.pause(cid)
        assert status(engine, cid) == "paused"
        await rt.resume(cid)
        await run.engine.ask(lambda now: [])  # one inbox: the pause/resume are handled
        assert status(engine, cid) == "scheduled" and cid in sched.held
        assert not run.engine.core.dialing and set(run.engine.core.calls) <= before
        clock["now"] = MORNING
        await sched.tick()
        await run.engine.ask(lambda now: [])
        assert status(engine, cid) == "running" and run.engine.core.dialing
    finally:
        await rt.stop_all()
