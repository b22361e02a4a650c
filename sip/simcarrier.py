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

The process owns its endpoint on its main thread (``threadCnt=0``, polled like
``sip.worker``) and serves the parent's pipe: ``"stats"`` answers a count per persona,
``"stop"`` ends it. :class:`SimCarrier` is the parent's handle.
"""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing as mp
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sip.errors import SipConfigError
from sip.simmix import Persona, Population, draw, load_population

SOUNDS = Path(__file__).with_name("sounds")
AGENT_PREFIX = "agent"  # sip:agent07@127.0.0.1:PORT is a simulated agent's softphone


@dataclass(frozen=True, slots=True)
class SimCarrierConfig:
    bind_host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (the parent learns it from the child)
    scenario: str = ""  # a scenarios.json-format file; empty: sip/sim_scenario.json
    scenario_name: str = ""
    seed: int | None = None
    max_calls: int = 120  # the pjsua2 build holds 128 (sip/pjproject/config_site.h)
    log_level: int = 0


class SimCarrier:
    """The parent's handle: ``start()`` returns the SIP port, ``stop()`` ends the process."""

    def __init__(self, cfg: SimCarrierConfig | None = None) -> None:
        self.cfg = cfg or SimCarrierConfig()
        load_population(self.cfg.scenario or None, self.cfg.scenario_name or None)  # fail early
        self.port = 0
        self._proc: Any = None
        self._conn: Connection | None = None

    def start(self, timeout: float = 120.0) -> int:
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited loop or threads
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=main, args=(self.cfg, child), name="outdial-simcarrier", daemon=True
        )
        self._proc.start()
        child.close()
        self._conn = parent
        try:
            if not parent.poll(timeout):
                raise EOFError("no answer in time")
            kind, value = parent.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise SipConfigError(f"the simulated carrier did not start: {exc!r}") from exc
        if kind != "ready":
            self.stop()
            raise SipConfigError(f"the simulated carrier could not start: {value}")
        self.port = int(value)
        return self.port

    @property
    def trunk(self) -> str:
        """``host:port`` for ``OUTDIAL_SIP_TRUNK``."""
        return f"{self.cfg.bind_host}:{self.port}"

    def agent_uri(self, name: str) -> str:
        return f"sip:{AGENT_PREFIX}-{name}@{self.cfg.bind_host}:{self.port}"

    def stats(self, timeout: float = 5.0) -> dict[str, int]:
        """Calls received so far, by persona kind (and ``agent`` for softphone calls)."""
        if self._conn is None:
            return {}
        self._conn.send("stats")
        if not self._conn.poll(timeout):
            return {}
        kind, value = self._conn.recv()
        return dict(value) if kind == "stats" else {}

    def stop(self, timeout: float = 5.0) -> None:
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send("stop")
            conn.close()
        if proc is not None:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)


# ----- the child process ---------------------------------------------------------------------
def main(cfg: SimCarrierConfig, conn: Connection) -> None:
    """Process entry; leaves with ``os._exit`` (SWIG destructors after libDestroy abort)."""
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
        self.counts: Counter[str] = Counter()
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
                if msg == "stats":
                    self.conn.send(("stats", dict(self.counts)))
                elif msg == "stop":
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

    def _release(self) -> None:
        while self.done:
            call = self.calls.pop(self.done.pop(), None)
            if call is not None:
                call.players.clear()

    # --- calls -----------------------------------------------------------------------------
    def incoming(self, call_id: int) -> None:
        call = _SimCall(self, call_id)
        self.calls[call_id] = call
        user = call.to_user()
        if user.startswith(AGENT_PREFIX):
            self.counts["agent"] += 1
            call.softphone()
            return
        phase = self.pop.phase_at(time.monotonic() - self.started)
        persona = draw(self.rng, self.pop, phase, user)
        self.counts[persona.kind.value] += 1
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
    def __init__(self, carrier: _Carrier, call_id: int) -> None:
        pj = carrier.pj
        self.carrier = carrier
        self.key = call_id
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

            def onCallMediaState(self, prm: Any) -> None:
                with contextlib.suppress(Exception):
                    for mi in self.getInfo().media:
                        if (
                            mi.type == pj.PJMEDIA_TYPE_AUDIO
                            and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                        ):
                            sim.media = self.getAudioMedia(mi.index)

        self.call = Call(carrier.account, call_id)

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
        self.players.append(player)

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
