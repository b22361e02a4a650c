"""Agents' sessions: their rows in ``agent_sessions`` and their screens' WebSockets.

The runtime (dialer/runtime.py) writes a session row when an agent logs in, mirrors every
agent state the engine pushes onto it, and deletes it at logout. The hub fans the engine's
messages for one agent out to every socket that agent has open (a page and a softphone
panel, say); a socket that fails is dropped, never allowed to stall the engine.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from dialer.models import AgentSession, Attempt
from outdial.errors import NotFound
from outdial.models import User, utcnow
from outdial.storage import session_scope

log = structlog.get_logger(__name__)


class Socket(Protocol):
    """What the hub needs of a WebSocket (aiohttp's ``WebSocketResponse`` has it)."""

    async def send_str(self, data: str) -> None: ...


class AgentHub:
    """Per-agent WebSocket connections, keyed by the agent's user id."""

    def __init__(self) -> None:
        self._sockets: dict[int, set[Socket]] = {}

    def add(self, user_id: int, socket: Socket) -> None:
        self._sockets.setdefault(user_id, set()).add(socket)

    def remove(self, user_id: int, socket: Socket) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[user_id]

    async def drop(self, user_id: int) -> None:
        """Close an agent's sockets (their screen fell behind): the page reconnects and
        resyncs from the runner's snapshot (issue 11.2)."""
        for socket in list(self._sockets.pop(user_id, ())):
            close = getattr(socket, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # already broken: it is dropped all the same
                    log.info("an agent socket failed to close", user_id=user_id)

    def connected(self, user_id: int) -> int:
        return len(self._sockets.get(user_id, ()))

    async def send(self, user_id: int, message: dict[str, Any]) -> int:
        """Send one JSON message to all of an agent's sockets; returns how many took it."""
        data = json.dumps(message, ensure_ascii=False, default=str)
        sent = 0
        for socket in list(self._sockets.get(user_id, ())):
            try:
                await socket.send_str(data)
                sent += 1
            except Exception:  # a closed or broken socket: drop it, keep the others
                log.info("dropping an agent socket", user_id=user_id)
                self.remove(user_id, socket)
        return sent

    async def close_all(self) -> None:
        for user_id in list(self._sockets):
            for socket in list(self._sockets.get(user_id, ())):
                close = getattr(socket, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
        self._sockets.clear()


# --- storage ----------------------------------------------------------------------------------


def user_sip_uri(engine: Engine, user_id: int) -> str:
    with session_scope(engine) as s:
        user = s.get(User, user_id)
    if user is None or user.disabled:
        raise NotFound(f"no active user {user_id}", user_id=user_id)
    return user.sip_uri


def user_team(engine: Engine, user_id: int) -> str:
    """users.team ("" for none): whose team callbacks the agent may take (issue 7)."""
    with session_scope(engine) as s:
        user = s.get(User, user_id)
    return user.team if user is not None else ""


def open_session(engine: Engine, user_id: int, campaign_id: int, sip_uri: str) -> None:
    """One row per agent (``user_id`` is unique): a new login replaces an old row."""
    with session_scope(engine) as s:
        s.execute(delete(AgentSession).where(col(AgentSession.user_id) == user_id))
        s.add(
            AgentSession(
                user_id=user_id,
                campaign_id=campaign_id,
                sip_uri=sip_uri,
                state="logged_out",
                since=utcnow(),
            )
        )


def set_state(engine: Engine, user_id: int, state: str, reason: str, at: datetime) -> None:
    with session_scope(engine) as s:
        if state == "logged_out":  # a statement, not the ORM's delete: the logout's own
            # close_sessions may have deleted the row first (another thread), which is fine
            s.execute(delete(AgentSession).where(col(AgentSession.user_id) == user_id))
            return
        row = s.exec(select(AgentSession).where(AgentSession.user_id == user_id)).first()
        if row is None:
            return
        row.state, row.pause_reason, row.since = state, reason[:64], at
        s.add(row)


@dataclass(frozen=True)
class SessionRow:
    user_id: int
    sip_uri: str
    state: str
    pause_reason: str


def sessions_of(engine: Engine, campaign_id: int) -> list[SessionRow]:
    """The agents logged in to a campaign when its engine last ran (oldest login first)."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(AgentSession)
            .where(AgentSession.campaign_id == campaign_id)
            .order_by(col(AgentSession.id))
        )
        return [SessionRow(r.user_id, r.sip_uri, r.state, r.pause_reason) for r in rows]


def owed_call(engine: Engine, campaign_id: int, user_id: int) -> str | None:
    """The call of this campaign the agent took last and has not set the disposition of."""
    with session_scope(engine) as s:
        att = s.exec(
            select(Attempt)
            .where(
                Attempt.campaign_id == campaign_id,
                Attempt.agent_user_id == user_id,
                Attempt.disposition == "",
            )
            .order_by(col(Attempt.id).desc())
        ).first()
        return att.call_id if att is not None else None


def close_sessions(
    engine: Engine, campaign_id: int | None = None, user_id: int | None = None
) -> None:
    """Delete session rows of a campaign (left by a stop or a crash) or of one agent."""
    q = delete(AgentSession)
    if campaign_id is not None:
        q = q.where(col(AgentSession.campaign_id) == campaign_id)
    if user_id is not None:
        q = q.where(col(AgentSession.user_id) == user_id)
    with session_scope(engine) as s:
        s.execute(q)
