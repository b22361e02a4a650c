"""Live monitoring (issue 19.1: 监听 listen, 耳语 whisper, 强插 barge) on the running campaigns.

A supervisor picks a call an agent is talking on; the campaign's SIP port calls the
supervisor's softphone from the worker that holds the call and bridges it there
(sip/monitor.py). This module keeps who monitors which call, refuses what cannot be done
(no agent on the call, someone already listening, a port that cannot monitor) and writes
every start, mode change and end to the audit trail (rule 36's hash chain, kinds
``monitor_start``, ``monitor_mode``, ``monitor_end``). Agents never learn from here who
listens or when: nothing of it goes to their screens.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import structlog

from compliance.store import audit
from dialer.states import AgentState
from outdial.errors import Conflict, Forbidden, InvalidInput, NotFound
from outdial.storage import session_scope
from sip import events as sipev
from sip.commands import MonitorMode
from sip.errors import SipError

if TYPE_CHECKING:
    from dialer.runtime import DialerRuntime, Running

log = structlog.get_logger(__name__)


@runtime_checkable
class MonitorPort(Protocol):
    """A SIP port that can join a supervisor to a call (sip.pool.SipPool, sip.fake)."""

    async def start_monitor(
        self,
        call_id: str,
        supervisor_uri: str,
        mode: MonitorMode = MonitorMode.LISTEN,
        auto_answer: tuple[str, ...] | None = None,
    ) -> None: ...
    async def set_monitor_mode(self, call_id: str, mode: MonitorMode) -> None: ...
    async def stop_monitor(self, call_id: str) -> None: ...


@dataclass
class Session:
    """One supervisor on one call."""

    call_id: str
    campaign_id: int
    supervisor_id: int
    supervisor: str  # username
    agent_id: int
    mode: MonitorMode
    started_at: str  # ISO time
    joined: bool = False  # the supervisor's phone answered and hears the call
    leaving: bool = False  # they asked to leave; the end is audited already

    def view(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "supervisor": self.supervisor,
            "supervisor_id": self.supervisor_id,
            "mode": str(self.mode),
            "state": "joined" if self.joined else "calling",
            "started_at": self.started_at,
        }


def parse_mode(text: object) -> MonitorMode:
    try:
        return MonitorMode(str(text))
    except ValueError:
        raise InvalidInput(
            "mode must be listen, whisper or barge", field="mode", value=str(text)
        ) from None


class Monitoring:
    """Supervisors on the calls of one process's running campaigns."""

    def __init__(self, runtime: DialerRuntime) -> None:
        self.runtime = runtime
        self.sessions: dict[str, Session] = {}
        self._writes: set[asyncio.Task[None]] = set()

    # --- what can be monitored ----------------------------------------------------------------
    def calls(self, campaign_id: int) -> list[dict[str, Any]]:
        """The campaign's connected calls (an agent talking), each with its supervisor."""
        self._prune()
        run = self.runtime.running.get(campaign_id)
        if run is None:
            return []
        now = run.engine.clock()
        out = []
        for agent in run.engine.core.agents.values():
            if agent.machine.state is not AgentState.TALK or agent.call_id is None:
                continue
            session = self.sessions.get(agent.call_id)
            out.append(
                {
                    "call_id": agent.call_id,
                    "agent_id": int(agent.agent_id),
                    "talk_seconds": max(0.0, now - (agent.talk_started or now)),
                    "monitor": session.view() if session else None,
                }
            )
        return sorted(out, key=lambda c: c["talk_seconds"], reverse=True)

    def _prune(self) -> None:
        """Forget sessions whose campaign stopped before their leg's end reached us."""
        for call_id, session in list(self.sessions.items()):
            run = self.runtime.running.get(session.campaign_id)
            if run is None or call_id not in run.engine.core.calls:
                del self.sessions[call_id]

    def find(self, call_id: str) -> tuple[Running, int]:
        """The running campaign holding ``call_id`` with an agent talking on it, and the agent."""
        for run in self.runtime.running.values():
            for agent in run.engine.core.agents.values():
                if agent.call_id == call_id and agent.machine.state is AgentState.TALK:
                    return run, int(agent.agent_id)
        raise NotFound("no agent is talking on that call now", call_id=call_id)

    # --- the supervisor's requests --------------------------------------------------------------
    async def start(
        self, call_id: str, mode: MonitorMode, user_id: int, username: str, uri: str
    ) -> dict[str, Any]:
        run, agent_id = self.find(call_id)
        port = run.port
        if not isinstance(port, MonitorPort):
            raise Conflict("this campaign's SIP port cannot bridge a supervisor", call_id=call_id)
        if call_id in self.sessions:
            raise Conflict("someone is monitoring this call already", call_id=call_id)
        try:
            await port.start_monitor(call_id, uri, mode)
        except SipError as exc:
            raise Conflict(str(exc), call_id=call_id) from exc
        session = Session(
            call_id,
            run.campaign_id,
            user_id,
            username,
            agent_id,
            mode,
            self.runtime.wall().isoformat(),
        )
        self.sessions[call_id] = session
        run.engine.on_monitor = self.on_event  # the engine hands this leg's events here
        await self._audit("monitor_start", session, phone=uri)
        return session.view()

    def _own(self, call_id: str, user_id: int, admin: bool) -> Session:
        session = self.sessions.get(call_id)
        if session is None:
            raise NotFound("nobody is monitoring that call", call_id=call_id)
        if session.supervisor_id != user_id and not admin:
            raise Forbidden("another supervisor is monitoring that call", call_id=call_id)
        return session

    async def set_mode(
        self, call_id: str, mode: MonitorMode, user_id: int, admin: bool = False
    ) -> dict[str, Any]:
        session = self._own(call_id, user_id, admin)
        port = self.runtime.campaign_run(session.campaign_id).port
        assert isinstance(port, MonitorPort)
        try:
            await port.set_monitor_mode(call_id, mode)
        except SipError as exc:
            raise Conflict(str(exc), call_id=call_id) from exc
        previous, session.mode = session.mode, mode
        await self._audit("monitor_mode", session, previous=str(previous))
        return session.view()

    async def stop(self, call_id: str, user_id: int, admin: bool = False) -> dict[str, Any]:
        session = self._own(call_id, user_id, admin)
        port = self.runtime.campaign_run(session.campaign_id).port
        assert isinstance(port, MonitorPort)
        session.leaving = True
        try:
            await port.stop_monitor(call_id)
        except SipError:  # the call ended meanwhile: its supervisor's leg has gone with it
            self.sessions.pop(call_id, None)
        await self._audit("monitor_end", session, reason="left")
        return {"call_id": call_id, "left": True}

    # --- what the SIP layer says -------------------------------------------------------------
    def on_event(self, e: sipev.SipEvent) -> None:
        """A supervisor's leg joined, changed mode or ended; or a monitor command failed."""
        session = self.sessions.get(getattr(e, "call_id", ""))
        if session is None:
            return
        if isinstance(e, sipev.MonitorJoined):
            session.joined = True
        elif isinstance(e, sipev.MonitorEnded) or (
            isinstance(e, sipev.CommandFailed) and e.command == "StartMonitor"
        ):
            del self.sessions[session.call_id]
            if not session.leaving:  # the call ended, or the phone never answered
                reason = e.reason if isinstance(e, sipev.MonitorEnded) else e.message
                self._later(self._audit("monitor_end", session, reason=reason))

    def _later(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _audit(self, kind: str, session: Session, **extra: str) -> None:
        body: dict[str, Any] = {
            "call_id": session.call_id,
            "campaign_id": session.campaign_id,
            "supervisor": session.supervisor,
            "agent_id": session.agent_id,
            "mode": str(session.mode),
            **extra,
        }
        at: datetime = self.runtime.wall()

        def write() -> None:
            with session_scope(self.runtime.db) as s:
                audit(s, kind, body, at)

        try:
            await asyncio.to_thread(write)
        except Exception:  # the monitoring itself goes on; the failure is logged loudly
            log.exception("monitor audit write failed", kind=kind, call_id=session.call_id)
