"""No SIP failure dropped (issue 11.4), over real SIP: a softphone that rejects.

SIPp plays the carrier (scenarios/carrier.xml: +86138001… answers and streams a tone for 6 s)
and the agents' softphones: one rejects every call with 486 (tests/sip/scenarios/
agent_reject.xml), one answers at once (scenarios/agent.xml). The engine dials through the
real worker pool.

- The rejecting agent logged in first, so they are the longest idle and are offered the
  answer first; their 486 pauses them (softphone_unreachable) and the call goes to the next
  free agent, bridged within the 2 s of rule 3.
- ``record_calls`` on (a campaign's default): the connected call leaves a readable mixed WAV
  at DATA_DIR/recordings/<call id>.wav, the path the quality review page plays; off: none.
- With only the rejecting agent, the call waits and is abandoned at the connect limit: the
  safe-harbor message plays (PromptFinished from the worker) and the attempt is counted
  abandoned.
"""

from __future__ import annotations

import asyncio
import random
import wave
from datetime import datetime
from pathlib import Path

import dialdata
import pytest
from dialdata import rows, until
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.core import CoreConfig
from dialer.engine import CampaignEngine, EngineSettings
from outdial import auth
from outdial.roles import Role
from quality.recordings import recording_path
from sip import events as ev
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool

pytestmark = pytest.mark.sip

SCENARIOS = Path(__file__).parent / "scenarios"
REJECT = Path(__file__).parents[1] / "sip" / "scenarios" / "agent_reject.xml"
NUMBER = "+8613800100001"  # the carrier answers +86138001…


class AllowAll:
    """The gate is not the subject here (tests/compliance has its own)."""

    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        return None

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


async def run_one_call(
    db: Engine,
    tmp_path: Path,
    phones: list[tuple[str, Path]],
    wav: str = "",
    record_calls: bool = False,
) -> tuple[CampaignEngine, list[ev.SipEvent], list[SippPeer]]:
    """Dial one record with ``phones`` (agent id, scenario) logged in in that order."""
    cid = dialdata.campaign_with_contacts(db, "reject", [NUMBER], mode="progressive")
    workdir = write_all(tmp_path / "sipp")
    carrier = SippPeer(SCENARIOS / "carrier.xml", workdir, calls=1, timeout=60)
    agents = [SippPeer(scenario, workdir, calls=1, timeout=60) for _, scenario in phones]
    seen: list[ev.SipEvent] = []
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", carrier.port),
        )
        pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=1, customer_lines=1)
        async with SipPool(pool_cfg, on_event=seen.append) as pool:
            settings = EngineSettings(
                campaign_id=cid,
                core=CoreConfig(mode="progressive", max_lines=1),
                caller_id="+8610010000",
                ring_timeout=4.0,
                allow_short_ring_timeout_for_tests=True,
                safe_harbor_wav=wav or dialdata.safe_harbor(),
                tick=0.02,
                pace_every=0.2,
                data_dir=str(tmp_path / "data"),
                record_calls=record_calls,
            )
            eng = CampaignEngine(db, pool, settings, AllowAll())
            await eng.start(dialing=False)
            for (agent_id, _), peer in zip(phones, agents, strict=True):
                user = auth.create_user(db, agent_id, "password-1", Role.AGENT)
                await eng.agent_login(agent_id, user.id or 0, peer.uri(agent_id))
                await asyncio.sleep(0.01)  # login order is idle order
            eng.resume()
            await until(lambda: eng.finished == 1, 30, "the call's end")
            await eng.stop(drain_timeout=2)
    finally:
        for peer in [carrier, *agents]:
            peer.stop()
    return eng, seen, [carrier, *agents]


async def test_rejecting_softphone_passes_the_call_to_the_next_agent(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    phones = [("rejects", REJECT), ("answers", SCENARIOS / "agent.xml")]
    eng, seen, peers = await run_one_call(sqlite_engine, tmp_path, phones)
    try:
        results = [p.wait(20) for p in peers]
    finally:
        for p in peers:
            p.kill()
    [leg_end] = [e for e in seen if isinstance(e, ev.AgentLegEnded) and not e.bridged]
    assert leg_end.sip_status == 486 and "rejects" in leg_end.agent_uri
    [(state, abandoned, ms)] = rows(
        sqlite_engine, "SELECT state, abandoned, answer_to_bridge_ms FROM attempts"
    )
    assert state == "completed" and not abandoned
    assert ms is not None and ms <= 2000.0, ms  # rule 3, the reject included
    assert eng.messages_played == 0
    rejects = eng.core.agents["rejects"].machine
    assert (rejects.state.value, rejects.pause_reason) == ("paused", "softphone_unreachable")
    for r in results:  # each softphone got its one INVITE; SIPp saw no protocol error
        assert (r.returncode, r.successful, r.failed) == (0, 1, 0), (r.stderr, r.errors)


async def test_rejecting_softphone_alone_abandons_with_the_message(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    eng, seen, peers = await run_one_call(sqlite_engine, tmp_path, [("rejects", REJECT)])
    for p in peers:
        p.kill()
    [(state, abandoned, call_id)] = rows(
        sqlite_engine, "SELECT state, abandoned, call_id FROM attempts"
    )
    assert state == "abandoned" and abandoned
    [timeout] = rows(
        sqlite_engine,
        "SELECT at FROM state_changes WHERE entity = :c AND event = 'connect_timeout'",
        c=call_id,
    )
    assert timeout is not None
    assert any(isinstance(e, ev.PromptFinished) and e.call_id == call_id for e in seen)
    assert eng.messages_played == 1
    ended = next(e for e in seen if isinstance(e, ev.CallEnded))
    assert ended.who_hung_up is ev.HungUpBy.US  # we hung up after the message, not 6 s later


async def test_failed_safe_harbor_prompt_hangs_up_at_once(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The worker cannot play the message (here: no such file): its CommandFailed hangs the
    abandoned call up at once instead of leaving the customer in silence (issue 11.4)."""
    missing = str(tmp_path / "gone.wav")
    eng, seen, peers = await run_one_call(sqlite_engine, tmp_path, [("rejects", REJECT)], missing)
    for p in peers:
        p.kill()
    [failed] = [e for e in seen if isinstance(e, ev.CommandFailed)]
    assert failed.command == "PlayPrompt"
    [(state,)] = rows(sqlite_engine, "SELECT state FROM attempts")
    assert state == "abandoned"
    ended = next(e for e in seen if isinstance(e, ev.CallEnded))
    assert ended.who_hung_up is ev.HungUpBy.US
    # the 2 s connect limit, then at once: the carrier would have hung up itself after 6 s
    assert ended.duration < 3.5, ended.duration
    assert eng.messages_played == 0 and eng.failures["PlayPrompt"] == 1


@pytest.mark.parametrize("record_calls", [True, False])
async def test_connected_call_is_recorded_only_when_record_calls_is_on(
    sqlite_engine: Engine, tmp_path: Path, record_calls: bool
) -> None:
    phones = [("answers", SCENARIOS / "agent.xml")]
    _, seen, peers = await run_one_call(sqlite_engine, tmp_path, phones, record_calls=record_calls)
    for p in peers:
        p.kill()
    [(state, call_id)] = rows(sqlite_engine, "SELECT state, call_id FROM attempts")
    assert state == "completed"
    path = recording_path(tmp_path / "data", call_id)
    assert path.name == f"{call_id}.wav" and NUMBER.lstrip("+") not in str(path)
    if not record_calls:
        assert not path.exists()
        assert not any(isinstance(e, ev.RecordingSaved) for e in seen)
        return
    await until(
        lambda: any(isinstance(e, ev.RecordingSaved) and e.call_id == call_id for e in seen),
        5,
        "the recording saved",
    )
    with wave.open(str(path), "rb") as w:
        rate, frames, width = w.getframerate(), w.getnframes(), w.getsampwidth()
        audio = w.readframes(frames)
    assert rate in (8000, 16000) and width == 2
    assert frames / rate >= 1.0, frames  # seconds of the connected call, not an empty header
    assert any(b != 0 for b in audio)  # the carrier's tone is in it, not only silence


@pytest.mark.parametrize("kind", ["sit", "recorded"])
async def test_a_carrier_announcement_after_the_answer_ends_as_a_bad_number(
    sqlite_engine: Engine, tmp_path: Path, kind: str
) -> None:
    """Issue 20: the carrier answers (200 OK) and plays SIT + "not in service" (SIPp,
    PCMU from a corpus clip), or its recorded "您拨打的号码是空号" with no SIT. AMD calls
    it an announcement; no agent is offered it, the attempt is not a live answer and the
    contact is done as a bad number, not retried."""
    from sip import amd_corpus
    from sip.amd import Verdict
    from sip.amd_announce import LIBRARY_DIR, read_wav
    from sip.pcap import wav_pcap

    if not amd_corpus.tools_available():
        pytest.skip("needs espeak-ng and sox")
    causes: tuple[str, ...] = ("recorded_vacant",)
    if kind == "recorded":
        vacant = read_wav(LIBRARY_DIR / "zh_vacant.wav") * 0.5
        clip = amd_corpus.Clip("vacant", Verdict.ANNOUNCEMENT, "recorded", vacant)
    else:
        causes = ("sit_vacant", "sit_intercept")
        clip = amd_corpus.make_clip("heldout", "sit_announce", 1, seed=1)
        while amd_corpus.run_clip(clip).reason not in causes:
            clip = amd_corpus.make_clip("heldout", "sit_announce", int(clip.name[-3:]) + 1, seed=1)
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    wav_pcap(clip.write(workdir / "clip.wav"), workdir / "machine.pcap")
    uas = Path(__file__).parents[1] / "sip" / "scenarios" / "uas_machine.xml"
    cid = dialdata.campaign_with_contacts(sqlite_engine, "sit", [NUMBER], mode="progressive")
    carrier = SippPeer(uas, workdir, calls=1, timeout=60)
    agent = SippPeer(SCENARIOS / "agent.xml", workdir, calls=1, timeout=60)
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", carrier.port),
        )
        pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=1, customer_lines=1)
        async with SipPool(pool_cfg) as pool:
            settings = EngineSettings(
                campaign_id=cid,
                core=CoreConfig(mode="progressive", max_lines=1, amd=True, amd_deadline=3.0),
                caller_id="+8610010000",
                ring_timeout=4.0,
                allow_short_ring_timeout_for_tests=True,
                safe_harbor_wav=dialdata.safe_harbor(),
                tick=0.02,
                pace_every=0.2,
            )
            eng = CampaignEngine(sqlite_engine, pool, settings, AllowAll())
            await eng.start(dialing=False)
            user = auth.create_user(sqlite_engine, "a1", "password-1", Role.AGENT)
            await eng.agent_login("a1", user.id or 0, agent.uri("a1"))
            eng.resume()
            await until(lambda: eng.finished == 1, 30, "the call's end")
            await eng.stop(drain_timeout=2)
    finally:
        carrier.kill()
        agent.kill()
    [(state, amd, reason, bridged)] = rows(
        sqlite_engine, "SELECT state, amd, reason, bridged_at FROM attempts"
    )
    assert (state, amd, bridged) == ("failed", "announcement", None)
    assert reason.startswith(causes), reason
    [(status, last)] = rows(sqlite_engine, "SELECT status, last_outcome FROM contacts")
    assert (status, last) == ("done", "bad_number")
