"""The write-behind writer (issue 11.2) on SQLite and PostgreSQL: batches, barriers, and a
writer killed between batches losing transient state only, never a result."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import dialdata
from dialdata import rows
from sqlalchemy.engine import Engine

from campaigns.rules import RetryPolicy
from dialer import actions as act
from dialer import hopper
from dialer.core import CoreConfig
from dialer.engine import CampaignEngine, EngineSettings, GateVerdict
from dialer.states import CallEvent, CallMachine
from dialer.writer import StateWriter
from outdial import auth
from outdial.models import utcnow
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort


class AllowAll:
    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        return None

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


async def test_transitions_commit_in_batches_and_the_barrier_waits(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "w1", ["+8613800000011"])
    (lead,) = hopper.claim(engine, cid, 1, utcnow())
    hopper.open_attempt(engine, "c1", cid, lead, "node-1", utcnow())
    writer = StateWriter(engine, cid, RetryPolicy(), utcnow)
    writer.start()
    call = CallMachine("c1", 0.0)
    for i, event in enumerate([CallEvent.CLAIM, CallEvent.DIAL, CallEvent.RINGING]):
        writer.transition(call.fire(event, float(i)), utcnow())
    for i in range(60):  # agent moves, queued faster than one commit
        writer.transition(CallMachine(f"x{i}", 0.0).fire(CallEvent.CLAIM, 0.0), utcnow())
    assert writer.backlog == 63
    await writer.barrier()
    assert writer.backlog == 0
    assert 1 <= writer.batches <= 3  # one transaction per batch, not per row
    [(state,)] = rows(engine, "SELECT state FROM attempts WHERE call_id = 'c1'")
    assert state == "ringing"
    [(n,)] = rows(engine, "SELECT count(*) FROM state_changes")
    assert n == 63
    await writer.close()


async def test_a_killed_writer_loses_transient_state_never_a_disposition(engine: Engine) -> None:
    """Barriers: the outcome, then the disposition, are committed before the agent is offered
    the next call; killing the writer then loses only the next call's transitions, and the
    restart's recovery closes that attempt (its row was committed before the INVITE)."""
    numbers = ["+8613800000011", "+8613800000022"]
    cid = dialdata.campaign_with_contacts(engine, "w2", numbers)
    scripts = {"1": FakeScript(delay=0.1, bye_after=0.2), "2": FakeScript(final=None)}
    pushed: list[dict[str, Any]] = []
    user = auth.create_user(engine, "wa", "password-1", Role.AGENT, sip_uri="sip:a@127.0.0.1")
    settings = EngineSettings(
        campaign_id=cid,
        core=CoreConfig(mode="progressive"),
        caller_id="+8610010000",
        ring_timeout=30.0,
        pace_every=0.05,
    )
    async with FakeSipPort(lambda t: scripts[t[-1]]) as sip:
        eng = CampaignEngine(engine, sip, settings, AllowAll(), push=lambda a, m: pushed.append(m))
        await eng.start()
        await eng.agent_login("a1", user.id or 0, "sip:a@127.0.0.1")
        await dialdata.until(lambda: any(m["type"] == "call_ended" for m in pushed), 10, "end")
        first = next(m["call_id"] for m in pushed if m["type"] == "call_ended")
        await eng.disposition("a1", first, "success", final=True)  # barriers, then ready
        await dialdata.until(lambda: len(eng.core.calls) == 1, 10, "the next call")
        await asyncio.sleep(0.1)  # the second call's transitions are queued or committing
        await eng.writer.kill()  # the process dies: whatever is queued now is lost
    [(state, final, dispo)] = rows(
        engine, "SELECT state, final, disposition FROM attempts WHERE call_id = :c", c=first
    )
    assert (state, final, dispo) == ("completed", True, "success")
    [(status,)] = rows(
        engine, "SELECT status FROM contacts WHERE primary_number = :n", n=numbers[0]
    )
    assert status == "done"
    [(second_final,)] = rows(engine, "SELECT final FROM attempts WHERE call_id <> :c", c=first)
    assert not second_final  # in flight when the writer died
    async with FakeSipPort(lambda t: scripts[t[-1]]) as sip:
        again = CampaignEngine(engine, sip, settings, AllowAll())
        assert await again.start(dialing=False) == 1  # recovery closes it
        await again.stop()
    [(second_final,)] = rows(engine, "SELECT final FROM attempts WHERE call_id <> :c", c=first)
    assert second_final
