"""The simulated carrier: a child process with its own pjsua2 endpoint on loopback that
answers outdial's calls as a population of customers would, and the softphones of
simulated agents (auto-answer).

outdial's SIP workers reach it as an ordinary trunk (``OUTDIAL_SIP_TRUNK=127.0.0.1:PORT``):
real SIP and RTP over 127.0.0.1, so every path of the dialer runs as it would against a
carrier. What each callee does is drawn by :mod:`sip.simmix` from a scenario in the format
of shared/pacing/scenarios.json (``sip/sim_scenario.json`` by default).

* An INVITE whose user part starts with ``agent`` is a simulated agent's softphone: it
  answers after a short ring and says "您好，我是客服。", then stays until BYE.
* Any other INVITE is a customer: 180 Ringing, then the persona's final response — 486, a
  4xx/5xx, no answer (ring until CANCEL), or 200 OK followed by its recordings ("喂？", a
  sentence, an answering machine's greeting), survey keys sent as RFC 4733 events, and a
  BYE after its talk time.

Each process owns its endpoint on its main thread (``threadCnt=0``, polled like
``sip.worker``) and talks to the parent over a pipe: it says ``("call", kind)`` for every
call it receives and ``("ended", Call-ID)`` when one is over; ``"stop"`` ends it.
:class:`SimCarrier` is the parent's handle; it runs several processes behind one address
(sip/simfront.py), because one process holds at most ``PJSUA_MAX_CALLS`` calls.
"""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing as mp
import os
import random
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from sip.errors import SipConfigError
from sip.simfront import Front
from sip.simmix import Persona, Population, draw, load_population

log = structlog.get_logger(__name__)

SOUNDS = Path(__file__).with_name("sounds")
AGENT_PREFIX = "agent"  # sip:agent07@127.0.0.1:PORT is a simulated agent's softphone


@dataclass(frozen=True, slots=True)
class SimCarrierConfig:
    bind_host: str = "127.0.0.1"
    port: int = 0  # the front's port; 0: any free port
    scenario: str = ""  # a scenarios.json-format file; empty: sip/sim_scenario.json
    scenario_name: str = ""
    seed: int | None = None
    max_calls: int = 120  # per process; the pjsua2 build holds 128 (config_site.h)
    processes: int = 3  # carrier processes behind the front (sip/simfront.py)
    log_level: int = 0

    @property
    def capacity(self) -> int:
        """Calls the front gives one process at most: a few slots stay free for calls
        still disconnecting (a pjsua call holds its slot until DISCONNECTED)."""
        return max(1, self.max_calls - max(4, self.max_calls // 8))


@dataclass(slots=True)
class _Process:
    number: int
    proc: Any
    conn: Connection
    port: int


class SimCarrier:
    """The parent's handle: ``start()`` returns the SIP port, ``stop()`` ends the processes.

    Several carrier processes (``processes``, each ≤ ``capacity`` calls) sit behind one
    front address (sip/simfront.py), served by a thread of this process with a plain UDP
    socket (no pjsua2 here). A process that dies has its calls ended by the front (503 or
    BYE) and is started again; ``restarts`` counts them.
    """

    def __init__(self, cfg: SimCarrierConfig | None = None) -> None:
        self.cfg = cfg or SimCarrierConfig()
        load_population(self.cfg.scenario or None, self.cfg.scenario_name or None)  # fail early
        self.port = 0
        self.restarts = 0
        self._counts: Counter[str] = Counter()
        self._procs: dict[int, _Process] = {}
        self._sock: socket.socket | None = None
        self._front: Front | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self, timeout: float = 120.0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.cfg.bind_host, self.cfg.port))
        except OSError as exc:
            sock.close()
            raise SipConfigError(
                f"the simulated carrier cannot use {self.cfg.bind_host}:{self.cfg.port}: "
                f"{exc.strerror}"
            ) from exc
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self._front = Front((self.cfg.bind_host, self.port), self.cfg.capacity)
        try:
            for number in range(max(1, self.cfg.processes)):
                self._spawn(number, timeout)
        except SipConfigError:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._serve, name="simcarrier-front", daemon=True)
        self._thread.start()
        return self.port

    def _spawn(self, number: int, timeout: float) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited loop or threads
        parent, child = ctx.Pipe()
        seed = (
            None if self.cfg.seed is None else self.cfg.seed * 1000 + number + 100 * self.restarts
        )
        cfg = replace(self.cfg, port=0, seed=seed)
        proc = ctx.Process(
            target=main, args=(cfg, child), name=f"outdial-simcarrier-{number}", daemon=True
        )
        proc.start()
        child.close()
        try:
            if not parent.poll(timeout):
                raise EOFError("no answer in time")
            kind, value = parent.recv()
        except (EOFError, OSError) as exc:
            proc.kill()
            raise SipConfigError(f"the simulated carrier did not start: {exc!r}") from exc
        if kind != "ready":
            proc.kill()
            raise SipConfigError(f"the simulated carrier could not start: {value}")
        self._procs[number] = _Process(number, proc, parent, int(value))
        assert self._front is not None
        self._front.processes[number] = (self.cfg.bind_host, int(value))

    @property
    def trunk(self) -> str:
        """``host:port`` for ``OUTDIAL_SIP_TRUNK``."""
        return f"{self.cfg.bind_host}:{self.port}"

    def agent_uri(self, name: str) -> str:
        return f"sip:{AGENT_PREFIX}-{name}@{self.cfg.bind_host}:{self.port}"

    def stats(self, timeout: float = 5.0) -> dict[str, int]:
        """Calls received so far, by persona kind (and ``agent`` for softphone calls)."""
        return dict(self._counts)

    def pids(self) -> list[int]:
        """The carrier processes' ids (a test kills one to see its calls end)."""
        return [p.proc.pid for p in self._procs.values()]

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        procs, self._procs = list(self._procs.values()), {}
        for p in procs:
            with contextlib.suppress(OSError, ValueError):
                p.conn.send("stop")
        for p in procs:
            p.proc.join(timeout)
            if p.proc.is_alive():
                p.proc.kill()
                p.proc.join(1.0)
            p.conn.close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # --- the front's thread ------------------------------------------------------------------
    def _serve(self) -> None:
        sock, front = self._sock, self._front
        assert sock is not None and front is not None
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ, None)
        for p in self._procs.values():
            self._watch(sel, p)
        while not self._stopping.is_set():
            for key, _ in sel.select(0.2):
                if key.data is None:
                    self._datagrams(sock, front)
                    continue
                kind, number = key.data
                if number not in self._procs:
                    continue
                if kind == "pipe":
                    self._messages(number, front)
                elif not self._procs[number].proc.is_alive():
                    self._restart(number, front, sel)
        sel.close()

    @staticmethod
    def _watch(sel: selectors.BaseSelector, p: _Process) -> None:
        sel.register(p.conn, selectors.EVENT_READ, ("pipe", p.number))
        sel.register(p.proc.sentinel, selectors.EVENT_READ, ("exit", p.number))

    def _datagrams(self, sock: socket.socket, front: Front) -> None:
        while True:
            try:
                data, source = sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            try:
                replies = front.datagram(data, source, time.monotonic())
            except (ValueError, IndexError):  # a message we cannot read: dropped, as UDP may
                log.warning("simulated carrier front dropped a datagram", source=source)
                continue
            for out, dest in replies:
                with contextlib.suppress(OSError):
                    sock.sendto(out, dest)

    def _messages(self, number: int, front: Front) -> None:
        conn = self._procs[number].conn
        try:
            while conn.poll():
                kind, value = conn.recv()
                if kind == "ended":
                    front.ended(value, time.monotonic())
                elif kind == "call":
                    self._counts[value] += 1
        except (EOFError, OSError):
            return  # the process is gone: its sentinel says so next

    def _restart(self, number: int, front: Front, sel: selectors.BaseSelector) -> None:
        """A carrier process died: end its calls as it would have, start another."""
        dead = self._procs.pop(number)
        code = dead.proc.exitcode
        front.processes.pop(number, None)
        sel.unregister(dead.conn)
        sel.unregister(dead.proc.sentinel)
        self._messages_of(dead, front)
        ended = front.orphans(number)
        assert self._sock is not None
        for out, dest in ended:
            with contextlib.suppress(OSError):
                self._sock.sendto(out, dest)
        dead.conn.close()
        if self._stopping.is_set():
            return
        self.restarts += 1
        log.warning(
            "simulated carrier process died; restarting it",
            process=number,
            exit_code=code,
            calls_ended=len(ended),
        )
        try:
            self._spawn(number, 120.0)
        except SipConfigError:
            log.exception("simulated carrier process could not be restarted", process=number)
            return
        self._watch(sel, self._procs[number])

    def _messages_of(self, dead: _Process, front: Front) -> None:
        """The dead process's last words: calls it ended just before dying."""
        with contextlib.suppress(EOFError, OSError, ValueError):
            while dead.conn.poll():
                kind, value = dead.conn.recv()
                if kind == "ended":
                    front.ended(value, time.monotonic())


# ----- the child process ---------------------------------------------------------------------
def main(cfg: SimCarrierConfig, conn: Connection) -> None:
    """Process entry; leaves with ``os._exit`` (SWIG destructors after libDestroy abort)."""
    # Ctrl-C or a SIGTERM to the server's process group is the server's to handle: it ends
    # this process through the pipe ("stop", or EOF if the server is gone). Dying on the
    # signal first would look like a crash to the front and be restarted mid-shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    code = 0
    try:
        carrier = _Carrier(cfg, conn)
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("failed", repr(exc)))
        os._exit(3)
    try:
        carrier.run()
    except Exception:
        traceback.print_exc(file=sys.stderr)
        code = 4
    sys.stderr.flush()
    os._exit(code)


class _Carrier:
    def __init__(self, cfg: SimCarrierConfig, conn: Connection) -> None:
        import pjsua2 as pj

        from sip.media import quiet_stdout

        self.pj = pj
        self.cfg = cfg
        self.conn = conn
        self.pop: Population = load_population(cfg.scenario or None, cfg.scenario_name or None)
        self.rng = random.Random(cfg.seed)
        self.started = time.monotonic()
        self.calls: dict[int, _SimCall] = {}
        self.done: list[int] = []
        self.timers: list[tuple[float, int, int, Callable[[], None]]] = []
        self.seq = 0
        self.stopping = False
        ep = self.ep = pj.Endpoint()
        with quiet_stdout():
            ep.libCreate()
        epc = pj.EpConfig()
        epc.uaConfig.threadCnt = 0
        epc.uaConfig.mainThreadOnly = False
        epc.uaConfig.maxCalls = cfg.max_calls
        epc.uaConfig.userAgent = "outdial-simulated-carrier"
        epc.medConfig.hasIoqueue = False
        epc.medConfig.threadCnt = 0
        epc.medConfig.clockRate = 8000
        epc.medConfig.sndClockRate = 8000
        epc.medConfig.channelCount = 1
        epc.medConfig.ecTailLen = 0
        epc.medConfig.noVad = True
        epc.logConfig.level = cfg.log_level
        epc.logConfig.consoleLevel = cfg.log_level
        ep.libInit(epc)
        tcfg = pj.TransportConfig()
        tcfg.port = cfg.port
        tcfg.boundAddress = cfg.bind_host
        tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        ep.libStart()
        ep.audDevManager().setNullDev()
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:carrier@{cfg.bind_host}:{self.port}"
        acfg.sipConfig.transportId = tid
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        acfg.mediaConfig.transportConfig.port = 0
        acfg.mediaConfig.transportConfig.boundAddress = cfg.bind_host
        self.account = _Account(self)
        self.account.create(acfg)

    # --- loop ------------------------------------------------------------------------------
    def run(self) -> None:
        self.conn.send(("ready", self.port))
        while not self.stopping:
            self.ep.libHandleEvents(10)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, call_key, action = heapq.heappop(self.timers)
                if call_key in self.calls:
                    self._guard(action)
            self._release()
            self._serve_parent()
        self._shutdown()

    def _serve_parent(self) -> None:
        try:
            while self.conn.poll():
                msg = self.conn.recv()
                if msg == "stop":
                    self.stopping = True
        except (EOFError, OSError):
            self.stopping = True

    def _shutdown(self) -> None:
        for call in list(self.calls.values()):
            call.hangup(503)
        deadline = time.monotonic() + 2.0
        while self.calls and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
            self._release()
        self.ep.audDevManager().setNoDev()
        self.account.shutdown()
        self.ep.libDestroy()

    def _guard(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:
            traceback.print_exc(file=sys.stderr)
            sys.last_traceback = None

    def at(self, call: _SimCall, delay: float, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, call.key, action))

    def tell(self, kind: str, value: str) -> None:
        """A word to the parent's front (sip/simfront.py): a call came, a call ended."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send((kind, value))

    def _release(self) -> None:
        while self.done:
            call = self.calls.pop(self.done.pop(), None)
            if call is not None:
                call.players.clear()

    # --- calls -----------------------------------------------------------------------------
    def incoming(self, call_id: int) -> None:
        self.seq += 1
        # keyed by our own number: pjsua reuses a call id as soon as its call is over, and a
        # timer of the old call must never act on the new one (that hit sip_inv.c asserts)
        call = _SimCall(self, call_id, self.seq)
        self.calls[call.key] = call
        user = call.to_user()
        if user.startswith(AGENT_PREFIX):
            self.tell("call", "agent")
            call.softphone()
            return
        phase = self.pop.phase_at(time.monotonic() - self.started)
        persona = draw(self.rng, self.pop, phase, user)
        self.tell("call", persona.kind.value)
        call.customer(persona)


class _Account:
    """Built lazily so the module imports without pjsua2 (the parent never loads it)."""

    def __new__(cls, carrier: _Carrier) -> Any:
        pj = carrier.pj

        class Account(pj.Account):  # type: ignore[misc,name-defined]
            def onIncomingCall(self, prm: Any) -> None:
                try:
                    carrier.incoming(int(prm.callId))
                except Exception:
                    traceback.print_exc(file=sys.stderr)
                    sys.last_traceback = None

        return Account()


class _SimCall:
    def __init__(self, carrier: _Carrier, call_id: int, key: int) -> None:
        pj = carrier.pj
        self.carrier = carrier
        self.key = key
        self.players: list[Any] = []
        self.media: Any = None
        self.answered = False
        self.ended = False
        sim = self

        class Call(pj.Call):  # type: ignore[misc,name-defined]
            def onCallState(self, prm: Any) -> None:
                with contextlib.suppress(Exception):
                    if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
                        sim.ended = True
                        carrier.done.append(sim.key)
                        carrier.tell("ended", sim.sip_call_id)
                        # deleted here, where pjsua2 allows it (endpoint.cpp on_call_state):
                        # deleted later, when a timer of this call lets go of it, its
                        # ~Call would unlink and hang up the new call that has its id by
                        # then (pjsua reuses ids at once when nearly full)
                        sim.call = None

            def onCallMediaState(self, prm: Any) -> None:
                with contextlib.suppress(Exception):
                    for mi in self.getInfo().media:
                        if (
                            mi.type == pj.PJMEDIA_TYPE_AUDIO
                            and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                        ):
                            sim.media = self.getAudioMedia(mi.index)

        self.call: Any = Call(carrier.account, call_id)
        self.sip_call_id = str(self.call.getInfo().callIdString)

    def to_user(self) -> str:
        uri = str(self.call.getInfo().localUri)
        return uri.split("sip:", 1)[-1].split("@", 1)[0]

    def _respond(self, status: int) -> None:
        if self.ended:
            return
        prm = self.carrier.pj.CallOpParam()
        prm.statusCode = status
        self.call.answer(prm)
        self.answered = self.answered or status == 200

    def hangup(self, status: int = 200) -> None:
        if self.ended:
            return
        prm = self.carrier.pj.CallOpParam()
        prm.statusCode = status
        with contextlib.suppress(Exception):
            self.call.hangup(prm)

    def play(self, name: str, lang: str) -> None:
        if self.ended or self.media is None:
            return
        pj = self.carrier.pj
        player = pj.AudioMediaPlayer()
        player.createPlayer(str(SOUNDS / f"{lang}_{name}.wav"), pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(self.media)
        # one player per call: the previous sound is over (sounds follow each other), and
        # PJSUA_MAX_PLAYERS bounds the players of the whole process
        self.players[:] = [player]

    def dtmf(self, digit: str) -> None:
        if not self.ended and self.answered:
            self.call.dialDtmf(digit)  # RFC 4733 events when the offer has telephone-event

    def softphone(self) -> None:
        at = self.carrier.at
        self._respond(180)
        delay = self.carrier.rng.uniform(0.2, 0.8)
        at(self, delay, lambda: self._respond(200))
        at(self, delay + 0.4, lambda: self.play("agent", "zh"))

    def customer(self, p: Persona) -> None:
        at = self.carrier.at
        self._respond(180)
        if p.status == 0:  # rings until the caller gives up (CANCEL)
            return
        at(self, p.ring, lambda: self._respond(p.status))
        if p.status != 200:
            return
        for offset, name in p.sounds:
            at(self, p.ring + offset, lambda n=name: self.play(n, p.lang))  # type: ignore[misc]
        for offset, digit in p.keys:
            at(self, p.ring + offset, lambda d=digit: self.dtmf(d))  # type: ignore[misc]
        if p.talk is not None:
            at(self, p.ring + p.talk, self.hangup)
