"""One SIP worker process: one pjsua2 Endpoint, K customer calls with their agent legs, one thread.

The process's main thread owns the endpoint from ``libCreate`` to ``libDestroy``
(``threadCnt=0``; media without its own ioqueue or threads), polls
``libHandleEvents`` and, between polls, applies commands from the pool's pipe,
enforces ring timeouts and feeds AMD. Every pjsua2 callback lands on this thread
(except the null sound device's clock, which only touches ``FramePort``), and
every callback body is wrapped so no exception escapes into SWIG.

A ``Call`` object lives in ``self.legs`` until its DISCONNECTED callback; it is
dropped later in the main loop (and before any new call, which may get its pjsua id),
never inside its own callback. Exactly one
``CallEnded`` leaves for each Originate (``Leg.ended`` guards it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection

import pjsua2 as pj

from sip import events as ev
from sip import monitor, worker_media
from sip.agent_headers import agent_from, auto_answer_headers
from sip.amd_announce import default_library
from sip.commands import (
    ConnectAgent,
    DropAgent,
    Hangup,
    Originate,
    PlayPrompt,
    SetMonitorMode,
    Shutdown,
    SipCommand,
    StartMonitor,
    StartRecording,
    StopMonitor,
    StopRecording,
    is_e164,
)
from sip.config import SipConfig
from sip.legs import Leg, classify_end, side_leg
from sip.media import FramePort, PjCall, Player, quiet_stdout
from sip.protocol import SlotReleased, WorkerReady, WorkerStartFailed, WorkerStopped
from sip.stats import park_bridge_clock

_PJ_ETOOMANY = 70010  # PJ_ETOOMANY: every pjsua call slot is taken
_SLOT_WAIT = 2.0  # seconds an originate may wait for a slot still being freed
_DTMF_METHODS = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc4733", pj.PJSUA_DTMF_METHOD_SIP_INFO: "sip_info"}


class Worker:
    """State of one worker process; every method runs on the endpoint's thread."""

    def __init__(self, worker_id: int, cfg: SipConfig, cmds: Connection, out: Connection):
        self.worker_id = worker_id
        self.cfg = cfg
        self.cmds = cmds
        self.out = out
        self.ep = pj.Endpoint()
        self.account: pj.Account | None = None
        self.agent_account: pj.Account | None = None  # agent legs: no codec-locking re-offer
        self.legs: dict[str, Leg] = {}
        # AMD frame ports, made at first use (the bridge calls into each one every 20 ms,
        # ~0.6 % of a core per worker, used or not) and never destroyed (issue 5)
        self.ports: list[FramePort] = []
        self.players: list[Player] = []
        self.to_release: list[str] = []
        self.progress_due: list[str] = []
        self.waiting: dict[str, tuple[Leg, str, tuple[tuple[str, str], ...], str]] = {}
        self.recordings_due: list[tuple[str, str, float]] = []
        self.stopping = False
        self.sip_port = 0
        plan = cfg.plan
        # Budgets from the compiled limits (sip/limits.py): past them a command fails with a
        # reason instead of PJSIP's PJ_ETOOMANY.
        self.max_players = plan.players if plan else 8
        self.max_recorders = plan.recorders if plan else 8
        amd = cfg.frame_port_count
        self.max_amd_ports = amd if amd is not None else (plan.amd_ports if plan else 3)
        self.max_side_legs = plan.agent_legs if plan else 8  # agents' and supervisors' legs

    # ----- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        ep, cfg = self.ep, self.cfg
        # The carrier-announcement library is hashed once, before any call: on the first
        # call it would hold the SIP thread for ~0.6 s while early media plays.
        default_library()
        with quiet_stdout():  # libCreate logs at PJSIP's default level before libInit
            ep.libCreate()
        epc = pj.EpConfig()
        epc.uaConfig.threadCnt = 0
        epc.uaConfig.mainThreadOnly = False
        if cfg.limits is not None:  # the pool's reading of the module (or a test's cap)
            epc.uaConfig.maxCalls = cfg.limits.max_calls
        epc.uaConfig.userAgent = "outdial"
        epc.medConfig.hasIoqueue = False  # RTP and DTMF arrive through libHandleEvents
        epc.medConfig.threadCnt = 0
        epc.medConfig.clockRate = 8000
        epc.medConfig.sndClockRate = 8000
        epc.medConfig.channelCount = 1
        epc.medConfig.ecTailLen = 0  # echo canceller off
        epc.medConfig.noVad = True
        epc.medConfig.sndAutoCloseTime = 0  # stop the bridge clock once no call is left
        epc.logConfig.level = cfg.log_level
        epc.logConfig.consoleLevel = cfg.log_level
        ep.libInit(epc)
        tcfg = pj.TransportConfig()
        tcfg.port = cfg.sip_port
        tcfg.boundAddress = cfg.bind_host
        kind = pj.PJSIP_TRANSPORT_TCP if cfg.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        tid = ep.transportCreate(kind, tcfg)
        self.sip_port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        ep.libStart()
        ep.audDevManager().setNullDev()  # the null device's clock drives the bridge
        park_bridge_clock(ep)  # ...but stops while no call uses it (sip/stats.py)
        self._set_codecs()
        self.account = pj.Account()
        self.account.create(self._account_config(tid))
        # PJSUA re-offers (re-INVITE/UPDATE) after an answer with several codecs to lock one;
        # phones as agent legs do not need it (issue 12), so they get an account without it.
        acfg = self._account_config(tid, trunk=False)
        acfg.mediaConfig.lockCodecEnabled = False
        self.agent_account = pj.Account()
        self.agent_account.create(acfg)

    def _set_codecs(self) -> None:
        wanted = list(self.cfg.codecs)
        for info in self.ep.codecEnum2():
            base = info.codecId.rsplit("/", 1)[0]  # "PCMU/8000/1" -> "PCMU/8000"
            prio = 250 - wanted.index(base) if base in wanted else 0
            self.ep.codecSetPriority(info.codecId, prio)

    def _account_config(self, tid: int, trunk: bool = True) -> pj.AccountConfig:
        cfg = self.cfg
        trunk_cfg = cfg.trunk if trunk else None
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{cfg.user}@{cfg.bind_host}:{self.sip_port}"
        acfg.sipConfig.transportId = tid
        acfg.regConfig.registerOnAdd = False
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        # The two accounts take one half of the worker's RTP range each: a shared range would
        # make each account's port search step over the other's bound ports.
        half = cfg.rtp_ports_per_worker // 4 * 2
        acfg.mediaConfig.transportConfig.port = cfg.rtp_port_start + (0 if trunk else half)
        acfg.mediaConfig.transportConfig.portRange = half
        acfg.mediaConfig.transportConfig.boundAddress = cfg.bind_host
        if trunk_cfg is not None:
            t = trunk_cfg
            if t.username:
                cred = pj.AuthCredInfo("digest", t.realm, t.username, 0, t.password)
                acfg.sipConfig.authCreds.append(cred)
            if t.outbound_proxy:
                acfg.sipConfig.proxies.append(t.outbound_proxy)
            if t.register:
                acfg.regConfig.registrarUri = f"sip:{t.host}:{t.port}"
                acfg.regConfig.registerOnAdd = True
        if not trunk:
            acfg.idUri = f"sip:{cfg.user}-agent@{cfg.bind_host}:{self.sip_port}"
            acfg.priority = -1  # never picked for incoming requests
        return acfg

    def run(self) -> None:
        self.send(WorkerReady(self.worker_id, self.sip_port))
        last_amd = 0.0
        while not self.stopping:
            # RTP and SIP wake the poll at once; the timeout only bounds how late a command
            # or timer is seen, so an idle worker may sleep longer (issue 5: CPU per worker).
            if self.legs or self.waiting:
                self.ep.libHandleEvents(self.cfg.poll_ms)
            else:
                self._idle_wait()
            self.flush_progress()
            self._drain_commands()
            if self.waiting:
                self._retry_waiting()
            now = time.monotonic()
            self._check_ring_timeouts(now)
            worker_media.finish_players(self)
            if now - last_amd >= 0.1:  # AMD results are handed off at a low rate
                last_amd = now
                worker_media.pump_amd(self, now)
            self._release()
            if self.recordings_due:
                worker_media.saved_recordings(self, now)
        self.shutdown()

    def shutdown(self) -> None:
        """Hang up all -> setNoDev -> release ports, players, calls, account -> libDestroy."""
        for leg in list(self.legs.values()):
            self._hangup(leg, by_us=True)
        deadline = time.monotonic() + 3.0
        while any(not leg.disconnected for leg in self.legs.values()):
            if time.monotonic() > deadline:
                break
            self.ep.libHandleEvents(10)
        self._release()
        self.ep.audDevManager().setNoDev()
        for port in self.ports:
            port.detach()
        self.players.clear()
        for leg in self.legs.values():
            paths = [*leg.clips, leg.record_path] if leg.recorder is not None else [*leg.clips]
            self.recordings_due += [(leg.call_id, str(path), 0.0) for path in paths]
            leg.recorder = None
            leg.clips.clear()
        self.legs.clear()
        for account in (self.account, self.agent_account):
            if account is not None:
                account.shutdown()
        self.account = self.agent_account = None
        # The FramePorts stay referenced through libDestroy: conference-port removal is
        # queued (PJSIP 2.15) and the bridge's teardown still touches them; main() then
        # leaves with os._exit, so their SWIG destructors never run.
        self.ep.libDestroy()
        for call_id, path, _ in self.recordings_due:
            self.send(ev.RecordingSaved(call_id, path))  # finalised by libDestroy
        self.recordings_due.clear()
        self.send(WorkerStopped(self.worker_id))

    # ----- plumbing --------------------------------------------------------------------
    def send(self, msg: object) -> None:
        try:
            self.out.send(msg)
        except (OSError, EOFError, ValueError):
            self.stopping = True  # the pool is gone; hang up and leave

    def log_exc(self, where: str) -> None:
        sys.stderr.write(f"outdial sip worker {self.worker_id}: error in {where}\n")
        traceback.print_exc(file=sys.stderr)
        sys.last_traceback = None  # a kept traceback would keep a Call alive (issue 5)

    def _drain_commands(self) -> None:
        try:
            while self.cmds.poll():
                self._apply(self.cmds.recv())
        except (EOFError, OSError):
            self.stopping = True

    def _apply(self, cmd: SipCommand) -> None:
        try:
            if isinstance(cmd, Originate):
                self._originate(cmd)
            elif isinstance(cmd, Hangup):
                self._hangup_command(cmd)
            elif isinstance(cmd, ConnectAgent):
                self._connect_agent(cmd)
            elif isinstance(cmd, PlayPrompt):
                worker_media.play(self, cmd)
            elif isinstance(cmd, StartRecording):
                worker_media.record(self, cmd)
            elif isinstance(cmd, StopRecording):
                worker_media.stop_recording(self, cmd)
            elif isinstance(cmd, DropAgent):
                self._drop_agent(cmd)
            elif isinstance(cmd, StartMonitor):
                monitor.start(self, cmd)
            elif isinstance(cmd, SetMonitorMode):
                monitor.set_mode(self, cmd)
            elif isinstance(cmd, StopMonitor):
                monitor.stop(self, cmd)
            elif isinstance(cmd, Shutdown):
                self.stopping = True
        except pj.Error as exc:
            name = type(cmd).__name__
            call_id = getattr(cmd, "call_id", "")
            self.send(ev.CommandFailed(call_id, name, "sip_stack_error", exc.info()))
        except Exception as exc:
            self.log_exc(type(cmd).__name__)
            call_id = getattr(cmd, "call_id", "")
            self.send(ev.CommandFailed(call_id, type(cmd).__name__, "internal", repr(exc)))

    # ----- commands --------------------------------------------------------------------
    def _target_uri(self, target: str) -> str | None:
        if not is_e164(target):
            return target
        trunk = self.cfg.trunk
        if trunk is None:
            return None
        tp = ";transport=tcp" if trunk.transport == "tcp" else ""
        return f"sip:{target}@{trunk.host}:{trunk.port}{tp}"

    def _originate(self, cmd: Originate) -> None:
        if cmd.call_id in self.legs:
            self.send(ev.CommandFailed(cmd.call_id, "Originate", "duplicate", "call id in use"))
            return
        now = time.monotonic()
        leg = Leg(
            key=cmd.call_id,
            call_id=cmd.call_id,
            kind="customer",
            target=cmd.target,
            started=now,
            ring_deadline=now + cmd.ring_timeout,
        )
        leg.amd_wanted = cmd.amd
        leg.amd_deadline = cmd.amd_deadline
        leg.record_path = cmd.record_path
        leg.display_name = cmd.display_name
        uri = self._target_uri(cmd.target)
        if uri is None:
            self._fail_before_call(leg, "no SIP trunk configured for E.164 targets")
            return
        host = self.cfg.trunk.host if self.cfg.trunk else self.cfg.bind_host
        local = f"sip:{cmd.caller_id}@{host}"
        if cmd.display_name:
            local = f'"{cmd.display_name}" <{local}>'
        headers = cmd.headers
        if cmd.auto_answer:  # a softphone's test call: ask it to answer by itself
            hint_host = f"{self.cfg.bind_host}:{self.sip_port}"
            headers += auto_answer_headers(self.cfg.auto_answer, hint_host)
        self._make_call(leg, uri, headers, local)

    def _make_call(
        self, leg: Leg, uri: str, headers: tuple[tuple[str, str], ...], local_uri: str = ""
    ) -> None:
        # pjsua frees a call's slot right after its DISCONNECTED callback and may give its id
        # to this new call; a pjsua2 Call deleted later unlinks and hangs up whatever call has
        # its id then (pjsua2 call.cpp, Call::~Call). So ended calls' objects go first.
        self._release()
        account = self.account if leg.kind == "customer" else self.agent_account
        call = PjCall(self, account, leg.key)
        prm = pj.CallOpParam(True)
        prm.opt.audioCount = 1
        prm.opt.videoCount = 0
        if local_uri:
            prm.txOption.localUri = local_uri
        for name, value in headers:
            hdr = pj.SipHeader()
            hdr.hName, hdr.hValue = name, value
            prm.txOption.headers.append(hdr)
        leg.call = call
        self.legs[leg.key] = leg
        try:
            call.makeCall(uri, prm)
        except pj.Error as exc:
            leg.call = None
            del self.legs[leg.key]
            if exc.status == _PJ_ETOOMANY and time.monotonic() - leg.started < _SLOT_WAIT:
                # A call that reported DISCONNECTED may hold its pjsua slot until its media
                # transport is freed (deferred by the ioqueue); retry on the next polls.
                self.waiting[leg.key] = (leg, uri, headers, local_uri)
                return
            self._fail_before_call(leg, f"makeCall refused: {exc.reason}")

    def make_call(
        self, leg: Leg, uri: str, headers: tuple[tuple[str, str], ...], local_uri: str
    ) -> None:
        """Place a leg's INVITE (sip/monitor.py's supervisor legs)."""
        self._make_call(leg, uri, headers, local_uri)

    def hangup_leg(self, leg: Leg) -> None:
        self._hangup(leg, by_us=True)

    def _retry_waiting(self) -> None:
        for key, (leg, uri, headers, local_uri) in list(self.waiting.items()):
            del self.waiting[key]
            self._make_call(leg, uri, headers, local_uri)

    def _fail_before_call(self, leg: Leg, reason: str) -> None:
        if leg.kind == "customer":
            self.send(
                ev.CallEnded(leg.call_id, ev.Outcome.FAILED, 500, reason, ev.HungUpBy.NONE, 0.0)
            )
        elif leg.kind == "monitor":
            monitor.ended(self, leg, 500, reason)
        else:
            self.send(ev.AgentLegEnded(leg.call_id, leg.target, 500, reason, False))
        self.send(SlotReleased(leg.call_id, leg.kind))

    def _connect_agent(self, cmd: ConnectAgent) -> None:
        cust = self.legs.get(cmd.call_id)
        if cust is None or cust.answered_at is None or cust.disconnected:
            self.send(
                ev.CommandFailed(
                    cmd.call_id, "ConnectAgent", "not_answered", "customer call is not up"
                )
            )
            self.send(SlotReleased(cmd.call_id, "agent"))
            return
        ring = self.cfg.agent_ring_timeout
        leg = side_leg(cmd.call_id, "agent", cmd.agent_uri, ring, time.monotonic())
        cust.agent_key = leg.key
        host = f"{self.cfg.bind_host}:{self.sip_port}"
        forms = cmd.auto_answer if cmd.auto_answer is not None else self.cfg.auto_answer
        local = agent_from(cmd.call_id, cust.target, cust.display_name, self.cfg.bind_host)
        self._make_call(leg, cmd.agent_uri, auto_answer_headers(forms, host), local)

    def _drop_agent(self, cmd: DropAgent) -> None:
        cust = self.legs.get(cmd.call_id)
        agent = self.legs.get(cust.agent_key or "") if cust is not None else None
        if agent is None or agent.disconnected:
            self.send(ev.CommandFailed(cmd.call_id, "DropAgent", "no_agent", "no agent leg"))
            return
        self._hangup(agent, by_us=True)

    def _hangup_command(self, cmd: Hangup) -> None:
        if cmd.call_id in self.waiting:
            waiting = self.waiting.pop(cmd.call_id)[0]
            self._end_customer(waiting, ev.Outcome.CANCELLED, 0, "cancelled before sending")
            self.send(SlotReleased(waiting.call_id, waiting.kind))
            return
        leg = self.legs.get(cmd.call_id)
        if leg is not None:
            leg.cancel_requested = leg.answered_at is None
            self._hangup(leg, by_us=True, status=cmd.status_code)

    def _hangup(self, leg: Leg, *, by_us: bool, status: int = 603) -> None:
        if leg.disconnected or leg.call is None:
            return
        if by_us and leg.answered_at is not None:
            leg.hangup_by_us = True
        if leg.kind == "customer" and leg.cancel_requested and not leg.provisional:
            # PJSIP cannot CANCEL before a provisional response (RFC 3261 9.1); report now.
            self._end_customer(leg, ev.Outcome.CANCELLED, 0, "cancelled before any response")
        if self.cfg.stream_stats and leg.answered_at is not None:
            worker_media.send_stream_stats(self, leg)
        prm = pj.CallOpParam()
        if leg.answered_at is None:
            prm.statusCode = status
        with contextlib.suppress(pj.Error):  # already disconnecting
            leg.call.hangup(prm)

    def on_stream_destroyed(self, key: str, index: int) -> None:
        leg = self.legs.get(key)
        if not self.cfg.stream_stats or leg is None or leg.call is None:
            return
        if leg.answered_at is not None:
            worker_media.send_stream_stats(self, leg, index)

    def _idle_wait(self) -> None:
        """No calls: sleep until a command arrives or idle_poll_ms passes, then poll PJSIP."""
        with contextlib.suppress(OSError, EOFError):  # _drain_commands sees a closed pipe
            self.cmds.poll(self.cfg.idle_poll_ms / 1000.0)
        self.ep.libHandleEvents(0)

    # ----- timers ----------------------------------------------------------------------
    def _check_ring_timeouts(self, now: float) -> None:
        for leg in list(self.legs.values()):
            if leg.answered_at is not None or leg.disconnected or now < leg.ring_deadline:
                continue
            leg.ring_deadline = float("inf")
            leg.timed_out = True
            if not leg.provisional:
                # No 1xx: PJSIP will not send CANCEL until one arrives (or Timer B, 32 s).
                reason = "no provisional response within ring timeout"
                if leg.kind == "customer":
                    self._end_customer(leg, ev.Outcome.FAILED, 408, reason)
                elif leg.kind == "monitor":
                    monitor.ended(self, leg, 408, reason)
                else:
                    leg.ended = True
                    self.send(ev.AgentLegEnded(leg.call_id, leg.target, 408, reason, False))
            self._hangup(leg, by_us=True, status=487)

    def _release(self) -> None:
        """Drop Call objects whose DISCONNECTED callback has returned."""
        while self.to_release:
            key = self.to_release.pop()
            leg = self.legs.pop(key, None)
            if leg is None:
                continue
            recorder, leg.recorder, leg.media, leg.call = leg.recorder, None, None, None
            clips, leg.clips = leg.clips, {}
            # PJSIP 2.15 queues conference-port removal to the next clock tick, so a WAV is
            # finalised a few ms after its recorder goes; _saved_recordings waits for it.
            due = time.monotonic() + 2.0
            if recorder is not None:
                del recorder
                self.recordings_due.append((leg.call_id, leg.record_path or "", due))
            for path in clips:
                self.recordings_due.append((leg.call_id, path, due))
            del clips
            self.send(SlotReleased(leg.call_id, leg.kind))

    # ----- callbacks (called from PjCall) ---------------------------------------------
    def on_call_state(self, key: str) -> None:
        leg = self.legs.get(key)
        if leg is None or leg.call is None:
            return
        info = leg.call.getInfo()
        state, status = info.state, int(info.lastStatusCode)
        if state == pj.PJSIP_INV_STATE_EARLY and status != leg.last_progress:
            leg.provisional = True
            leg.last_progress = status
            if leg.kind == "customer" and not leg.ended:
                # Sent after this poll: the 183's SDP reaches onCallMediaState after us.
                leg.pending_progress = status
                self.progress_due.append(leg.key)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED and leg.answered_at is None:
            self._on_answered(leg)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._on_disconnected(leg, status, str(info.lastReason), info)

    def _on_answered(self, leg: Leg) -> None:
        now = time.monotonic()
        leg.answered_at = now
        leg.ring_deadline = float("inf")
        if leg.kind == "customer":
            self._send_progress(leg)
            if leg.ended:  # already reported (ring timeout without 1xx); drop the late answer
                self._hangup(leg, by_us=True)
                return
            self.send(ev.CallAnswered(leg.call_id, now - leg.started, leg.early_media))
            worker_media.attach_media(self, leg)  # AMD starts now if early media brought the audio
            return
        if leg.kind == "monitor":
            monitor.wire(self, leg)
            return
        cust = self.legs.get(leg.call_id)
        base = cust.answered_at if cust and cust.answered_at else leg.started
        self.send(ev.AgentLegAnswered(leg.call_id, leg.target, (now - base) * 1000.0))
        worker_media.bridge(self, leg)

    def _on_disconnected(self, leg: Leg, status: int, reason: str, info: pj.CallInfo) -> None:
        if leg.disconnected:
            return
        leg.disconnected = True
        worker_media.free_amd_port(self, leg)
        if leg.kind == "customer":
            duration = float(info.connectDuration.sec) + info.connectDuration.msec / 1000.0
            outcome, who = classify_end(leg, status)
            self._end_customer(leg, outcome, status, reason, who, duration)
            agent = self.legs.get(leg.agent_key or "")
            if agent is not None:
                self._hangup(agent, by_us=True)
            monitor.party_left(self, leg)
        elif leg.kind == "monitor":
            monitor.ended(self, leg, status, reason)
        else:
            cust = self.legs.get(leg.call_id)
            if not leg.ended:
                self.send(ev.AgentLegEnded(leg.call_id, leg.target, status, reason, leg.bridged))
            if cust is not None and cust.agent_key == leg.key:
                monitor.party_left(self, leg)
                cust.agent_key = None
                if leg.bridged and not leg.hangup_by_us and self.cfg.end_customer_on_agent_hangup:
                    self._hangup(cust, by_us=True)  # the agent hung up: end the call now
        self.to_release.append(leg.key)

    def _end_customer(
        self,
        leg: Leg,
        outcome: ev.Outcome,
        status: int,
        reason: str,
        who: ev.HungUpBy = ev.HungUpBy.NONE,
        duration: float = 0.0,
    ) -> None:
        if leg.ended:
            return
        self._send_progress(leg)
        leg.ended = True
        self.send(ev.CallEnded(leg.call_id, outcome, status, reason, who, duration))

    def flush_progress(self) -> None:
        while self.progress_due:
            leg = self.legs.get(self.progress_due.pop(0))
            if leg is not None:
                self._send_progress(leg)

    def _send_progress(self, leg: Leg) -> None:
        if leg.pending_progress and not leg.ended:
            self.send(ev.CallProgress(leg.call_id, leg.pending_progress, leg.early_media))
        leg.pending_progress = 0

    def on_media_state(self, key: str) -> None:
        worker_media.on_media_state(self, key)

    def on_dtmf(self, key: str, digit: str, method: int) -> None:
        leg = self.legs.get(key)
        if leg is None or leg.kind != "customer":
            return
        self.send(ev.DtmfReceived(leg.call_id, digit, _DTMF_METHODS.get(method, "unknown")))


def main(worker_id: int, cfg: SipConfig, cmds: Connection, out: Connection) -> None:
    """Process entry: start, serve until Shutdown or the pool goes away, exit hard.

    ``os._exit`` skips interpreter teardown, where SWIG destructors would run
    after ``libDestroy`` and abort the process.
    """
    worker = Worker(worker_id, cfg, cmds, out)
    code = 0
    try:
        worker.start()
    except Exception as exc:
        worker.send(WorkerStartFailed(worker_id, repr(exc)))
        code = 3
    else:
        try:
            worker.run()
        except Exception:
            worker.log_exc("run")
            code = 4
    sys.stderr.flush()
    os._exit(code)
