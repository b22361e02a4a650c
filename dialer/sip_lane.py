"""The campaign runner's first lane (issue 11.2): SIP commands, sent at once.

:class:`SipLane` sends what the core asks of the SIP layer. An INVITE goes from a task of its
own (a worker pool may make it wait), and so do the messages played before a hang-up (the
safe-harbor message, rules 3, 4, 20; the campaign's message on a machine). Every SIP failure
is logged and counted in the runner's ``failures`` (issue 11.4); a failed originate comes back
through the runner's inbox as a ``CommandFailed``, which finishes the attempt.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import structlog

from dialer import actions as act
from dialer.ports import EngineSettings, SipPort
from quality import recordings
from sip import commands as sipcmd
from sip import events as sipev
from sip.errors import SipError

log = structlog.get_logger(__name__)

#: the actions this lane carries out (StartIvr is the runner's: it hands the call to the IVR)
SIP_ACTIONS = (
    act.Originate,
    act.ConnectAgent,
    act.PlaySafeHarbor,
    act.Hangup,
    act.DropAgentLeg,
    act.TestSoftphone,
)

PROMPT_LIMIT = 30.0  # seconds a message may take before the call is hung up anyway


class SipLane:
    """Sends one campaign's SIP commands; counts what it plays and what fails."""

    def __init__(
        self,
        sip: SipPort,
        settings: EngineSettings,
        inbox: asyncio.Queue[Any],
        failures: Counter[str],
    ) -> None:
        self.sip, self.settings, self.inbox, self.failures = sip, settings, inbox, failures
        self.messages_played = 0  # safe-harbor messages heard to the end
        self.machine_messages_left = 0  # [dialing] machine_action = "leave_message"
        self.side: set[asyncio.Task[None]] = set()  # INVITEs; messages played, then a hang-up
        self._prompts: dict[str, asyncio.Event] = {}
        self._prompt_failed: set[str] = set()  # calls whose prompt the SIP layer refused
        self._recordings_ready = False  # DATA_DIR/recordings made (record_calls)

    async def send(self, a: act.Action) -> str | None:
        """Carry out one SIP action. Returns why, when an agent's leg could not be connected:
        the core then decides (the next free agent, or an abandon with its message)."""
        if isinstance(a, act.Originate):
            self._side_task(self._originate(a))
        elif isinstance(a, act.ConnectAgent):
            try:
                await self.sip.connect_agent(a.call_id, a.agent_uri)
            except SipError as exc:  # e.g. NoAgentSlot
                self.failed("ConnectAgent", a.call_id, exc)
                return str(exc)
        elif isinstance(a, act.TestSoftphone):
            self._side_task(self._test_softphone(a))
        elif isinstance(a, act.PlaySafeHarbor):
            self._side_task(self._play_then_hang_up(a.call_id, "safe_harbor"))
        elif isinstance(a, act.Hangup):
            if a.reason == "machine" and self.settings.machine_wav:
                # [dialing] machine_action = "leave_message": the message, then hang up
                self._side_task(self._play_then_hang_up(a.call_id, "machine"))
            else:
                await self.hang_up(a.call_id)
        elif isinstance(a, act.DropAgentLeg):
            try:
                await self.sip.drop_agent(a.call_id)
            except SipError as exc:  # the call ended meanwhile: its CallEnded closes it
                self.failed("DropAgent", a.call_id, exc)
        return None

    async def hang_up(self, call_id: str) -> None:
        try:
            await self.sip.hangup(call_id)
        except SipError as exc:  # mostly UnknownCall: the customer hung up first
            self.failed("Hangup", call_id, exc)

    def failed(self, where: str, call_id: str, error: object) -> None:
        """Log and count one SIP failure (``failures`` in the campaign status)."""
        self.failures[where] += 1
        log.warning("sip command failed", command=where, call_id=call_id, error=str(error))

    def prompt_over(self, call_id: str, refused: bool = False) -> bool:
        """A message this lane plays finished, could not play (``refused``) or its call
        ended: the hang-up follows at once. False when no message of the lane's is on."""
        done = self._prompts.get(call_id)
        if done is None:
            return False
        if refused:  # a CommandFailed(PlayPrompt): never leave the customer in silence
            self._prompt_failed.add(call_id)
        done.set()
        return True

    async def _originate(self, a: act.Originate) -> None:
        s = self.settings
        try:
            record_path = await self._record_path(a.call_id) if s.record_calls else None
            cmd = sipcmd.Originate(
                call_id=a.call_id,
                target=a.lead.number,
                caller_id=s.caller_id,
                display_name=s.display_name,
                ring_timeout=s.ring_timeout,
                amd=s.core.amd,
                amd_deadline=s.core.amd_deadline,
                record_path=record_path,
                allow_short_ring_timeout_for_tests=s.allow_short_ring_timeout_for_tests,
            )
            await self.sip.originate(cmd)
        except Exception as exc:  # never placed (pool full, worker gone): no CallEnded
            # any error, not only SipError: an attempt left open would block its number;
            # the failure comes back through the inbox and finishes the attempt
            code = exc.code if isinstance(exc, SipError) else type(exc).__name__
            self.inbox.put_nowait(sipev.CommandFailed(a.call_id, "Originate", code, str(exc)))

    async def _test_softphone(self, a: act.TestSoftphone) -> None:
        """The test call at sign-in (dialer/softphone_check.py): the agent's softphone, asked
        to answer by itself; never recorded, no AMD. Its ring timeout is the SIP layer's
        floor; the core cancels it sooner when it does not answer."""
        try:
            cmd = sipcmd.Originate(
                call_id=a.call_id,
                target=a.agent_uri,
                caller_id=self.settings.caller_id,
                display_name="outdial test call",
                ring_timeout=sipcmd.MIN_RING_TIMEOUT,
                auto_answer=True,
            )
            await self.sip.originate(cmd)
        except Exception as exc:  # never placed: said like a phone that did not answer
            code = exc.code if isinstance(exc, SipError) else type(exc).__name__
            self.inbox.put_nowait(sipev.CommandFailed(a.call_id, "Originate", code, str(exc)))

    async def _record_path(self, call_id: str) -> str:
        """Where this call is recorded (the folder made once, off the loop); the call id alone
        names the file, never the number."""
        path = recordings.recording_path(self.settings.data_path(), call_id)
        if not self._recordings_ready:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            self._recordings_ready = True
        return str(path)

    async def _play_then_hang_up(self, call_id: str, what: str) -> None:
        """Rules 3, 4, 20: the safe-harbor message (or, on a machine, the campaign's message),
        then the call ends."""
        wav = self.settings.safe_harbor_wav if what == "safe_harbor" else self.settings.machine_wav
        played = False
        if wav:
            done = self._prompts[call_id] = asyncio.Event()
            try:
                await self.sip.play_prompt(call_id, wav)
                await asyncio.wait_for(done.wait(), timeout=PROMPT_LIMIT)
                # a CommandFailed(PlayPrompt) sets ``done`` at once: the call is hung up now,
                # never left in silence (issue 11.4)
                played = call_id not in self._prompt_failed
            except (SipError, TimeoutError) as exc:  # the call is gone, or the prompt hung
                self.failed(f"{what}_prompt", call_id, exc)
            finally:
                self._prompts.pop(call_id, None)
                self._prompt_failed.discard(call_id)
        await self.hang_up(call_id)
        if what == "safe_harbor":
            self.messages_played += 1 if played else 0
        else:
            self.machine_messages_left += 1 if played else 0

    def _side_task(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self.side.add(task)
        task.add_done_callback(self.side.discard)
