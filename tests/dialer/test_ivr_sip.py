"""The agentless IVR satisfaction survey over real SIP (issue 7, "Tests over real SIP").

The real engine, the real compliance gate and the real SIP worker pool dial an agentless
satisfaction-survey campaign; SIPp (scenarios/ivr_customer.xml) plays the customers and
presses keys as RFC 4733 telephone-events on payload type 120. Prompts are made by
espeak-ng + sox at setup (dialer/ivr.py caches them under the data dir).

Keys are typed ahead: a customer who presses while a prompt plays has the key taken by the
next question, so each customer's pcap holds its keys at fixed times, and which question
takes which key does not depend on how long the prompts are.
"""

from __future__ import annotations

import asyncio
import random
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dialdata
import pytest
from dialdata import rows, until
from sippctl import SippPeer, SippResult
from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns import rules, survey_store, surveys
from campaigns import store as campaigns
from campaigns.models import SurveyAnswer
from compliance import store
from compliance.gate import gate_for
from dialer.core import CoreConfig
from dialer.engine import CampaignEngine, EngineSettings
from dialer.ivr import IvrRunner, wav_seconds
from dialer.states import AgentState
from outdial import auth
from outdial.roles import Role
from outdial.storage import session_scope
from sip import events as ev
from sip import pcap
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pool import SipPool

pytestmark = pytest.mark.sip

SCENARIO = Path(__file__).parent / "scenarios" / "ivr_customer.xml"
RATE = 320  # espeak-ng words per minute: short prompts keep the test short
QUICK = surveys.Survey(
    name="quick_check",
    title_zh="回访",
    title_en="follow-up",
    questions=(
        surveys.Question("recommend", surveys.QuestionKind.SCALE, "您会推荐我们吗？", "Would you?"),
        surveys.Question("resolved", surveys.QuestionKind.YES_NO, "问题解决了吗？", "Resolved?"),
    ),
)


def dtmf_at(path: Path, presses: list[tuple[float, str]]) -> Path:
    """One RFC 4733 stream (PT 120, as sip/pcap.py writes it) with each key at its time."""
    # SIPp replays a pcap relative to its first packet (and takes a zero time stamp for
    # "unset"): one silent PCMU packet first makes the keys' times count from the answer
    base = 1.0
    packets: list[tuple[float, bytes]] = [(base, pcap._rtp(0, 0, 0, b"\xff" * 160))]
    seq = 1
    for t, digit in presses:
        ts = int(t * 8000)
        for n in range(1, 9):  # 5 packets growing in duration, then 3 end packets
            end = n > 5
            body = struct.pack("!BBH", pcap._DTMF_EVENTS[digit], (0x80 if end else 0) | 10,
                               min(n, 5) * 160)  # fmt: skip
            packets.append((base + t + n * 0.02, pcap._rtp(120, seq, ts, body, marker=n == 1)))
            seq += 1
    pcap._write_pcap(path, packets)
    return path


def engine_settings(cid: int, mode: str, lines: int, data_dir: Path) -> EngineSettings:
    return EngineSettings(
        campaign_id=cid,
        core=CoreConfig(mode=mode, max_lines=lines),
        caller_id="+8610010000",
        ring_timeout=10.0,
        allow_short_ring_timeout_for_tests=True,
        tick=0.02,
        pace_every=0.2,
        data_dir=str(data_dir),
    )


def survey_campaign(db: Engine, name: str, numbers: list[str], survey: str = "") -> int:
    spec = rules.parse_campaign(
        {
            "name": name,
            "kind": "satisfaction_survey",
            "mode": "agentless",
            "caller_id": "+8610010000",
            "survey": survey,
        }
    )
    camp, _version = campaigns.save_spec(db, spec)
    assert camp.id is not None
    dialdata.add_contacts(db, camp.id, numbers, (dialdata.afternoon_zone(datetime.now(UTC)),))
    for n in numbers:  # rule 26: CN needs consent per number
        store.consent_record(db, n, "granted", evidence="ivr", at=datetime.now(UTC) - timedelta(1))
    return camp.id


async def run_campaign(
    db: Engine, cid: int, tmp: Path, numbers: list[str], survey: surveys.Survey
) -> tuple[IvrRunner, list[ev.SipEvent], SippResult]:
    """Dial every record of the campaign to SIPp and run the survey until all have ended."""
    seen: list[ev.SipEvent] = []
    peer = SippPeer(SCENARIO, tmp / "sipp", calls=len(numbers), timeout=90)
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", peer.port),
        )
        pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=1, customer_lines=3, agent_legs=0)
        async with SipPool(pool_cfg, on_event=seen.append) as pool:
            settings = engine_settings(cid, "agentless", len(numbers), tmp / "data")
            ivr = IvrRunner(db, pool, cid, tmp / "data", language="zh", speech_rate=RATE)
            eng = CampaignEngine(db, pool, settings, gate_for(db, cid), ivr=ivr)
            await eng.start(dialing=True)
            await until(lambda: eng.finished == len(numbers) and not ivr.calls, 55, "the calls")
            # a recording is closed when its call's media is released, just after the call
            await until(lambda: all(ivr.recordings.values()), 10, "the recordings")
            await eng.stop(drain_timeout=5)
        result = peer.wait(20)
    finally:
        peer.kill()
        (tmp / "sip-events.txt").write_text("\n".join(map(repr, seen)))
    return ivr, seen, result


def prompt_durations(db: Engine, tmp: Path, survey: surveys.Survey) -> dict[str, float]:
    """Make the survey's prompts now (setup time), as the runner will find them."""
    runner = IvrRunner(db, None, 0, tmp / "data", language="zh", speech_rate=RATE)  # type: ignore[arg-type]
    pids = [pid for pid, _zh, _en in surveys.prompts(survey)]
    return {pid: wav_seconds(runner.prompts.path(survey, pid, "zh")) for pid in pids}


def answers(db: Engine, response_id: int) -> dict[str, tuple[Any, bool]]:
    with session_scope(db) as s:
        got = s.exec(select(SurveyAnswer).where(SurveyAnswer.response_id == response_id))
        return {a.question_id: (a.value, a.skipped) for a in got}


def responses(db: Engine) -> dict[str, Any]:
    got = rows(db, "SELECT id, phone, status, channel, finished_at FROM survey_responses")
    return {r.phone: r for r in got}


def prompts_played(
    ivr: IvrRunner, survey: surveys.Survey, seen: list[ev.SipEvent], call: str
) -> list[str]:
    names = {
        str(ivr.prompts.path(survey, pid, "zh")): pid for pid, _zh, _en in surveys.prompts(survey)
    }
    return [names[e.wav] for e in seen if isinstance(e, ev.PromptFinished) and e.call_id == call]


async def test_ivr_survey_answers_match_the_digits_sent(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine
    number = "+8613810100001"
    cid = survey_campaign(db, "ivr-seed", [number])  # no survey named: the seeds' template
    seed = surveys.SEED_TEMPLATE
    durations = await asyncio.to_thread(prompt_durations, db, tmp_path, seed)
    # the five scale answers early (typed ahead), '#' once the open answer is being recorded
    asked = durations["intro"] + sum(durations[f"q:{q.id}"] for q in seed.questions)
    keys = "54321"
    presses = [(0.5 + 0.4 * i, k) for i, k in enumerate(keys)] + [(asked + 3.0, "#")]
    sipp = tmp_path / "sipp"
    sipp.mkdir()
    dtmf_at(sipp / "answers.pcap", presses)
    for name in ("invalid", "early", "optout"):
        dtmf_at(sipp / f"{name}.pcap", [(0.5, "1")])

    ivr, seen, result = await run_campaign(db, cid, tmp_path, [number], seed)

    assert (result.returncode, result.successful, result.failed) == (0, 1, 0), (
        result.stderr,
        result.errors,
    )
    digits = [e for e in seen if isinstance(e, ev.DtmfReceived)]
    assert "".join(e.digit for e in digits) == keys + "#"
    assert {e.method for e in digits} == {"rfc4733"}
    resp = responses(db)[number]
    assert (resp.status, resp.channel) == ("completed", "ivr")
    got = answers(db, resp.id)
    scales = [q.id for q in seed.questions if q.kind is surveys.QuestionKind.SCALE]
    want = {q: (int(k), False) for q, k in zip(scales, keys, strict=True)}
    assert {q: got[q] for q in scales} == want
    comment, skipped = got["comment"]
    assert not skipped and Path(comment).name.endswith("-comment.wav")
    (call_id,) = {e.call_id for e in digits}
    assert ivr.recordings[call_id] == [comment] and Path(comment).stat().st_size > 44
    played = prompts_played(ivr, seed, seen, call_id)
    assert played == ["intro", *(f"q:{q.id}" for q in seed.questions), "thanks"]
    (attempt,) = rows(db, "SELECT state, final, call_id FROM attempts")
    assert (attempt.state, bool(attempt.final), attempt.call_id) == ("completed", True, call_id)
    assert rows(db, "SELECT status FROM contacts")[0].status == "done"


async def test_ivr_invalid_then_no_key_skips_and_hang_up_keeps_a_partial_response(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine
    survey_store.save_survey(db, QUICK)
    skip, early, optout = "+8613810200001", "+8613810300001", "+8613810400001"
    cid = survey_campaign(db, "ivr-quick", [skip, early, optout], survey=QUICK.name)
    await asyncio.to_thread(prompt_durations, db, tmp_path, QUICK)
    sipp = tmp_path / "sipp"
    sipp.mkdir()
    dtmf_at(sipp / "answers.pcap", [(0.5, "1")])
    dtmf_at(sipp / "invalid.pcap", [(0.5, "4"), (0.9, "9")])  # 4 to q1; 9 is no yes/no key
    dtmf_at(sipp / "early.pcap", [(0.5, "5")])  # then hangs up while q2 waits for a key
    dtmf_at(sipp / "optout.pcap", [(0.5, "*")])

    ivr, seen, result = await run_campaign(db, cid, tmp_path, [skip, early, optout], QUICK)

    assert (result.returncode, result.successful, result.failed) == (0, 3, 0), (
        result.stderr,
        result.errors,
    )
    by_phone = responses(db)
    # invalid, then nothing: re-asked after "invalid", re-asked after "no input", then skipped
    # (QUICK.repeats == 2); the flow goes on to the end, so the response is completed
    r = by_phone[skip]
    assert r.status == "completed"
    assert answers(db, r.id) == {"recommend": (4, False), "resolved": (None, True)}
    call_ids = {a.number: a.call_id for a in rows(db, "SELECT number, call_id FROM attempts")}
    assert prompts_played(ivr, QUICK, seen, call_ids[skip]) == [
        "intro",
        "q:recommend",
        "q:resolved",
        "invalid",
        "q:resolved",
        "no_input",
        "q:resolved",
        "thanks",
    ]
    # the customer hung up during q2: the response keeps q1 and says why it stopped
    r = by_phone[early]
    assert r.status == "hung_up" and r.finished_at is not None
    assert answers(db, r.id) == {"recommend": (5, False)}
    # the opt-out key: on the DNC list (rule 9), committed before our hang-up
    r = by_phone[optout]
    assert r.status == "opted_out" and answers(db, r.id) == {}
    assert store.dnc_lookup(db, [optout]) and not store.dnc_lookup(db, [skip, early])
    played = prompts_played(ivr, QUICK, seen, call_ids[optout])
    assert played == ["intro", "q:recommend", "opt_out"]
    states = {a.number: a.state for a in rows(db, "SELECT number, state FROM attempts")}
    assert states == {skip: "completed", early: "completed", optout: "completed"}


async def test_agent_transfers_the_customer_to_the_survey_ivr(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Agent-led, then the IVR: SIPp's agent softphone gets our BYE at the transfer, the
    customer (SIPp) answers the survey with RFC 4733 keys, and the response is the agent's."""
    db = sqlite_engine
    survey_store.save_survey(db, QUICK)
    number = "+8613810100007"
    spec = rules.parse_campaign(
        {
            "name": "transfer",
            "kind": "satisfaction_survey",
            "mode": "progressive",
            "caller_id": "+8610010000",
            "survey": QUICK.name,
        }
    )
    camp, _version = campaigns.save_spec(db, spec)
    assert camp.id is not None
    cid = camp.id
    dialdata.add_contacts(db, cid, [number], (dialdata.afternoon_zone(datetime.now(UTC)),))
    store.consent_record(db, number, "granted", evidence="t", at=datetime.now(UTC) - timedelta(1))
    await asyncio.to_thread(prompt_durations, db, tmp_path, QUICK)
    workdir = pcap.write_all(tmp_path / "sipp")  # tone.pcap for the agent's audio
    # keys come after the transfer (the bridge takes well under a second); typed ahead of
    # the intro's end, they are kept for the questions
    dtmf_at(workdir / "answers.pcap", [(3.0, "4"), (3.4, "1")])
    for name in ("invalid", "early", "optout"):
        dtmf_at(workdir / f"{name}.pcap", [(0.5, "1")])
    customer = SippPeer(SCENARIO, workdir, calls=1, timeout=90)
    agent = SippPeer(Path(__file__).parent / "scenarios" / "agent.xml", workdir, calls=1)
    user = auth.create_user(db, "agent-t", "password-1", Role.AGENT, sip_uri=agent.uri("t"))
    assert user.id is not None
    seen: list[ev.SipEvent] = []
    pushed: list[dict[str, Any]] = []
    side: set[asyncio.Task[None]] = set()
    try:
        await asyncio.sleep(0.3)  # let SIPp bind
        sip_cfg = SipConfig(
            rtp_port_start=random.randrange(30000, 38000, 400),
            trunk=TrunkConfig("127.0.0.1", customer.port),
        )
        pool_cfg = PoolConfig(sip_cfg, min_workers=1, max_workers=2)
        async with SipPool(pool_cfg, on_event=seen.append) as pool:
            settings = engine_settings(cid, "progressive", 1, tmp_path / "data")
            ivr = IvrRunner(db, pool, cid, tmp_path / "data", language="zh", speech_rate=RATE)
            eng: CampaignEngine

            async def transfer_then_dispose(call_id: str) -> None:
                await asyncio.sleep(0.2)
                await eng.transfer_to_ivr("a1", call_id)
                # wrap-up starts at the transfer: the agent disposes while the survey runs
                await eng.disposition("a1", call_id, "sale", final=True)

            def push(agent_id: str, msg: dict[str, Any]) -> None:
                pushed.append(msg)
                if agent_id == "a1" and msg["type"] == "call_connected":
                    task = asyncio.create_task(transfer_then_dispose(msg["call_id"]))
                    side.add(task)
                    task.add_done_callback(side.discard)

            eng = CampaignEngine(db, pool, settings, gate_for(db, cid), ivr=ivr, push=push)
            await eng.start(dialing=False)
            await eng.agent_login("a1", user.id, agent.uri("t"))
            eng.resume()
            await until(lambda: eng.finished == 1 and not ivr.calls and not side, 60, "the call")
            agent_state = eng.core.agents["a1"].machine.state
            await eng.stop(drain_timeout=5)
        results = customer.wait(20), agent.wait(20)
    finally:
        customer.kill()
        agent.kill()
        (tmp_path / "sip-events.txt").write_text("\n".join(map(repr, seen)))

    for result in results:  # the agent got our BYE at the transfer; the customer at the end
        assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.stderr
    (call_id,) = {e.call_id for e in seen if isinstance(e, ev.CallAnswered)}
    kinds = [type(e) for e in seen if getattr(e, "call_id", "") == call_id]
    assert (
        kinds.index(ev.AgentLegBridged)
        < kinds.index(ev.AgentLegEnded)
        < kinds.index(ev.DtmfReceived)
    )
    assert [e.bridged for e in seen if isinstance(e, ev.AgentLegEnded)] == [True]
    assert [m["type"] for m in pushed].count("call_transferred") == 1
    resp = responses(db)[number]
    assert (resp.status, resp.channel) == ("completed", "ivr")
    assert rows(db, "SELECT agent_id FROM survey_responses")[0].agent_id == user.id
    assert answers(db, resp.id) == {"recommend": (4, False), "resolved": (True, False)}
    played = prompts_played(ivr, QUICK, seen, call_id)
    assert played == ["intro", "q:recommend", "q:resolved", "thanks"]
    (att,) = rows(db, "SELECT state, final, agent_user_id, disposition FROM attempts")
    assert (att.state, bool(att.final), att.agent_user_id, att.disposition) == (
        "completed",
        True,
        user.id,
        "sale",
    )
    assert rows(db, "SELECT status FROM contacts")[0].status == "done"
    assert agent_state is AgentState.READY  # disposed during the survey, ready again
