"""The IVR adapter: drives the satisfaction-survey flow (campaigns/surveys.py) over one call.

An agentless campaign's core hands each answered call over with ``StartIvr``; the engine
calls :meth:`IvrRunner.start` and routes the call's SIP events here (:meth:`IvrRunner.on_event`).
Per call a task feeds ``surveys.step`` its events and carries out the actions it returns, in
order: prompts are played and waited for, keys are collected (RFC 4733 or SIP INFO, typed
ahead during a prompt is kept), open answers are recorded. ``SaveAnswer`` / ``SkipQuestion``
are committed before the next action and ``AddToDnc`` before the hang-up (issue 7; rules 4,
8, 9), so a crash never loses an entered result. A hang-up mid-flow finishes the response
as ``hung_up``; the answers already given stay (a partial response).

Prompts are WAV files under ``<data_dir>/prompts/<survey>/<lang>/``: an uploaded
``<prompt>.wav`` wins; then a WAV shipped with outdial for that exact text
(``dialer/survey_prompts/<lang>/``: the seeds' six-question template in Chinese and English,
made by scripts/render_prompts.py), so the sample survey needs no espeak-ng; otherwise one is
made at first use with espeak-ng and sox (8 kHz mono 16-bit, what the SIP pool plays
cheapest) and cached, keyed by the prompt's text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy.engine import Engine as DbEngine

from campaigns import store as campaign_store
from campaigns import survey_store, surveys
from campaigns.prompts import safe
from dialer import actions as act
from dialer.errors import IvrPromptFailed
from outdial.errors import NotFound
from outdial.models import utcnow
from sip import events as sipev

log = structlog.get_logger(__name__)

_VOICES = {"zh": "cmn", "en": "en"}
#: pre-rendered prompts, one per (language, speech rate, text): see shipped_prompt
SHIPPED = Path(__file__).with_name("survey_prompts")
_HUNG_UP = object()  # put in a call's inbox when the call ends
MIN_RECORDING_S = 1.0  # a hang-up during an open answer this long keeps the recording


class IvrPort(Protocol):
    async def play_prompt(self, call_id: str, wav: str) -> None: ...
    async def start_recording(self, call_id: str, path: str) -> None: ...
    async def stop_recording(self, call_id: str, path: str) -> None: ...
    async def hangup(self, call_id: str) -> None: ...


@dataclass(eq=False)
class _Call:
    call_id: str
    lead: act.Lead
    agent_user: int | None = None  # the agent who transferred the customer here
    inbox: asyncio.Queue[object] = field(default_factory=asyncio.Queue)  # keys, _HUNG_UP
    prompt_done: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    response_id: int = 0
    status: str = ""  # the response's final status once finished


class PromptCache:
    """WAV files per prompt id and language; made with espeak-ng + sox when missing."""

    def __init__(self, directory: Path, speech_rate: int = 175) -> None:
        self.directory = directory
        self.speech_rate = speech_rate

    def path(self, survey: surveys.Survey, prompt: str, language: str) -> Path:
        """The prompt's WAV, made now if there is none (blocking: call it in a thread)."""
        texts = {pid: (zh, en) for pid, zh, en in surveys.prompts(survey)}
        if prompt not in texts:
            raise IvrPromptFailed(f"survey {survey.name!r} has no prompt {prompt!r}")
        zh, en = texts[prompt]
        text = zh if language == "zh" else en
        folder = self.directory / _safe(survey.name) / language
        uploaded = folder / f"{_safe(prompt)}.wav"
        if uploaded.exists():
            return uploaded
        shipped = shipped_prompt(text, language, self.speech_rate)
        if shipped.exists():
            return shipped
        made = folder / f"{_safe(prompt)}-{_digest(text, self.speech_rate)}.wav"
        if not made.exists():
            folder.mkdir(parents=True, exist_ok=True)
            _synthesize(text, _VOICES.get(language, "en"), self.speech_rate, made)
        return made

    def warm(self, survey: surveys.Survey, language: str) -> list[Path]:
        """Make every prompt of a survey now (setup time), so none is made mid-call."""
        return [self.path(survey, pid, language) for pid, _zh, _en in surveys.prompts(survey)]


_safe = safe  # one mapping for the uploader and the IVR (campaigns/prompts.py)


def _digest(text: str, rate: int) -> str:
    return hashlib.sha256(f"{rate}|{text}".encode()).hexdigest()[:12]


def shipped_prompt(text: str, language: str, rate: int = 175) -> Path:
    """Where outdial ships the WAV of ``text`` (it may not exist): keyed by the words and
    the speech rate, so an edited question or another rate falls back to synthesis."""
    return SHIPPED / _safe(language) / f"{_digest(text, rate)}.wav"


def synthesize(text: str, language: str, rate: int, out: Path) -> None:
    """``text`` spoken in ``language`` ("zh" or "en") into the WAV ``out`` (espeak-ng + sox)."""
    _synthesize(text, _VOICES.get(language, "en"), rate, out)


def _synthesize(text: str, voice: str, rate: int, out: Path) -> None:
    """espeak-ng, then sox to 8 kHz mono 16-bit with the leading/trailing silence cut."""
    fd, tmp_raw = tempfile.mkstemp(suffix=".raw.wav", dir=out.parent)
    os.close(fd)
    tmp_out = out.with_suffix(f".{os.getpid()}.tmp.wav")
    trim = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse"]
    try:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-w", tmp_raw, text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        subprocess.run(
            ["sox", tmp_raw, "-r", "8000", "-c", "1", "-b", "16", str(tmp_out), *trim],
            check=True,
            capture_output=True,
            timeout=30,
        )
        os.replace(tmp_out, out)  # atomic: a concurrent call sees a whole file or none
    except (OSError, subprocess.SubprocessError) as exc:
        raise IvrPromptFailed(f"cannot make prompt WAV {out.name}: {exc}", path=str(out)) from exc
    finally:
        for p in (Path(tmp_raw), tmp_out):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return float(w.getnframes()) / float(w.getframerate() or 8000)


class IvrRunner:
    """Runs the survey flow for every IVR call of one campaign."""

    def __init__(
        self,
        db: DbEngine,
        sip: IvrPort,
        campaign_id: int,
        data_dir: Path,
        *,
        language: str | None = None,
        speech_rate: int = 175,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.sip, self.campaign_id = db, sip, campaign_id
        self.prompts = PromptCache(data_dir / "prompts", speech_rate)
        self.record_dir = data_dir / "recordings" / "ivr"
        self.language = language
        self.wall = wall
        self.calls: dict[str, _Call] = {}
        self.recordings: dict[str, list[str]] = {}  # call id -> WAVs the SIP layer closed
        self._tasks: set[asyncio.Task[None]] = set()
        self._survey: tuple[int, surveys.Survey, str] | None = None

    # --- the engine's side ------------------------------------------------------------------
    def start(self, call_id: str, lead: act.Lead, agent_user: int | None = None) -> None:
        """Take over an answered call. Registered at once, so keys typed now are kept.

        ``agent_user``: the agent (users.id) who transferred the customer; the response is
        theirs in the results "by agent".
        """
        call = self.calls[call_id] = _Call(call_id, lead, agent_user)
        task = asyncio.create_task(self._run(call), name=f"ivr-{call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_event(self, e: sipev.SipEvent) -> bool:
        """Route one SIP event to its IVR call; False if it is not for one."""
        call_id = getattr(e, "call_id", None)
        if isinstance(e, sipev.RecordingSaved) and call_id in self.recordings:
            self.recordings[e.call_id].append(e.path)
            return True
        call = self.calls.get(call_id) if isinstance(call_id, str) else None
        if call is None:
            return False
        if isinstance(e, sipev.DtmfReceived):
            call.inbox.put_nowait(e.digit)
        elif isinstance(e, sipev.PromptFinished):
            call.prompt_done.set()
        elif isinstance(e, sipev.CommandFailed) and e.command == "PlayPrompt":
            call.prompt_done.set()  # nothing will play: do not wait for it
        elif isinstance(e, sipev.AgentLegEnded | sipev.AgentLegBridged | sipev.AgentLegAnswered):
            pass  # the leg of the agent who transferred the customer here: nothing to do
        elif isinstance(e, sipev.CallEnded):
            call.ended.set()
            call.prompt_done.set()
            call.inbox.put_nowait(_HUNG_UP)
        else:
            return False
        return True

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the flows to finish (their responses committed); cancel the rest."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()

    # --- one call ---------------------------------------------------------------------------
    async def _run(self, call: _Call) -> None:
        try:
            survey_id, survey, language = await asyncio.to_thread(self._load_survey)
            row, _created = await asyncio.to_thread(
                survey_store.start_response,
                self.db,
                survey_id,
                f"ivr:{call.call_id}",
                campaign_id=self.campaign_id,
                agent_id=call.agent_user,
                channel="ivr",
                phone=call.lead.number,
                contact_ref=str(call.lead.contact_id),
            )
            call.response_id = row.id or 0
            await self._flow(call, survey, language)
        except Exception:
            log.exception("IVR flow failed; hanging up", call_id=call.call_id)
            with contextlib.suppress(Exception):
                await self.sip.hangup(call.call_id)
        finally:
            self.calls.pop(call.call_id, None)

    async def _flow(self, call: _Call, survey: surveys.Survey, language: str) -> None:
        state = surveys.IvrState()
        event: surveys.Event | None = surveys.Started()
        while event is not None and state.phase is not surveys.Phase.DONE:
            state, actions = surveys.step(survey, state, event)
            event = None
            for a in actions:
                got = await self._perform(call, survey, language, a)
                if got is not None and state.phase is not surveys.Phase.DONE:
                    event = got  # what the flow waits for (or the hang-up) came
                    break
            if event is None and state.phase is not surveys.Phase.DONE:
                raise IvrPromptFailed(f"IVR flow stalled in {state.phase}", call_id=call.call_id)

    async def _perform(
        self, call: _Call, survey: surveys.Survey, language: str, a: surveys.Action
    ) -> surveys.Event | None:
        """Carry out one action; an event when the action waited for one (or the call ended)."""
        if isinstance(a, surveys.PlayPrompt):
            return await self._play(call, survey, language, a.prompt)
        if isinstance(a, surveys.CollectKeys):
            return await self._collect(call, a.timeout_s)
        if isinstance(a, surveys.RecordAudio):
            return await self._record(call, a.question_id, a.max_seconds)
        now = self.wall()
        if isinstance(a, surveys.SaveAnswer | surveys.SkipQuestion):
            skipped = isinstance(a, surveys.SkipQuestion)
            value = None if isinstance(a, surveys.SkipQuestion) else a.value
            await asyncio.to_thread(
                survey_store.save_answer,
                self.db,
                call.response_id,
                a.question_id,
                value,
                now,
                skipped,
            )
        elif isinstance(a, surveys.AddToDnc):
            from compliance import store as compliance_store

            # rules 4, 8, 9: the opt-out is committed before the call goes on or ends
            await asyncio.to_thread(
                compliance_store.dnc_add,
                self.db,
                call.lead.number,
                source="ivr",
                reason=a.reason,
                at=now,
            )
        elif isinstance(a, surveys.Hangup):
            with contextlib.suppress(Exception):  # gone already: nothing to hang up
                await self.sip.hangup(call.call_id)
        elif isinstance(a, surveys.Finish):
            await asyncio.to_thread(
                survey_store.finish_response, self.db, call.response_id, a.status, now
            )
            call.status = a.status
        return None

    async def _play(
        self, call: _Call, survey: surveys.Survey, language: str, prompt: str
    ) -> surveys.Event | None:
        if call.ended.is_set():
            return surveys.HungUp()
        wav = await asyncio.to_thread(self.prompts.path, survey, prompt, language)
        call.prompt_done.clear()
        try:
            await self.sip.play_prompt(call.call_id, str(wav))
        except Exception:  # the call is gone (UnknownCall) or the port closed
            return surveys.HungUp() if call.ended.is_set() else None
        limit = await asyncio.to_thread(wav_seconds, wav) + 5.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.prompt_done.wait(), limit)
        return surveys.HungUp() if call.ended.is_set() else None

    async def _collect(self, call: _Call, timeout_s: float) -> surveys.Event:
        try:
            item = await asyncio.wait_for(call.inbox.get(), timeout_s)
        except TimeoutError:
            return surveys.TimedOut()
        return surveys.HungUp() if item is _HUNG_UP else surveys.KeyPressed(str(item))

    async def _record(self, call: _Call, question_id: str, max_s: float) -> surveys.Event:
        """Record until '#', the limit or a hang-up; other keys are ignored meanwhile."""
        self.record_dir.mkdir(parents=True, exist_ok=True)
        path = self.record_dir / f"{_safe(call.call_id)}-{_safe(question_id)}.wav"
        self.recordings.setdefault(call.call_id, [])
        try:
            await self.sip.start_recording(call.call_id, str(path))
        except Exception:
            return surveys.HungUp() if call.ended.is_set() else surveys.TimedOut()
        started = time.monotonic()
        end = started + max_s
        while (left := end - time.monotonic()) > 0:
            try:
                item = await asyncio.wait_for(call.inbox.get(), left)
            except TimeoutError:
                break
            if item is _HUNG_UP:
                if time.monotonic() - started < MIN_RECORDING_S:
                    return surveys.HungUp()
                call.inbox.put_nowait(_HUNG_UP)  # said something, then hung up: keep it
                break
            if item == "#":
                break
        took = round(time.monotonic() - started, 2)
        if not call.ended.is_set():  # the flow goes on (a thank-you): close the answer now
            with contextlib.suppress(Exception):  # gone meanwhile: closed with its call
                await self.sip.stop_recording(call.call_id, str(path))
        return surveys.Recorded(str(path), took)

    def _load_survey(self) -> tuple[int, surveys.Survey, str]:
        """The campaign's survey (its definition names one; default the seeds' template)."""
        if self._survey is not None:
            return self._survey
        camp = campaign_store.get(self.db, self.campaign_id)
        name = campaign_store.spec_of(self.db, camp).survey
        if name:
            row, survey = survey_store.get_survey(self.db, name)
        else:
            try:
                row, survey = survey_store.get_survey(self.db, surveys.SEED_TEMPLATE.name)
            except NotFound:
                survey_store.save_survey(self.db, surveys.SEED_TEMPLATE)
                row, survey = survey_store.get_survey(self.db, surveys.SEED_TEMPLATE.name)
        language = self.language or ("zh" if camp.region in ("CN", "TW", "HK", "SG") else "en")
        self._survey = (row.id or 0, survey, language)
        return self._survey
