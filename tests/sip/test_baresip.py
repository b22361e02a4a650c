"""baresip (Debian ``baresip-core``) as a real agent phone (issue 12).

Headless: its own config directory, ``sip_listen`` on a free loopback port, the account
with ``answermode=auto`` (a softphone must allow auto-answer; outdial's hints only ask),
an ``aufile`` source playing a 1000 Hz tone, and the ``sndfile`` module writing what it
hears to WAV files. The customer is SIPp playing 440 Hz. Each side must hear the other
through outdial's bridge, and our hang-up must close the phone's call.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest
from sippctl import free_udp_port

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.pool import SipPool

pytestmark = pytest.mark.sip
BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
MODULES = "/usr/lib/baresip/modules"


def tone_wav(path: Path, hz: float, seconds: float = 20.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        n = int(8000 * seconds)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
                for i in range(n)
            )
        )
    return path


def level(path: Path, hz: float) -> float:
    """Goertzel magnitude of ``hz``, normalised per sample (8 kHz mono 16-bit)."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        pcm = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return math.sqrt(max(s1 * s1 + s2 * s2 - coeff * s1 * s2, 0.0)) / max(len(samples), 1)


class Baresip:
    """One headless baresip on a free loopback port."""

    def __init__(self, home: Path, tone_hz: float) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        self.heard = home / "heard"
        self.heard.mkdir()
        tone = tone_wav(home / "tone.wav", tone_hz)
        (home / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.port}",
                    "net_interface 127.0.0.1",
                    f"audio_source aufile,{tone}",
                    "audio_player aubridge,nil",
                    "audio_alert aubridge,nil",
                    f"snd_path {self.heard}",
                    f"module_path {MODULES}",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    "module sndfile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "",
                ]
            )
        )
        (home / "accounts").write_text("<sip:agent@127.0.0.1>;regint=0;answermode=auto\n")
        self.log = (home / "baresip.log").open("wb")
        self.proc = subprocess.Popen(
            [BARESIP, "-f", str(home), "-t", "120"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.home = home

    def uri(self) -> str:
        return f"sip:agent@127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        return (self.home / "baresip.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def baresip(tmp_path: Path):
    assert Path(BARESIP).exists(), "baresip is missing: scripts/install-system-deps.sh"
    phone = Baresip(tmp_path / "baresip", tone_hz=1000)
    for _ in range(50):  # until it listens
        if "baresip is ready" in phone.output():
            break
        time.sleep(0.1)
    yield phone
    phone.stop()


async def collect(pool: SipPool, done, timeout: float = 20.0) -> list[ev.SipEvent]:
    seen: list[ev.SipEvent] = []
    async with asyncio.timeout(timeout):
        while not done(seen):
            seen.append(await pool.events.get())
    return seen


def of(seen: list[ev.SipEvent], kind: type) -> list:
    return [e for e in seen if isinstance(e, kind)]


async def test_baresip_auto_answers_and_both_sides_hear_each_other(
    sipp, baresip: Baresip, tmp_path: Path
) -> None:
    customer = sipp("uas_answer.xml")  # plays 440 Hz
    rec = tmp_path / "call.wav"
    cfg = PoolConfig(SipConfig(rtp_port_start=39400), min_workers=1, max_workers=2)
    async with SipPool(cfg) as pool:
        await pool.originate(
            Originate(
                "b1",
                customer.uri(),
                "15550001",
                "Acme",
                ring_timeout=5.0,
                record_path=str(rec),
                allow_short_ring_timeout_for_tests=True,
            )
        )
        await collect(pool, lambda s: bool(of(s, ev.CallAnswered)))
        await pool.connect_agent("b1", baresip.uri())
        seen = await collect(pool, lambda s: bool(of(s, ev.AgentLegBridged)))
        await asyncio.sleep(2.5)
        await pool.hangup("b1")
        seen += await collect(pool, lambda s: bool(of(s, ev.RecordingSaved)))
    [answered] = of(seen, ev.AgentLegAnswered)
    assert answered.agent_uri == baresip.uri()
    [leg_end] = of(seen, ev.AgentLegEnded)
    assert leg_end.bridged
    assert level(rec, 1000) > 50 * level(rec, 2500)  # the phone's tone reached the call
    out = baresip.output()
    assert "answering call on line 1 from sip:outdial-b1@" in out, out[-2000:]  # auto, own From
    heard = [p for p in baresip.heard.glob("*.wav") if "dec" in p.name]
    assert heard, sorted(p.name for p in baresip.heard.iterdir())
    # the customer's 440 Hz, and not the phone's own 1000 Hz echoed back
    assert max(level(p, 440) for p in heard) > 50 * max(level(p, 1000) for p in heard)
    assert baresip.proc.poll() is None  # still running: the hang-up was clean
    assert customer.wait().returncode == 0
