"""What agents do through the runtime: log in, go ready or paused, log out, dispose calls.

An agent works one campaign at a time. Their id in the engine is their user id (as text).
A disposition's flags (final, callback, do-not-call) come from the campaign's disposition
set (campaigns.rules.DEFAULT_DISPOSITIONS when it has none). The disposition is committed
before the agent leaves wrap-up (the engine does that); a do-not-call code puts the number on
the internal DNC list at once (compliance rule 9).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from campaigns.rules import Disposition
from dialer import hopper, sessions
from dialer.errors import NotYourCall, UnknownAgent
from dialer.models import Attempt
from dialer.preview import PreviewDesk
from dialer.snapshot import agent_entry
from lists.models import Contact
from outdial.errors import Conflict, InvalidInput
from outdial.models import as_utc
from outdial.storage import session_scope
from sip.commands import ConnectAgent

if TYPE_CHECKING:
    from dialer.runtime import DialerRuntime, Running

#: the pause an agent comes back in after a restart cut their call: it ends with that call's
#: disposition, as wrap-up would have
WRAP_AFTER_RESTART = "wrap_after_restart"
#: who takes a disposition's callback: the agent who set it, or any agent of the campaign
CALLBACK_OWNERS = ("personal", "team")


def dispositions_of(db: DbEngine, campaign_id: int) -> tuple[tuple[Disposition, ...], str]:
    """The campaign's disposition set and region (blocking)."""
    from campaigns import store

    camp = store.get(db, campaign_id)
    return tuple(store.spec_of(db, camp).dispositions), camp.region


def pause_reasons_of(db: DbEngine, campaign_id: int) -> tuple[str, ...]:
    """The pause reason codes the campaign lists for its agents (blocking)."""
    from campaigns import store

    return tuple(r.code for r in store.spec_of(db, store.get(db, campaign_id)).pause_reasons)


def callback_due(
    db: DbEngine,
    att: Attempt,
    callback_at: datetime,
    now: datetime,
    agent_id: int | None = None,
    note: str = "",
    team: bool = False,
) -> datetime:
    """Schedule the callback an agent's disposition asks for and return when it is due;
    refused (CallbackRefused, with the next legal time) outside the customer's legal calling
    hours (rules 1, 14-16, 28, 33). ``team``: any agent allowed on the campaign may take it
    (saved so in the same step; ``agent_id`` is still who made it).

    One callback model (issue 16 item 7): this is the same ``callbacks`` row that
    ``POST /api/callbacks`` makes, personal to the agent, so ``outdial callbacks list`` and
    ``GET /api/callbacks`` show it; a retried disposition finds it by its key."""
    from campaigns import callbacks, store

    spec = store.spec_of(db, store.get(db, att.campaign_id))
    with session_scope(db) as s:
        contact = s.get(Contact, att.contact_id)
    zones = [str(z) for z in (contact.timezones if contact else None) or []]
    zone = zones[0] if zones else spec.timezone
    local = callback_at.astimezone(ZoneInfo(zone))
    cb, _created = callbacks.schedule(
        db,
        att.campaign_id,
        att.number,
        local,
        zone,
        now,
        candidate_zones=zones,
        owner_kind="agent" if agent_id is not None and not team else "team",
        owner_id=None if team else agent_id,
        created_by=agent_id,
        note=note,
        customer_name=contact.name if contact else "",
        contact_ref=f"call:{att.call_id}",
        idempotency_key=f"disposition:{att.call_id}",
    )
    return as_utc(cb.due_at)


def _callbacks_served(db: DbEngine, att: Attempt, now: datetime) -> None:
    """The callback this call kept is done (campaigns/callbacks.py ``served``)."""
    from campaigns import callbacks

    callbacks.served(db, att.campaign_id, att.number, now, f"disposition:{att.call_id}")


def _survey_attached(db: DbEngine, campaign_id: int) -> bool:
    from campaigns import rules, store

    return rules.ivr_transfer_allowed(store.spec_of(db, store.get(db, campaign_id)))


def campaigns_store() -> Any:
    from campaigns import store

    return store


def attempt_by_call(db: DbEngine, call_id: str) -> Attempt | None:
    with session_scope(db) as s:
        return s.exec(select(Attempt).where(Attempt.call_id == call_id)).first()


def _dnc_add(db: DbEngine, number: str, region: str, reason: str, at: datetime) -> None:
    from compliance import store

    store.dnc_add(db, number, source="disposition", reason=reason, region=region, at=at)


class AgentDesk:
    """The agents' side of a :class:`dialer.runtime.DialerRuntime`, which holds one (its
    ``desk``; the runtime's agent methods are the desk's): their sockets, which campaign
    each works, the records held on preview screens."""

    def __init__(self, runtime: DialerRuntime) -> None:
        self.runtime = runtime
        self.hub = sessions.AgentHub()
        self.agent_campaign: dict[int, int] = {}  # user id -> campaign id
        self.previews = PreviewDesk()

    @property
    def db(self) -> DbEngine:
        return self.runtime.db

    @property
    def running(self) -> dict[int, Running]:
        return self.runtime.running

    @property
    def wall(self) -> Callable[[], datetime]:
        return self.runtime.wall

    # --- preview mode -------------------------------------------------------------------------
    async def preview_next(self, user_id: int) -> dict[str, Any] | None:
        run = self._agent_run(user_id)
        after = run.engine.settings.preview_auto_dial_seconds
        return await self.previews.next(run, user_id, after or None, run.engine.push)

    async def preview_dial(self, user_id: int) -> dict[str, Any]:
        call_id = await self.previews.dial(self._agent_run(user_id), user_id)
        return {"call_id": call_id, "dialed": call_id is not None}

    async def preview_skip(self, user_id: int, reason: str = "") -> dict[str, Any]:
        await self.previews.skip(self._agent_run(user_id), user_id, reason)
        return {"skipped": True}

    def _run(self, campaign_id: int) -> Running:
        return self.runtime.campaign_run(campaign_id)

    def agent_status(self, user_id: int) -> dict[str, Any] | None:
        """An agent's state in their campaign, or None when not logged in here."""
        campaign_id = self.agent_campaign.get(user_id)
        run = self.running.get(campaign_id) if campaign_id is not None else None
        agent = run.engine.core.agents.get(str(user_id)) if run else None
        if agent is None or run is None:
            return None
        # the runner's snapshot entry (issue 11.5): what the WebSocket's hello resyncs from
        tested = run.engine.phones.latest.get(str(user_id))
        return (
            {"user_id": user_id, "campaign_id": campaign_id}
            | agent_entry(agent, run.engine.clock())
            | {"softphone_test": tested.as_dict() if tested else None}
        )

    async def test_softphone(self, user_id: int) -> dict[str, Any] | None:
        """Ring the signed-in agent's softphone once (dialer/softphone_check.py); its outcome
        follows in ``agent_status`` and as a ``softphone_test`` message. None: the campaign
        has ``[dialing] softphone_test = false``."""
        run = self._agent_run(user_id)
        if not run.engine.settings.softphone_test:
            return None
        await run.engine.test_softphone(str(user_id))
        return (self.agent_status(user_id) or {}).get("softphone_test")

    def live_amd(self, campaign_id: int, call_id: str) -> str:
        """The AMD result of a call still live in its engine ("" when none or ended; the
        attempt records it when the call ends)."""
        run = self.running.get(campaign_id)
        return run.engine.amd.get(call_id, "") if run else ""

    def _agent_run(self, user_id: int) -> Running:
        campaign_id = self.agent_campaign.get(user_id)
        if campaign_id is None or campaign_id not in self.running:
            raise UnknownAgent("log in to a running campaign first", agent=user_id)
        return self.running[campaign_id]

    async def agent_login(
        self,
        user_id: int,
        campaign_id: int,
        sip_uri: str | None = None,
        owed_call: str | None = None,
    ) -> dict[str, Any]:
        """Log in with a softphone (``sip_uri``, else the user's own); the agent is ready, or
        in wrap-up with ``owed_call`` still needing its disposition (a dropped session)."""
        run = self._run(campaign_id)
        current = self.agent_campaign.get(user_id)
        if current is not None and current != campaign_id and current in self.running:
            raise Conflict(f"logged in to campaign {current}; log out first", campaign=current)
        known = self.agent_status(user_id)
        if current == campaign_id and known and known["state"] != "logged_out":
            return known  # a repeated login: nothing changes
        if not sip_uri:
            sip_uri = await asyncio.to_thread(sessions.user_sip_uri, self.db, user_id)
        uri = (sip_uri or "").strip()
        if not uri:
            raise InvalidInput("no SIP address: send sip_uri or set the user's", field="sip_uri")
        try:
            ConnectAgent("login", uri)  # validates the URI the way the SIP layer will
        except Exception as exc:
            raise InvalidInput(f"not a SIP URI: {uri!r}", field="sip_uri") from exc
        await asyncio.to_thread(sessions.open_session, self.db, user_id, campaign_id, uri)
        self.agent_campaign[user_id] = campaign_id
        run.agents.add(user_id)
        try:
            team = await asyncio.to_thread(sessions.user_team, self.db, user_id)
            await run.engine.agent_login(str(user_id), user_id, uri, owed_call, team)
        except Exception:
            self.agent_campaign.pop(user_id, None)
            run.agents.discard(user_id)
            await asyncio.to_thread(sessions.close_sessions, self.db, None, user_id)
            raise
        return self.agent_status(user_id) or {}

    async def agent_ready(self, user_id: int) -> dict[str, Any]:
        run = self._agent_run(user_id)
        if (self.agent_status(user_id) or {}).get("state") != "ready":
            await run.engine.agent_ready(str(user_id))
        return self.agent_status(user_id) or {}

    async def agent_pause(
        self, user_id: int, reason: str, *, listed: bool = True
    ) -> dict[str, Any]:
        """Pause with one of the campaign's reason codes (``listed=False``: the runtime's
        own reasons, e.g. the wrap-up of a call cut by a restart)."""
        reason = reason.strip()
        if not reason or len(reason) > 64:
            raise InvalidInput("a pause needs a reason code of 1-64 characters", field="reason")
        run = self._agent_run(user_id)
        if listed:
            await self._check_pause_reason(run.campaign_id, reason)
        await run.engine.agent_pause(str(user_id), reason)
        return self.agent_status(user_id) or {}

    async def _check_pause_reason(self, campaign_id: int, reason: str) -> None:
        codes = await asyncio.to_thread(pause_reasons_of, self.db, campaign_id)
        if reason not in codes:
            raise InvalidInput(
                f"this campaign has no pause reason {reason[:64]!r} (one of {', '.join(codes)})",
                field="reason",
            )

    async def agent_logout(self, user_id: int) -> dict[str, Any]:
        run = self._agent_run(user_id)
        state = (self.agent_status(user_id) or {}).get("state")
        if state != "logged_out":  # in wrap-up: DispositionOwed (409) names the call
            await run.engine.agent_logout(str(user_id))
        self.agent_campaign.pop(user_id, None)
        run.agents.discard(user_id)
        await asyncio.to_thread(sessions.close_sessions, self.db, None, user_id)
        return {"user_id": user_id, "state": "logged_out"}

    async def transfer_to_ivr(self, user_id: int, call_id: str) -> dict[str, Any]:
        """Hand the agent's connected customer to the campaign's survey IVR (issue 7).

        The agent's leg is hung up, the customer hears the survey, and the agent is in
        wrap-up for this call at once (their disposition is still theirs to set).
        """
        if not self.owns_live_call(user_id, call_id):
            raise NotYourCall("that call is not yours", call_id=call_id)
        status = self.agent_status(user_id) or {}
        if status.get("state") != "talk":
            raise Conflict("only a connected call can be transferred", state=status.get("state"))
        run = self._agent_run(user_id)
        if not await asyncio.to_thread(_survey_attached, self.db, run.campaign_id):
            raise Conflict(
                "this campaign has no survey to transfer to (attach one to the campaign)",
                campaign_id=run.campaign_id,
            )
        await run.engine.transfer_to_ivr(str(user_id), call_id)
        return {"call_id": call_id, "transferred_to": "ivr", "agent": self.agent_status(user_id)}

    async def agent_hangup(self, user_id: int, call_id: str) -> dict[str, Any]:
        """The agent ends their own connected call (issue 16 item 8): the customer's leg is
        hung up; its end moves the agent to wrap-up, where the disposition is set."""
        if not self.owns_live_call(user_id, call_id):
            raise NotYourCall("that call is not yours", call_id=call_id)
        status = self.agent_status(user_id) or {}
        if status.get("state") != "talk":
            raise Conflict("only a connected call can be hung up", state=status.get("state"))
        await self._agent_run(user_id).port.hangup(call_id)
        return {"call_id": call_id, "hung_up": True, "agent": self.agent_status(user_id)}

    def owns_live_call(self, user_id: int, call_id: str) -> bool:
        return (self.agent_status(user_id) or {}).get("call_id") == call_id

    async def disposition(
        self,
        user_id: int,
        call_id: str,
        code: str,
        notes: str = "",
        callback_at: datetime | None = None,
        pause_reason: str | None = None,
        callback_owner: str = "personal",
    ) -> dict[str, Any]:
        """Set the result of one of the agent's own calls (403 for anyone else's).

        ``callback_owner``: "personal" (the agent calls back) or "team" (any agent allowed on
        the campaign may), saved with the callback itself."""
        att = await asyncio.to_thread(attempt_by_call, self.db, call_id)
        live = self.owns_live_call(user_id, call_id)
        if att is None or not (live or att.agent_user_id == user_id):
            raise NotYourCall("that call is not yours", call_id=call_id)
        status = self.agent_status(user_id) or {}
        if live and status.get("state") != "wrap":
            raise Conflict(
                "the call is still connected; hang it up first (POST /api/agent/hangup) "
                "and set the disposition in wrap-up",
                state=status.get("state"),
            )
        codes, region = await asyncio.to_thread(dispositions_of, self.db, att.campaign_id)
        d = next((c for c in codes if c.code == code), None)
        if d is None:
            raise InvalidInput(
                f"unknown disposition {code!r} (one of {', '.join(c.code for c in codes)})",
                field="code",
            )
        if d.callback and callback_at is None:
            raise InvalidInput(f"{code!r} needs callback_at", field="callback_at")
        if callback_at is not None and not d.callback:
            raise InvalidInput(f"{code!r} is not a callback code", field="callback_at")
        if callback_at is not None and callback_at.tzinfo is None:
            raise InvalidInput("callback_at needs a time zone", field="callback_at")
        if callback_owner not in CALLBACK_OWNERS:
            raise InvalidInput(
                "callback_owner must be 'personal' or 'team'", field="callback_owner"
            )
        if pause_reason:
            await self._check_pause_reason(att.campaign_id, pause_reason)
        now = self.wall()
        if callback_at is not None:
            callback_at = await asyncio.to_thread(
                callback_due,
                self.db,
                att,
                callback_at,
                now,
                user_id,
                notes,
                callback_owner == "team",
            )
        if d.do_not_call:  # rule 9: on the internal DNC list at once, before anything else
            await asyncio.to_thread(
                _dnc_add, self.db, att.number, region, f"disposition {code} on call {call_id}", now
            )
        # the campaign's ledger; a retry with another code: 409
        await asyncio.to_thread(
            campaigns_store().record_disposition,
            self.db,
            att.campaign_id,
            f"call:{call_id}",
            code,
            agent_id=user_id,
            contact_ref=call_id,
            note=notes,
        )
        await asyncio.to_thread(_callbacks_served, self.db, att, now)
        if live:
            run = self._agent_run(user_id)
            await run.engine.disposition(
                str(user_id), call_id, code, d.final, callback_at, notes, pause_reason or None
            )
        else:  # after a stop or a restart: record it; the agent's state is not involved
            await asyncio.to_thread(
                hopper.record_disposition, self.db, call_id, code, d.final, callback_at, notes, now
            )
            if status.get("pause_reason") == WRAP_AFTER_RESTART:  # wrap-up of a cut call ends
                if pause_reason:
                    await self.agent_pause(user_id, pause_reason)
                else:
                    await self.agent_ready(user_id)
        return {
            "call_id": call_id,
            "code": code,
            "final": d.final,
            "callback_at": callback_at.isoformat() if callback_at else None,
            "callback_owner": callback_owner if callback_at else None,
            "do_not_call": d.do_not_call,
            "agent": self.agent_status(user_id),
        }
