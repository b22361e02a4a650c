"""Media against SIPp: WAV prompts, recording on command, AMD on live RTP."""

from __future__ import annotations

import asyncio
import subprocess
import wave
from pathlib import Path

import pytest

from sip import amd_corpus
from sip import events as ev
from sip.amd import AmdParams, Verdict
from sip.amd_announce import LIBRARY_DIR, read_wav
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig
from sip.pcap import tone_pcap, wav_pcap
from sip.pool import SipPool

pytestmark = pytest.mark.sip


@pytest.fixture
async def pool():
    async with SipPool(PoolConfig(SipConfig(rtp_port_start=27000), max_workers=2)) as p:
        yield p


@pytest.fixture(scope="session")
def greetings(sipp_workdir: Path) -> Path:
    if not amd_corpus.tools_available():
        pytest.skip("needs espeak-ng and sox")
    # A held-out person saying hello and a terse held-out machine ending in its beep.
    for label, kind in ((Verdict.HUMAN, "greet"), (Verdict.MACHINE, "terse")):
        clip = amd_corpus.make_clip("heldout", kind, 0, seed=1)
        wav = clip.write(sipp_workdir / f"{label.value}.wav")
        wav_pcap(wav, sipp_workdir / f"{label.value}.pcap")
    return sipp_workdir


def call(call_id: str, target: str, **kw: object) -> Originate:
    return Originate(
        call_id, target, "15550001", ring_timeout=5.0, allow_short_ring_timeout_for_tests=True, **kw
    )  # type: ignore[arg-type]


async def collect(pool: SipPool, call_id: str, until: type, timeout: float = 15.0) -> list:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            event = await pool.events.get()
            if getattr(event, "call_id", None) == call_id:
                seen.append(event)
                if isinstance(event, until):
                    return seen


@pytest.mark.parametrize("label", [Verdict.HUMAN, Verdict.MACHINE])
async def test_amd_on_live_rtp(pool: SipPool, sipp, greetings: Path, label: Verdict) -> None:
    peer = sipp(f"uas_{label.value}.xml")
    await pool.originate(call("amd1", peer.uri(), amd=True, amd_deadline=3.0))
    seen = await collect(pool, "amd1", ev.AmdResult)
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert result.verdict is label and 0 < result.decided_after <= 3.0
    # the greeting's span, heard over RTP: the core starts the two-second rule there
    assert result.speech is not None
    start, end = result.speech
    assert 0 <= start < end <= result.decided_after
    await pool.hangup("amd1")
    await collect(pool, "amd1", ev.CallEnded)
    sipp_result = peer.wait()
    assert (sipp_result.returncode, sipp_result.successful) == (0, 1), sipp_result.stderr


LIVE_CLIPS = [("greet", 1), ("talk_on", 1), ("tv", 1), ("terse", 1), ("voicemail", 1), ("late", 1)]


async def test_amd_corpus_over_live_rtp(tmp_path: Path) -> None:
    """Six held-out clips at once, as PCMU RTP from SIPp through the worker's detector.

    Live verdicts match the offline run of the same clips (µ-law coding and packet
    timing may move one), and no live person is called a machine.
    """
    if not amd_corpus.tools_available():
        pytest.skip("needs espeak-ng and sox")
    from sippctl import SippPeer  # tests/support, on the path from tests/conftest.py

    scenario = Path(__file__).parent / "scenarios" / "uas_machine.xml"  # plays machine.pcap
    clips, peers = [], []
    for kind, index in LIVE_CLIPS:
        clip = amd_corpus.make_clip("heldout", kind, index, seed=2)
        workdir = tmp_path / clip.name
        workdir.mkdir()
        wav_pcap(clip.write(workdir / "clip.wav"), workdir / "machine.pcap")
        clips.append(clip)
        peers.append(SippPeer(scenario, workdir, timeout=30))
    offline = {c.name: amd_corpus.run_clip(c, AmdParams(deadline_ms=6000)).verdict for c in clips}
    cfg = PoolConfig(  # three lines and three AMD ports on each of two workers
        SipConfig(rtp_port_start=27200, frame_port_count=3),
        max_workers=2,
        customer_lines=3,
        agent_legs=0,
    )
    try:
        async with SipPool(cfg) as pool:
            for clip, peer in zip(clips, peers, strict=True):
                await pool.originate(call(clip.name, peer.uri(), amd=True, amd_deadline=6.0))
            live: dict[str, ev.AmdResult] = {}
            async with asyncio.timeout(30):
                while len(live) < len(clips):
                    event = await pool.events.get()
                    if isinstance(event, ev.AmdResult):
                        live[event.call_id] = event
                        await pool.hangup(event.call_id)
    finally:
        for peer in peers:
            peer.kill()
    agree = [n for n, v in offline.items() if live[n].verdict is v]
    assert len(agree) >= len(clips) - 1, (offline, live)
    people = [c.name for c in clips if c.label is Verdict.HUMAN]
    assert all(live[n].verdict is not Verdict.MACHINE for n in people), live
    assert all(0 < r.decided_after <= 6.0 for r in live.values())


async def test_amd_does_not_classify_early_media(tmp_path: Path) -> None:
    """A 440 Hz ring-back in a 183 is not a voicemail beep: AMD starts at the 200 OK."""
    from sippctl import SippPeer

    tone_pcap(tmp_path / "tone.pcap", seconds=1.0, hz=440.0)  # over before the answer
    peer = SippPeer(Path(__file__).parent / "scenarios" / "uas_early.xml", tmp_path, timeout=30)
    cfg = PoolConfig(SipConfig(rtp_port_start=27400), max_workers=1)
    try:
        async with SipPool(cfg) as pool:
            await pool.originate(call("e1", peer.uri(), amd=True, amd_deadline=1.0))
            seen = await collect(pool, "e1", ev.AmdResult)
            await pool.hangup("e1")
            await collect(pool, "e1", ev.CallEnded)
    finally:
        peer.kill()
    kinds = [type(e) for e in seen]
    assert kinds.index(ev.CallAnswered) < kinds.index(ev.AmdResult), kinds
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert result.verdict is Verdict.UNKNOWN  # silence after the answer, not a beep
    assert result.speech is None  # nobody spoke after the answer: the timer starts at once
    assert result.decided_after == pytest.approx(1.0, abs=0.2)


async def test_sit_announcement_after_the_answer_over_live_rtp(tmp_path: Path) -> None:
    """Issue 20: SIT + "not in service" after the 200 OK, as PCMU from SIPp, is an
    announcement with its SIT code, well before the deadline."""
    if not amd_corpus.tools_available():
        pytest.skip("needs espeak-ng and sox")
    from sippctl import SippPeer

    clip = amd_corpus.make_clip("heldout", "sit_announce", 0, seed=1)
    wav_pcap(clip.write(tmp_path / "clip.wav"), tmp_path / "machine.pcap")
    peer = SippPeer(Path(__file__).parent / "scenarios" / "uas_machine.xml", tmp_path, timeout=30)
    offline = amd_corpus.run_clip(clip, AmdParams(deadline_ms=3000))
    cfg = PoolConfig(SipConfig(rtp_port_start=27500), max_workers=1)
    try:
        async with SipPool(cfg) as pool:
            await pool.originate(call("s1", peer.uri(), amd=True, amd_deadline=3.0))
            seen = await collect(pool, "s1", ev.AmdResult)
            await pool.hangup("s1")
            await collect(pool, "s1", ev.CallEnded)
    finally:
        peer.kill()
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert (result.verdict, result.reason) == (Verdict.ANNOUNCEMENT, offline.reason)
    assert 0 < result.decided_after <= 2.5 and result.speech is None


async def test_sit_on_early_media_ends_it_before_the_answer(tmp_path: Path) -> None:
    """A SIT in the 183's early media is found before the 200 OK (1.5 s later)."""
    from sippctl import SippPeer

    wav = tmp_path / "sit.wav"
    amd_corpus.Clip("sit", Verdict.ANNOUNCEMENT, "sit", amd_corpus.sit("vacant", 3000.0)).write(wav)
    wav_pcap(wav, tmp_path / "tone.pcap")
    peer = SippPeer(Path(__file__).parent / "scenarios" / "uas_early.xml", tmp_path, timeout=30)
    cfg = PoolConfig(SipConfig(rtp_port_start=27600), max_workers=1)
    try:
        async with SipPool(cfg) as pool:
            await pool.originate(call("s2", peer.uri(), amd=True, amd_deadline=3.0))
            seen = await collect(pool, "s2", ev.AmdResult)
            await pool.hangup("s2")
            seen += await collect(pool, "s2", ev.CallEnded)
    finally:
        peer.kill()
    kinds = [type(e) for e in seen]
    assert ev.CallAnswered not in kinds[: kinds.index(ev.AmdResult)], kinds
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert (result.verdict, result.reason) == (Verdict.ANNOUNCEMENT, "sit_vacant")


async def test_recorded_announcement_with_no_sit_after_the_answer(tmp_path: Path) -> None:
    """Issue 20: a carrier's "您拨打的电话已关机" with no tone before it, after the 200 OK,
    as PCMU from SIPp, is an announcement named by its cause, before the deadline."""
    from sippctl import SippPeer

    x = read_wav(LIBRARY_DIR / "zh_switched_off.wav") * 0.5
    clip = amd_corpus.Clip("off", Verdict.ANNOUNCEMENT, "recorded", x)
    wav_pcap(clip.write(tmp_path / "clip.wav"), tmp_path / "machine.pcap")
    peer = SippPeer(Path(__file__).parent / "scenarios" / "uas_machine.xml", tmp_path, timeout=30)
    cfg = PoolConfig(SipConfig(rtp_port_start=27700), max_workers=1)
    try:
        async with SipPool(cfg) as pool:
            await pool.originate(call("r1", peer.uri(), amd=True, amd_deadline=4.0))
            seen = await collect(pool, "r1", ev.AmdResult)
            await pool.hangup("r1")
            await collect(pool, "r1", ev.CallEnded)
    finally:
        peer.kill()
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert (result.verdict, result.reason) == (Verdict.ANNOUNCEMENT, "recorded_switched_off")
    assert 0 < result.decided_after <= 3.0


async def test_recorded_announcement_on_early_media_ends_it_before_the_answer(
    tmp_path: Path,
) -> None:
    """Chinese carriers play "是空号" in the 183's early media: found before the 200 OK."""
    from sippctl import SippPeer

    x = read_wav(LIBRARY_DIR / "zh_vacant.wav")[: 3 * 8000] * 0.5  # 183, then 200 after 3 s
    amd_corpus.Clip("vacant", Verdict.ANNOUNCEMENT, "recorded", x).write(tmp_path / "a.wav")
    wav_pcap(tmp_path / "a.wav", tmp_path / "tone.pcap")
    scenario = Path(__file__).parent / "scenarios" / "uas_early_long.xml"
    peer = SippPeer(scenario, tmp_path, timeout=30)
    cfg = PoolConfig(SipConfig(rtp_port_start=27800), max_workers=1)
    try:
        async with SipPool(cfg) as pool:
            await pool.originate(call("r2", peer.uri(), amd=True, amd_deadline=3.0))
            seen = await collect(pool, "r2", ev.AmdResult)
            await pool.hangup("r2")
            seen += await collect(pool, "r2", ev.CallEnded)
    finally:
        peer.kill()
    kinds = [type(e) for e in seen]
    assert ev.CallAnswered not in kinds[: kinds.index(ev.AmdResult)], kinds
    [result] = [e for e in seen if isinstance(e, ev.AmdResult)]
    assert (result.verdict, result.reason) == (Verdict.ANNOUNCEMENT, "recorded_vacant")


async def test_prompt_and_recording(pool: SipPool, sipp, tmp_path: Path) -> None:
    prompt = tmp_path / "safe-harbor.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(prompt),
            "synth",
            "1.0",
            "sine",
            "1000",
            "vol",
            "0.5",
        ],
        check=True,
    )
    peer = sipp("uas_answer.xml")
    await pool.originate(call("p1", peer.uri()))
    await collect(pool, "p1", ev.CallAnswered)
    rec = tmp_path / "attempt-p1.wav"
    await pool.start_recording("p1", str(rec))
    await pool.play_prompt("p1", str(prompt))
    seen = await collect(pool, "p1", ev.PromptFinished)
    assert seen[-1] == ev.PromptFinished("p1", str(prompt))
    await pool.hangup("p1")
    seen = await collect(pool, "p1", ev.RecordingSaved)
    assert [type(e) for e in seen] == [ev.CallEnded, ev.RecordingSaved]
    with wave.open(str(rec)) as w:
        assert w.getnframes() / w.getframerate() >= 1.0
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_stop_recording_closes_the_clip_and_the_call_goes_on(
    pool: SipPool, sipp, tmp_path: Path
) -> None:
    """An IVR open answer: a clip of its own, closed on command while the call stays up."""
    peer = sipp("uas_answer.xml")
    await pool.originate(call("p3", peer.uri(), record_path=str(tmp_path / "call-p3.wav")))
    await collect(pool, "p3", ev.CallAnswered)
    clip = tmp_path / "p3-open.wav"
    await pool.start_recording("p3", str(clip))
    await asyncio.sleep(1.0)
    await pool.stop_recording("p3", str(clip))
    seen = await collect(pool, "p3", ev.RecordingSaved)
    assert seen[-1] == ev.RecordingSaved("p3", str(clip))
    assert not [e for e in seen if isinstance(e, ev.CallEnded)]
    with wave.open(str(clip)) as w:
        clip_s = w.getnframes() / w.getframerate()
    assert 0.7 <= clip_s <= 1.6, clip_s
    await pool.stop_recording("p3", str(clip))  # closed already
    seen = await collect(pool, "p3", ev.CommandFailed)
    [failed] = [e for e in seen if isinstance(e, ev.CommandFailed)]
    assert (failed.command, failed.error_code) == ("StopRecording", "not_recording")
    await asyncio.sleep(1.0)
    await pool.hangup("p3")
    seen = await collect(pool, "p3", ev.RecordingSaved)
    assert seen[-1] == ev.RecordingSaved("p3", str(tmp_path / "call-p3.wav"))
    with wave.open(str(tmp_path / "call-p3.wav")) as w:  # the call's own recording went on
        assert w.getnframes() / w.getframerate() >= clip_s + 0.8
    with wave.open(str(clip)) as w:  # and the clip did not grow after it was closed
        assert w.getnframes() / w.getframerate() == clip_s
    assert peer.wait().returncode == 0


async def test_play_prompt_missing_file_is_reported(pool: SipPool, sipp) -> None:
    peer = sipp("uas_answer.xml")
    await pool.originate(call("p2", peer.uri()))
    await collect(pool, "p2", ev.CallAnswered)
    await pool.play_prompt("p2", "/nonexistent/prompt.wav")
    [failed] = await collect(pool, "p2", ev.CommandFailed)
    assert (failed.command, failed.error_code) == ("PlayPrompt", "sip_stack_error")
    await pool.hangup("p2")
    await collect(pool, "p2", ev.CallEnded)
    assert peer.wait().returncode == 0
