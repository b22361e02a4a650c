"""A SIP worker's media: prompts, recordings, AMD frame ports and the agent bridge.

Functions of the worker (sip/worker.py), as sip/monitor.py is for supervisors' legs; all
run on the worker's endpoint thread. A leg's audio reaches the conference bridge at its
media state callback (``attach_media``): then its AMD port, recorders and agent bridge are
wired. Budgets (players, recorders, AMD ports) come from the worker plan (sip/limits.py);
past them a command fails with ``CommandFailed`` instead of PJSIP's PJ_ETOOMANY.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import pjsua2 as pj

from sip import events as ev
from sip import monitor
from sip.amd import AmdParams, Verdict
from sip.amd_vad import AmdDetector
from sip.commands import PlayPrompt, StartRecording, StopRecording
from sip.legs import Leg, recorders_of
from sip.media import FramePort, Player, wav_finalised
from sip.stats import stream_stats

if TYPE_CHECKING:
    from sip.worker import Worker


def play(w: Worker, cmd: PlayPrompt) -> None:
    leg = w.legs.get(cmd.call_id)
    if leg is None or leg.media is None:
        w.send(ev.CommandFailed(cmd.call_id, "PlayPrompt", "no_media", "no audio yet"))
        return
    if len(w.players) >= w.max_players:
        w.send(ev.CommandFailed(cmd.call_id, "PlayPrompt", "no_player", "all players busy"))
        return
    player = Player(cmd.call_id, cmd.wav)
    player.startTransmit(leg.media)
    for rec in recorders_of(leg):
        player.startTransmit(rec)
    w.players.append(player)


def record(w: Worker, cmd: StartRecording) -> None:
    """A recording of its own beside the call's (an IVR open answer, a agent's clip)."""
    leg = w.legs.get(cmd.call_id)
    if leg is None or leg.disconnected:
        w.send(ev.CommandFailed(cmd.call_id, "StartRecording", "unknown_call", ""))
        return
    if cmd.path in leg.clips or cmd.path == leg.record_path:
        w.send(ev.CommandFailed(cmd.call_id, "StartRecording", "duplicate", cmd.path))
        return
    if _recorder_count(w) >= w.max_recorders:
        w.send(ev.CommandFailed(cmd.call_id, "StartRecording", "no_recorder", cmd.path))
        return
    leg.clips[cmd.path] = None  # made when the leg has audio (now, or at media start)
    attach_media(w, leg)


def stop_recording(w: Worker, cmd: StopRecording) -> None:
    leg = w.legs.get(cmd.call_id)
    if leg is None or cmd.path not in leg.clips:
        w.send(ev.CommandFailed(cmd.call_id, "StopRecording", "not_recording", cmd.path))
        return
    rec = leg.clips.pop(cmd.path)
    if rec is not None:
        _unfeed(w, leg, rec)
        del rec  # the WAV is finalised when PJSIP removes its port (next clock tick)
    w.recordings_due.append((leg.call_id, cmd.path, time.monotonic() + 2.0))


def _unfeed(w: Worker, leg: Leg, rec: object) -> None:
    sources = [leg.media]
    agent = w.legs.get(leg.agent_key or "")
    if agent is not None and agent.bridged:
        sources.append(agent.media)
    for media in sources:
        if media is not None:
            with contextlib.suppress(pj.Error):
                media.stopTransmit(rec)


def _recorder_count(w: Worker) -> int:
    """Recorders held or due (a clip waiting for the leg's audio counts too)."""
    return sum(len(leg.clips) + (1 if leg.record_path else 0) for leg in w.legs.values())


def finish_players(w: Worker) -> None:
    for player in [p for p in w.players if p.finished]:
        w.players.remove(player)
        w.send(ev.PromptFinished(player.call_id, player.wav))


def pump_amd(w: Worker, now: float) -> None:
    for leg in w.legs.values():
        if leg.amd is None or leg.amd_port is None:
            continue
        verdict = leg.amd.feed(leg.amd_port.take_frames())
        late = leg.answered_at is not None and now - leg.answered_at >= leg.amd_deadline
        if verdict is None and late:
            verdict = leg.amd.finish()
        if verdict is not None:
            heard = leg.amd.speech_ms
            speech = None if heard is None else (heard[0] / 1000.0, heard[1] / 1000.0)
            after = leg.amd.elapsed_ms / 1000.0
            w.send(ev.AmdResult(leg.call_id, verdict, after, speech, leg.amd.reason))
            free_amd_port(w, leg)


def free_amd_port(w: Worker, leg: Leg) -> None:
    port = leg.amd_port
    if port is None:
        return
    port.detach()
    if leg.media is not None and not leg.disconnected:
        with contextlib.suppress(pj.Error):
            leg.media.stopTransmit(port)
    leg.amd_port = None
    leg.amd = None


def saved_recordings(w: Worker, now: float) -> None:
    """Report recordings whose WAV header has its final sizes (or after 2 s)."""
    for item in list(w.recordings_due):
        call_id, path, deadline = item
        if wav_finalised(path) or now > deadline:
            w.recordings_due.remove(item)
            w.send(ev.RecordingSaved(call_id, path))


def attach_media(w: Worker, leg: Leg) -> None:
    """(Re)connect AMD, recorder and agent bridge once the leg has audio."""
    if leg.media is None or leg.disconnected:
        return
    if leg.kind == "agent":
        if leg.answered_at is not None:
            bridge(w, leg)
        return
    if leg.kind == "monitor":
        monitor.wire(w, leg)
        return
    # Early media (ring-back, announcements before the 200 OK) is not an answer
    # (issue 20): AMD classifies the callee only from the answer on; before it, only
    # a carrier's special information tones can end the call (sip/amd_vad.py).
    if leg.amd_wanted and leg.amd is None and not leg.amd_done:
        _start_amd(w, leg)
    elif leg.amd is not None and leg.answered_at and not leg.amd.answered:
        leg.amd.answer()
    if leg.record_path and leg.recorder is None:
        leg.recorder = _new_recorder(w, leg, leg.record_path)
    for path, rec in list(leg.clips.items()):
        if rec is None:
            leg.clips[path] = _new_recorder(w, leg, path)


def _new_recorder(w: Worker, leg: Leg, path: str) -> pj.AudioMediaRecorder:
    """Both directions, mixed: the customer now, the agent's leg once bridged."""
    rec = pj.AudioMediaRecorder()
    rec.createRecorder(path)
    leg.media.startTransmit(rec)
    agent = w.legs.get(leg.agent_key or "")
    if agent is not None and agent.bridged and agent.media is not None:
        agent.media.startTransmit(rec)
    return rec


def _start_amd(w: Worker, leg: Leg) -> None:
    free = [p for p in w.ports if p.owner is None]
    if not free and len(w.ports) < w.max_amd_ports:
        w.ports.append(FramePort(f"amd{len(w.ports)}"))
        free = w.ports[-1:]
    if not free and leg.answered_at is None:
        return  # ringing calls do not take the answered ones' ports: try at the answer
    leg.amd_done = True
    if not free:
        w.send(ev.AmdResult(leg.call_id, Verdict.UNKNOWN, 0.0))
        return
    port = free[0]
    port.attach(leg.call_id)
    leg.amd_port = port
    params = AmdParams(deadline_ms=int(leg.amd_deadline * 1000))
    leg.amd = AmdDetector(params, answered=leg.answered_at is not None)
    leg.media.startTransmit(port)


def bridge(w: Worker, agent: Leg) -> None:
    cust = w.legs.get(agent.call_id)
    if agent.bridged or agent.media is None or cust is None or cust.media is None:
        return
    cust.media.startTransmit(agent.media)
    agent.media.startTransmit(cust.media)
    for rec in recorders_of(cust):
        agent.media.startTransmit(rec)
    agent.bridged = True
    base = cust.answered_at or agent.started
    w.send(ev.AgentLegBridged(agent.call_id, (time.monotonic() - base) * 1000.0))


def send_stream_stats(w: Worker, leg: Leg, index: int | None = None) -> None:
    """RTP counters of a leg we are about to hang up, or whose stream is going away
    because the far end hung up (bench only: SipConfig.stream_stats); once per leg."""
    if leg.stats_sent:
        return
    seconds = time.monotonic() - (leg.answered_at or leg.started)
    with contextlib.suppress(pj.Error):
        stats = stream_stats(leg.call, leg.call_id, leg.kind, seconds, index)
        if stats is not None:
            leg.stats_sent = True
            w.send(stats)


def on_media_state(w: Worker, key: str) -> None:
    leg = w.legs.get(key)
    if leg is None or leg.call is None:
        return
    info = leg.call.getInfo()
    for mi in info.media:
        if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            leg.media = leg.call.getAudioMedia(mi.index)
            if info.state == pj.PJSIP_INV_STATE_EARLY:
                leg.early_media = True
            attach_media(w, leg)
            return
