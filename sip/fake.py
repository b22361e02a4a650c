"""A fake SIP port for the engine's fast tests: same interface as ``SipPool``.

What a call does is scripted per target. By default the user part of a SIP URI
names a stock script (``sip:busy@x``, ``sip:ring@x`` ...), matching the SIPp
scenarios in tests/sip/scenarios so one contract suite runs over both.
The fake keeps the same promises as the pool: typed errors for bad commands,
ring timeouts enforced, exactly one ``CallEnded`` per originated call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sip import events as ev
from sip.amd import Verdict
from sip.commands import ConnectAgent, MonitorMode, Originate, StartMonitor
from sip.errors import NoAgentSlot, NoMonitorSlot, PortClosed, UnknownCall


@dataclass(frozen=True, slots=True)
class FakeScript:
    """What the far end does: ring (``progress``), then a final response after ``delay``."""

    progress: int | None = 180  # provisional status sent at once, None for silence
    early_media: bool = False
    final: int | None = 200  # None: never answers
    delay: float = 0.1
    bye_after: float | None = None  # remote hangs up this long after answer
    dtmf: str = ""  # digits sent after answer (RFC 4733)
    amd: str | None = None  # an AMD verdict (human, machine) sent 50 ms after answer


STOCK_SCRIPTS: dict[str, FakeScript] = {
    "answer": FakeScript(),
    "busy": FakeScript(final=486),
    "unavailable": FakeScript(final=480),
    "failure": FakeScript(final=503),
    "ring": FakeScript(final=None),
    "silent": FakeScript(progress=None, final=None),
    "early": FakeScript(progress=183, early_media=True),
    "bye": FakeScript(bye_after=0.5),
    "dtmf": FakeScript(dtmf="12#", bye_after=1.0),
    "agent": FakeScript(progress=None, delay=0.02),
    "agent_reject": FakeScript(progress=None, final=486, delay=0.02),
}


def stock_script(target: str) -> FakeScript:
    user = target.split(":", 1)[-1].split("@", 1)[0]
    return STOCK_SCRIPTS.get(user, FakeScript())


class _FakeCall:
    def __init__(self, cmd: Originate, loop: asyncio.AbstractEventLoop) -> None:
        self.cmd = cmd
        self.started = loop.time()
        self.answered_at: float | None = None
        self.provisional = False
        self.ended = False
        self.task: asyncio.Task[None] | None = None
        self.agent: str | None = None
        self.agent_bridged = False
        self.monitor: str | None = None  # the supervisor's URI (sip/monitor.py)
        self.recordings: list[str] = []


class FakeSipPort:
    """In-memory SIP port. ``script_for(target)`` decides each call's behaviour."""

    def __init__(
        self,
        script_for: Callable[[str], FakeScript] = stock_script,
        on_event: Callable[[ev.SipEvent], None] | None = None,
    ) -> None:
        self.events: asyncio.Queue[ev.SipEvent] = asyncio.Queue()
        self.script_for = script_for
        self._on_event = on_event
        self._calls: dict[str, _FakeCall] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.played: list[tuple[str, str]] = []  # (call id, wav) of every prompt played

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self, timeout: float = 10.0) -> None:
        for call in list(self._calls.values()):
            self._end(
                call,
                ev.Outcome.ANSWERED if call.answered_at else ev.Outcome.CANCELLED,
                200 if call.answered_at else 487,
                "shutdown",
                ev.HungUpBy.US if call.answered_at else ev.HungUpBy.NONE,
            )
        self._loop = None

    async def __aenter__(self) -> FakeSipPort:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def originate(self, cmd: Originate) -> None:
        loop = self._open()
        if cmd.call_id in self._calls:
            raise UnknownCall(f"call id {cmd.call_id!r} is already in use", call_id=cmd.call_id)
        call = _FakeCall(cmd, loop)
        self._calls[cmd.call_id] = call
        call.task = loop.create_task(self._run(call, self.script_for(cmd.target)))

    async def hangup(self, call_id: str) -> None:
        call = self._call(call_id)
        if call.answered_at is not None:
            self._end(call, ev.Outcome.ANSWERED, 200, "OK", ev.HungUpBy.US)
        else:
            self._end(call, ev.Outcome.CANCELLED, 487, "Request Terminated", ev.HungUpBy.NONE)

    async def connect_agent(self, call_id: str, agent_uri: str) -> None:
        ConnectAgent(call_id, agent_uri)  # validates the URI
        call = self._call(call_id)
        if call.agent is not None:
            raise NoAgentSlot("no free agent leg on the call's worker", call_id=call_id)
        call.agent = agent_uri
        self._open().create_task(self._run_agent(call, self.script_for(agent_uri)))

    async def drop_agent(self, call_id: str) -> None:
        call = self._call(call_id)
        if call.agent is None:
            self._emit(ev.CommandFailed(call_id, "DropAgent", "no_agent", "no agent leg"))
            return
        agent, bridged, call.agent, call.agent_bridged = call.agent, call.agent_bridged, None, False
        self._open().call_soon(
            self._emit_if_live,
            call_id,
            ev.AgentLegEnded(call_id, agent, 200, "Normal call clearing", bridged),
        )

    async def start_monitor(
        self,
        call_id: str,
        supervisor_uri: str,
        mode: MonitorMode = MonitorMode.LISTEN,
        auto_answer: tuple[str, ...] | None = None,
    ) -> None:
        """As the pool: one supervisor per call, joined once the agent talks."""
        StartMonitor(call_id, supervisor_uri, MonitorMode(mode), auto_answer)  # validates
        call = self._call(call_id)
        if call.monitor is not None:
            raise NoMonitorSlot("the call has a supervisor already", call_id=call_id)
        if not call.agent_bridged:
            failed = ev.CommandFailed(call_id, "StartMonitor", "not_connected", "no agent")
            self._open().call_soon(self._emit, failed)
            return
        call.monitor = supervisor_uri
        joined = ev.MonitorJoined(call_id, supervisor_uri, str(MonitorMode(mode)))
        self._open().call_later(0.05, self._emit_if_live, call_id, joined)

    async def set_monitor_mode(self, call_id: str, mode: MonitorMode) -> None:
        call = self._call(call_id)
        event: ev.SipEvent = ev.MonitorModeSet(call_id, str(MonitorMode(mode)))
        if call.monitor is None:
            event = ev.CommandFailed(call_id, "SetMonitorMode", "not_monitored", "")
        self._open().call_soon(self._emit, event)

    async def stop_monitor(self, call_id: str) -> None:
        call = self._call(call_id)
        if call.monitor is None:
            failed = ev.CommandFailed(call_id, "StopMonitor", "not_monitored", "")
            self._open().call_soon(self._emit, failed)
            return
        ended = ev.MonitorEnded(call_id, call.monitor, 200, "Normal call clearing", True)
        call.monitor = None
        self._open().call_soon(self._emit, ended)

    async def play_prompt(self, call_id: str, wav: str) -> None:
        self._call(call_id)
        self.played.append((call_id, wav))
        self._open().call_later(0.05, self._emit_if_live, call_id, ev.PromptFinished(call_id, wav))

    async def start_recording(self, call_id: str, path: str) -> None:
        call = self._call(call_id)
        if path in call.recordings:
            self._emit(ev.CommandFailed(call_id, "StartRecording", "duplicate", path))
            return
        call.recordings.append(path)

    async def stop_recording(self, call_id: str, path: str) -> None:
        call = self._call(call_id)
        if path not in call.recordings:
            self._emit(ev.CommandFailed(call_id, "StopRecording", "not_recording", path))
            return
        call.recordings.remove(path)
        self._open().call_soon(self._emit, ev.RecordingSaved(call_id, path))

    def active_calls(self) -> int:
        return len(self._calls)

    # ----- internals -------------------------------------------------------------------
    def _open(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise PortClosed("the fake SIP port is not running")
        return self._loop

    def _call(self, call_id: str) -> _FakeCall:
        self._open()
        call = self._calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no live call {call_id!r}", call_id=call_id)
        return call

    def _emit(self, event: ev.SipEvent) -> None:
        self.events.put_nowait(event)
        if self._on_event is not None:
            self._on_event(event)

    def _emit_if_live(self, call_id: str, event: ev.SipEvent) -> None:
        if call_id in self._calls:
            self._emit(event)

    def _end(
        self, call: _FakeCall, outcome: ev.Outcome, status: int, reason: str, who: ev.HungUpBy
    ) -> None:
        if call.ended:
            return
        call.ended = True
        self._calls.pop(call.cmd.call_id, None)
        if call.task is not None and call.task is not asyncio.current_task():
            call.task.cancel()
        loop = self._loop or asyncio.get_running_loop()
        duration = loop.time() - call.answered_at if call.answered_at else 0.0
        if call.monitor is not None:  # the supervisor's leg goes with the call
            self._emit(ev.MonitorEnded(call.cmd.call_id, call.monitor, 200, "call ended", True))
            call.monitor = None
        self._emit(ev.CallEnded(call.cmd.call_id, outcome, status, reason, who, duration))
        for path in call.recordings:  # as the pool: a recording closes with its call
            self._emit(ev.RecordingSaved(call.cmd.call_id, path))
        call.recordings.clear()

    async def _run(self, call: _FakeCall, script: FakeScript) -> None:
        cmd, loop = call.cmd, self._open()
        if script.progress is not None:
            call.provisional = True
            self._emit(ev.CallProgress(cmd.call_id, script.progress, script.early_media))
        answer_in = script.delay if script.final is not None else float("inf")
        if answer_in >= cmd.ring_timeout:
            await asyncio.sleep(cmd.ring_timeout)
            if call.provisional:
                self._end(call, ev.Outcome.NO_ANSWER, 487, "Request Terminated", ev.HungUpBy.NONE)
            else:
                self._end(
                    call,
                    ev.Outcome.FAILED,
                    408,
                    "no provisional response within ring timeout",
                    ev.HungUpBy.NONE,
                )
            return
        await asyncio.sleep(answer_in)
        if script.final != 200:
            outcome = ev.Outcome.BUSY if script.final in (486, 600) else ev.Outcome.FAILED
            self._end(call, outcome, script.final or 0, "scripted", ev.HungUpBy.NONE)
            return
        call.answered_at = loop.time()
        self._emit(
            ev.CallAnswered(cmd.call_id, call.answered_at - call.started, script.early_media)
        )
        if script.amd is not None:
            await asyncio.sleep(0.05)
            self._emit_if_live(cmd.call_id, ev.AmdResult(cmd.call_id, Verdict(script.amd), 0.05))
        for digit in script.dtmf:
            await asyncio.sleep(0.05)
            self._emit(ev.DtmfReceived(cmd.call_id, digit, "rfc4733"))
        if script.bye_after is not None:
            await asyncio.sleep(script.bye_after)
            self._end(call, ev.Outcome.ANSWERED, 200, "Normal call clearing", ev.HungUpBy.REMOTE)

    async def _run_agent(self, call: _FakeCall, script: FakeScript) -> None:
        cid, agent = call.cmd.call_id, call.agent or ""
        await asyncio.sleep(script.delay)
        if cid not in self._calls:
            return
        if script.final != 200:
            call.agent = None
            self._emit(ev.AgentLegEnded(cid, agent, script.final or 408, "scripted", False))
            return
        base = call.answered_at or call.started
        ms = (self._open().time() - base) * 1000.0
        self._emit(ev.AgentLegAnswered(cid, agent, ms))
        call.agent_bridged = True
        self._emit(ev.AgentLegBridged(cid, ms))
