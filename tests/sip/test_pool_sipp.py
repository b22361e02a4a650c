"""The real pool (worker processes + pjsua2) against SIPp peers on loopback.

Each test asserts what outdial emitted and what SIPp saw (exit code, counters).
Ring timeouts below 15 s use the explicit test-only override of ``Originate``.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from sip import events as ev
from sip.commands import Originate
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pool import SipPool

pytestmark = pytest.mark.sip


def originate(call_id: str, target: str, ring: float = 5.0, **kw: object) -> Originate:
    return Originate(
        call_id,
        target,
        "15550001",
        "Outdial Test",
        ring_timeout=ring,
        allow_short_ring_timeout_for_tests=True,
        **kw,
    )  # type: ignore[arg-type]


async def until_ended(
    pool: SipPool, call_id: str, timeout: float = 20.0, linger: float = 0.0
) -> list[ev.SipEvent]:
    """Events of ``call_id`` up to its CallEnded (plus ``linger`` seconds after)."""
    seen: list[ev.SipEvent] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    ended_at: float | None = None
    while True:
        now = loop.time()
        stop = min(end, ended_at + linger) if ended_at is not None else end
        if now >= stop:
            break
        try:
            event = await asyncio.wait_for(pool.events.get(), stop - now)
        except TimeoutError:
            break
        if getattr(event, "call_id", call_id) == call_id:
            seen.append(event)
        if isinstance(event, ev.CallEnded) and event.call_id == call_id and ended_at is None:
            ended_at = loop.time()
    return seen


async def wait_for(pool: SipPool, kind: type, call_id: str, timeout: float = 10.0) -> list:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            event = await pool.events.get()
            seen.append(event)
            if isinstance(event, kind) and getattr(event, "call_id", None) == call_id:
                return seen


def ended(events: list[ev.SipEvent]) -> list[ev.CallEnded]:
    return [e for e in events if isinstance(e, ev.CallEnded)]


@pytest.fixture
async def pool():
    async with SipPool(
        PoolConfig(SipConfig(rtp_port_start=24000), min_workers=1, max_workers=4)
    ) as p:
        yield p


async def test_answer_with_rtp_then_we_hang_up(pool: SipPool, sipp, tmp_path: Path) -> None:
    peer = sipp("uas_answer.xml")
    rec = tmp_path / "attempt-1.wav"
    await pool.originate(originate("a1", peer.uri(), record_path=str(rec)))
    seen = await wait_for(pool, ev.CallAnswered, "a1")
    await asyncio.sleep(2.0)  # let the tone flow
    await pool.hangup("a1")
    seen += await until_ended(pool, "a1", linger=1.0)
    progress = [e for e in seen if isinstance(e, ev.CallProgress)]
    answered = [e for e in seen if isinstance(e, ev.CallAnswered)]
    assert progress and progress[0].status_code == 180
    assert answered[0].time_to_answer >= 0.9 and not answered[0].early_media
    [end] = ended(seen)
    assert end.outcome is ev.Outcome.ANSWERED and end.who_hung_up is ev.HungUpBy.US
    assert 1.5 < end.duration < 5
    assert ev.RecordingSaved("a1", str(rec)) in seen
    with wave.open(str(rec)) as w:  # the peer's tone reached us over RTP
        frames = w.readframes(w.getnframes())
    assert (
        w.getframerate() == 8000
        and max(
            abs(int.from_bytes(frames[i : i + 2], "little", signed=True))
            for i in range(0, len(frames), 2)
        )
        > 3000
    )
    result = peer.wait()
    assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.stderr


@pytest.mark.parametrize(
    ("code", "reason", "outcome"),
    [
        ("486", "Busy Here", ev.Outcome.BUSY),
        ("480", "Temporarily Unavailable", ev.Outcome.FAILED),
        ("503", "Service Unavailable", ev.Outcome.FAILED),
        ("404", "Not Found", ev.Outcome.FAILED),
    ],
)
async def test_rejected(pool: SipPool, sipp, code: str, reason: str, outcome: ev.Outcome) -> None:
    peer = sipp(f"uas_{code}.xml")
    await pool.originate(originate("r1", peer.uri()))
    [end] = ended(await until_ended(pool, "r1"))
    assert (end.outcome, end.sip_status, end.reason) == (outcome, int(code), reason)
    assert end.who_hung_up is ev.HungUpBy.NONE and end.duration == 0.0
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_never_answers_ring_timeout_sends_cancel(pool: SipPool, sipp) -> None:
    peer = sipp("uas_ring.xml")
    await pool.originate(originate("n1", peer.uri(), ring=1.5))
    seen = await until_ended(pool, "n1")
    [end] = ended(seen)
    assert end.outcome is ev.Outcome.NO_ANSWER and end.sip_status == 487
    result = peer.wait()  # the scenario only succeeds if our CANCEL arrived
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_no_reply_at_all_reports_at_ring_timeout(pool: SipPool, sipp) -> None:
    peer = sipp("uas_silent.xml")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await pool.originate(originate("s1", peer.uri(), ring=1.0))
    seen = await until_ended(pool, "s1", linger=0.5)
    [end] = ended(seen)
    assert end.outcome is ev.Outcome.FAILED and end.sip_status == 408
    assert loop.time() - t0 < 3.0  # our timer, not PJSIP's 32 s Timer B
    assert not [e for e in seen if isinstance(e, ev.CallProgress)]
    result = peer.wait()
    assert result.returncode == 0, result.stderr


async def test_early_media_then_answer(pool: SipPool, sipp) -> None:
    peer = sipp("uas_early.xml")
    await pool.originate(originate("e1", peer.uri()))
    seen = await wait_for(pool, ev.CallAnswered, "e1")
    await pool.hangup("e1")
    seen += await until_ended(pool, "e1")
    [progress] = [e for e in seen if isinstance(e, ev.CallProgress)]
    [answered] = [e for e in seen if isinstance(e, ev.CallAnswered)]
    assert progress.status_code == 183 and progress.early_media
    assert answered.early_media and answered.time_to_answer >= 1.4
    assert ended(seen)[0].outcome is ev.Outcome.ANSWERED
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_remote_bye_after_answer(pool: SipPool, sipp) -> None:
    peer = sipp("uas_bye.xml")
    await pool.originate(originate("b1", peer.uri()))
    seen = await until_ended(pool, "b1")
    [end] = ended(seen)
    assert end.outcome is ev.Outcome.ANSWERED and end.who_hung_up is ev.HungUpBy.REMOTE
    assert 1.2 < end.duration < 3.0
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_dtmf_rfc4733_pt120_and_sip_info(pool: SipPool, sipp) -> None:
    peer = sipp("uas_dtmf.xml")
    await pool.originate(originate("d1", peer.uri()))
    seen = await until_ended(pool, "d1")
    digits = [(e.digit, e.method) for e in seen if isinstance(e, ev.DtmfReceived)]
    assert digits == [("1", "rfc4733"), ("2", "rfc4733"), ("#", "rfc4733"), ("5", "sip_info")]
    assert ended(seen)[0].who_hung_up is ev.HungUpBy.REMOTE
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_malformed_then_unusable_answer(pool: SipPool, sipp) -> None:
    peer = sipp("uas_malformed.xml")
    await pool.originate(originate("m1", peer.uri()))
    seen = await until_ended(pool, "m1", linger=0.5)
    # The malformed 180 is dropped by PJSIP; the well-formed one is reported.
    assert [e.status_code for e in seen if isinstance(e, ev.CallProgress)] == [180]
    [end] = ended(seen)  # exactly one final event whatever the peer sends
    assert (end.outcome, end.sip_status, end.who_hung_up) == (
        ev.Outcome.FAILED,
        415,
        ev.HungUpBy.US,
    )
    result = peer.wait()  # SIPp got our BYE after the unusable answer
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_agent_auto_answers_and_is_bridged(pool: SipPool, sipp) -> None:
    customer, agent = sipp("uas_answer.xml"), sipp("agent_answer.xml")
    await pool.originate(originate("g1", customer.uri()))
    seen = await wait_for(pool, ev.CallAnswered, "g1")
    await pool.connect_agent("g1", agent.uri("agent7"))
    seen += await wait_for(pool, ev.AgentLegBridged, "g1")
    await asyncio.sleep(1.0)
    await pool.hangup("g1")
    seen += await until_ended(pool, "g1", linger=1.0)
    [answered] = [e for e in seen if isinstance(e, ev.AgentLegAnswered)]
    [bridged] = [e for e in seen if isinstance(e, ev.AgentLegBridged)]
    assert answered.agent_uri == agent.uri("agent7")
    assert 0 < answered.answer_to_agent_ms <= bridged.answer_to_bridge_ms
    [leg_end] = [e for e in seen if isinstance(e, ev.AgentLegEnded)]
    assert leg_end.bridged
    assert ended(seen)[0].outcome is ev.Outcome.ANSWERED
    # agent_answer.xml fails the call unless Call-Info/Alert-Info carried the auto-answer hints
    for peer in (customer, agent):
        result = peer.wait()
        assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_drop_agent_keeps_the_customer_on_the_line(pool: SipPool, sipp) -> None:
    """A transfer's first half: only the agent's leg is hung up; the customer call goes on."""
    customer, agent = sipp("uas_answer.xml"), sipp("agent_answer.xml")
    await pool.originate(originate("g3", customer.uri()))
    await wait_for(pool, ev.CallAnswered, "g3")
    await pool.connect_agent("g3", agent.uri("agent9"))
    await wait_for(pool, ev.AgentLegBridged, "g3")
    await pool.drop_agent("g3")
    seen = await wait_for(pool, ev.AgentLegEnded, "g3")
    [leg_end] = [e for e in seen if isinstance(e, ev.AgentLegEnded)]
    assert leg_end.bridged and leg_end.agent_uri == agent.uri("agent9")
    assert agent.wait().returncode == 0  # the agent's softphone got our BYE
    await asyncio.sleep(0.5)
    assert pool.active_calls() == 1  # the customer's call is still up...
    await pool.drop_agent("g3")  # ...and a second drop has no agent leg to hang up
    seen += await wait_for(pool, ev.CommandFailed, "g3")
    [failed] = [e for e in seen if isinstance(e, ev.CommandFailed)]
    assert not ended(seen)
    assert (failed.command, failed.error_code) == ("DropAgent", "no_agent")
    await pool.hangup("g3")
    assert ended(await until_ended(pool, "g3"))[0].outcome is ev.Outcome.ANSWERED
    result = customer.wait()
    assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_agent_rejects_customer_stays_up(pool: SipPool, sipp) -> None:
    customer, agent = sipp("uas_answer.xml"), sipp("agent_reject.xml")
    await pool.originate(originate("g2", customer.uri()))
    await wait_for(pool, ev.CallAnswered, "g2")
    await pool.connect_agent("g2", agent.uri("agent8"))
    seen = await wait_for(pool, ev.AgentLegEnded, "g2")
    [leg_end] = [e for e in seen if isinstance(e, ev.AgentLegEnded)]
    assert (leg_end.sip_status, leg_end.bridged) == (486, False)
    assert not ended(seen)  # the customer call is still up
    await pool.hangup("g2")
    assert ended(await until_ended(pool, "g2"))[0].outcome is ev.Outcome.ANSWERED
    for peer in (customer, agent):
        result = peer.wait()
        assert (result.returncode, result.successful) == (0, 1), result.stderr


async def test_worker_sigkill_mid_call_one_final_event_per_call(sipp) -> None:
    cfg = PoolConfig(
        SipConfig(rtp_port_start=24400),
        min_workers=1,
        max_workers=2,
        customer_lines=2,
        agent_legs=0,
    )
    async with SipPool(cfg) as pool:
        await _sigkill_mid_call(pool, sipp)


async def _sigkill_mid_call(pool: SipPool, sipp) -> None:
    peers = [sipp("uas_hold.xml") for _ in range(2)]
    for i, peer in enumerate(peers):
        await pool.originate(originate(f"k{i}", peer.uri()))
    answered: set[str] = set()
    async with asyncio.timeout(10):
        while len(answered) < 2:
            e = await pool.events.get()
            if isinstance(e, ev.CallAnswered):
                answered.add(e.call_id)
    pid = pool.kill_worker_of("k0")
    assert pool.kill_worker_of("k1") == pid  # both calls were packed on one worker
    finals: list[ev.SipEvent] = []
    async with asyncio.timeout(10):
        while not any(isinstance(e, ev.WorkerDied) for e in finals):
            finals.append(await pool.events.get())
    lost = [e for e in finals if isinstance(e, ev.CallEnded)]
    assert sorted(e.call_id for e in lost) == ["k0", "k1"]
    assert {e.outcome for e in lost} == {ev.Outcome.WORKER_LOST}
    [died] = [e for e in finals if isinstance(e, ev.WorkerDied)]
    assert died.exitcode == -9 and sorted(died.lost_calls) == ["k0", "k1"]
    # The pool restarts a worker and keeps placing calls.
    again = sipp("uas_486.xml")
    await pool.originate(originate("k2", again.uri()))
    assert ended(await until_ended(pool, "k2"))[0].outcome is ev.Outcome.BUSY
    for peer in peers:  # SIPp never got a BYE: each call fails on its 8 s BYE timeout
        result = peer.wait()
        assert (result.returncode, result.successful, result.failed) == (1, 0, 1)
    assert again.wait().returncode == 0


async def test_clean_shutdown_under_load(sipp) -> None:
    cfg = PoolConfig(
        SipConfig(rtp_port_start=25000),
        min_workers=1,
        max_workers=3,
        customer_lines=2,
        agent_legs=0,
    )
    peer = sipp("uas_answer.xml", calls=5)
    pool = SipPool(cfg)
    await pool.start()
    for i in range(5):
        await pool.originate(originate(f"L{i}", peer.uri()))
    answered: set[str] = set()
    async with asyncio.timeout(10):
        while len(answered) < 5:
            e = await pool.events.get()
            if isinstance(e, ev.CallAnswered):
                answered.add(e.call_id)
    pids = pool.worker_pids()
    assert len(pids) == 3
    await pool.close()
    finals = []
    while not pool.events.empty():
        e = pool.events.get_nowait()
        if isinstance(e, ev.CallEnded):
            finals.append(e)
    assert sorted(e.call_id for e in finals) == [f"L{i}" for i in range(5)]
    assert {(e.outcome, e.who_hung_up) for e in finals} == {(ev.Outcome.ANSWERED, ev.HungUpBy.US)}
    assert pool.exit_codes == {w: 0 for w in pids}  # libDestroy ran, no abort
    result = peer.wait()
    assert (result.returncode, result.successful) == (0, 5), result.stderr


@pytest.mark.parametrize(
    ("password", "outcome"), [("s3cret", ev.Outcome.ANSWERED), ("wrong", ev.Outcome.FAILED)]
)
async def test_e164_via_trunk_with_digest_auth(sipp, password: str, outcome: ev.Outcome) -> None:
    peer = sipp("uas_auth.xml")
    trunk = TrunkConfig(
        "127.0.0.1", peer.port, username="outdial", password=password, realm="trunk.test"
    )
    cfg = PoolConfig(SipConfig(rtp_port_start=28000, trunk=trunk, codecs=("PCMA/8000",)))
    async with SipPool(cfg) as pool:
        await pool.originate(originate("t1", "+15551234567"))
        seen: list[ev.SipEvent] = []
        if outcome is ev.Outcome.ANSWERED:
            seen += await wait_for(pool, ev.CallAnswered, "t1")
            await pool.hangup("t1")
        seen += await until_ended(pool, "t1")
    [end] = ended(seen)
    assert end.outcome is outcome
    if outcome is ev.Outcome.FAILED:
        assert end.sip_status == 403
    result = peer.wait()  # the R-URI check (E.164 user part) runs on the first INVITE
    assert (result.returncode, result.successful) == (0, 1), result.stderr
