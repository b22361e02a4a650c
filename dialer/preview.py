"""Preview dialing (issue 6): the agent sees the record first, then dials or skips it; a
campaign may dial it automatically after N seconds.

The lead is claimed for the agent (so no other agent or engine takes it), shown on their
screen, and either dialed with the agent reserved — an agent is guaranteed, so the call can
never be abandoned (rule 21) — or given back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from campaigns.callback_times import TeamsOnline
from dialer import actions as act
from dialer import hopper
from dialer.errors import UnknownAgent
from dialer.models import PreviewSkip
from outdial.errors import Conflict
from outdial.storage import session_scope

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dialer.runtime import Running


def _keep(db: Engine, skip: PreviewSkip) -> None:
    with session_scope(db) as s:
        s.add(skip)


@dataclass
class Held:
    lead: act.Lead
    campaign_id: int
    auto: asyncio.Task[None] | None = None


class PreviewDesk:
    """The records agents are previewing, one per agent at most."""

    def __init__(self) -> None:
        self.held: dict[int, Held] = {}

    async def next(
        self, run: Running, user_id: int, auto_dial_after: float | None, push: Any
    ) -> dict[str, Any] | None:
        """Offer the agent a record (the same one again if they hold one); None: none left."""
        if run.engine.settings.core.mode != "preview":
            raise Conflict(
                "this campaign is not in preview mode", mode=run.engine.settings.core.mode
            )
        agent = run.engine.core.agents.get(str(user_id))
        if agent is None or agent.machine.state.value != "ready":
            raise UnknownAgent("only a ready agent can preview a record", agent=user_id)
        held = self.held.get(user_id)
        if held is None:
            leads = await asyncio.to_thread(
                hopper.claim,
                run.engine.db,
                run.campaign_id,
                1,
                run.engine.wall(),
                frozenset({user_id}),  # this agent's own personal callbacks too (issue 7)
                run.engine.settings.node,
                _as_taker(run.engine.teams_online(), run.engine.user_teams.get(user_id, "")),
            )
            if not leads:
                return None
            held = self.held[user_id] = Held(leads[0], run.campaign_id)
            if auto_dial_after:
                held.auto = asyncio.create_task(self._auto(run, user_id, auto_dial_after))
        offer = {
            "type": "preview",
            "contact_id": held.lead.contact_id,
            "number": held.lead.number,
            "record": held.lead.data,
            "auto_dial_after": auto_dial_after,
        }
        if push is not None:
            pushed = push(str(user_id), offer)
            if pushed is not None:
                await pushed
        return offer

    async def dial(self, run: Running, user_id: int) -> str | None:
        """Dial the held record with the agent reserved; None if compliance blocked it."""
        held = self._take(user_id)
        return await run.engine.dial_preview(str(user_id), held.lead)

    async def skip(self, run: Running, user_id: int, reason: str = "") -> None:
        """Give the held record back to the queue untouched; the agent's reason, when given,
        is kept in the contact's history (``preview_skips``)."""
        held = self._take(user_id)
        await asyncio.to_thread(hopper.unclaim, run.engine.db, held.lead)
        if reason.strip():
            skip = PreviewSkip(
                contact_id=held.lead.contact_id,
                campaign_id=held.campaign_id,
                user_id=user_id,
                reason=reason.strip()[:200],
                at=run.engine.wall(),
            )
            await asyncio.to_thread(_keep, run.engine.db, skip)

    async def release_all(self, run: Running) -> None:
        for user_id in [u for u, h in self.held.items() if h.campaign_id == run.campaign_id]:
            with contextlib.suppress(UnknownAgent):
                await self.skip(run, user_id)

    def _take(self, user_id: int) -> Held:
        held = self.held.pop(user_id, None)
        if held is None:
            raise UnknownAgent("no record is being previewed; ask for the next one", agent=user_id)
        if held.auto is not None and held.auto is not asyncio.current_task():
            held.auto.cancel()
        return held

    async def _auto(self, run: Running, user_id: int, after: float) -> None:
        await asyncio.sleep(after)
        if user_id in self.held:
            await self.dial(run, user_id)


def _as_taker(online: TeamsOnline, team: str) -> TeamsOnline:
    """The previewing agent is the one who takes the record: only their team counts as ready
    (another team's callback waits for that team, campaigns/callback_times.py)."""
    return replace(online, ready=frozenset({team} - {""}))
