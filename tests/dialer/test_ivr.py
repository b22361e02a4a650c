"""The survey IVR's durability barrier (issue 11.2): an answer is committed before the call
moves on. A fake SIP port plays the prompts (real WAVs made by espeak-ng + sox) and, as each
one starts, reads the answers another connection sees: the next question is only asked, and
the thank-you only played, once the previous answers are committed. Over SIPp:
tests/dialer/test_ivr_sip.py."""

from __future__ import annotations

import asyncio
import wave
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dialdata
import pytest
from dialdata import rows, until
from sqlalchemy.engine import Engine

from campaigns import rules, survey_store, surveys
from campaigns import store as campaigns
from dialer import actions as act
from dialer.errors import IvrPromptFailed
from dialer.ivr import SHIPPED, IvrRunner, PromptCache, shipped_prompt
from sip import events as ev

NUMBER = "+8613800000051"
RATE = 320  # espeak-ng words per minute: short prompts
QUICK = surveys.Survey(
    name="barrier_check",
    title_zh="回访",
    title_en="follow-up",
    questions=(
        surveys.Question("recommend", surveys.QuestionKind.SCALE, "您会推荐我们吗？", "Would you?"),
        surveys.Question("resolved", surveys.QuestionKind.YES_NO, "问题解决了吗？", "Resolved?"),
    ),
)


def survey_campaign(db: Engine) -> int:
    spec = rules.parse_campaign(
        {
            "name": "ivr_barrier",
            "kind": "satisfaction_survey",
            "mode": "agentless",
            "caller_id": "+8610010000",
            "survey": QUICK.name,
        }
    )
    camp, _version = campaigns.save_spec(db, spec)
    assert camp.id is not None
    dialdata.add_contacts(db, camp.id, [NUMBER], (dialdata.afternoon_zone(datetime.now(UTC)),))
    return camp.id


class PromptPort:
    """Plays every prompt at once; notes which answers were committed when each began."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self.ivr: IvrRunner | None = None
        self.played: list[tuple[str, set[str]]] = []  # (wav, committed question ids)

    async def play_prompt(self, call_id: str, wav: str) -> None:
        committed = {
            r.question_id
            for r in await asyncio.to_thread(
                rows, self.db, "SELECT question_id FROM survey_answers"
            )
        }
        self.played.append((wav, committed))
        assert self.ivr is not None
        asyncio.get_running_loop().call_soon(self.ivr.on_event, ev.PromptFinished(call_id, wav))

    async def hangup(self, call_id: str) -> None:
        assert self.ivr is not None
        ended = ev.CallEnded(call_id, ev.Outcome.ANSWERED, 200, "bye", ev.HungUpBy.US, 1.0)
        asyncio.get_running_loop().call_soon(self.ivr.on_event, ended)

    async def start_recording(self, call_id: str, path: str) -> None:
        raise AssertionError("this survey records nothing")

    async def stop_recording(self, call_id: str, path: str) -> None:
        raise AssertionError("this survey records nothing")


@pytest.mark.timeout(60)
async def test_the_next_prompt_plays_only_after_the_answer_is_committed(
    engine: Engine, tmp_path: Path
) -> None:
    survey_store.save_survey(engine, QUICK)
    cid = survey_campaign(engine)
    contact_id = rows(engine, "SELECT id FROM contacts")[0].id
    port = PromptPort(engine)
    ivr = IvrRunner(engine, port, cid, tmp_path / "data", language="zh", speech_rate=RATE)
    port.ivr = ivr
    ivr.start("call-1", act.Lead(contact_id, NUMBER))
    for digit in "41":  # typed ahead: each question takes the next key
        ivr.on_event(ev.DtmfReceived("call-1", digit, "rfc4733"))
    await until(lambda: not ivr.calls or ivr.calls["call-1"].status, 30, "the survey")
    await ivr.drain(timeout=10)
    names = {
        str(ivr.prompts.path(QUICK, pid, "zh")): pid for pid, _zh, _en in surveys.prompts(QUICK)
    }
    seen = [(names[wav], committed) for wav, committed in port.played]
    assert [pid for pid, _ in seen] == ["intro", "q:recommend", "q:resolved", "thanks"]
    when = dict(seen)
    assert when["q:recommend"] == set()
    assert when["q:resolved"] == {"recommend"}  # committed before the next question
    assert when["thanks"] == {"recommend", "resolved"}


# --- pre-rendered prompts (issue 17): the sample survey plays without espeak-ng ------------
def no_tts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH where neither espeak-ng nor sox can be found, as on a machine without them."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_template_prompts_play_without_espeak(
    language: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_tts(monkeypatch, tmp_path)
    made = PromptCache(tmp_path / "prompts").warm(surveys.SEED_TEMPLATE, language)
    assert len(made) == len(surveys.prompts(surveys.SEED_TEMPLATE)) == 11
    assert len(set(made)) == 11  # one recording per prompt, none shared
    for path in made:
        assert path.parent == SHIPPED / language  # shipped, not synthesized into the data dir
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert 0.5 < w.getnframes() / 8000 < 8.0
    assert not (tmp_path / "prompts").exists()


def test_custom_text_still_needs_synthesis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_tts(monkeypatch, tmp_path)
    edited = replace(
        surveys.SEED_TEMPLATE,
        questions=(surveys.Question("q1", surveys.QuestionKind.SCALE, "您满意吗？", "Happy?"),),
    )
    cache = PromptCache(tmp_path / "prompts")
    assert cache.path(edited, "thanks", "zh").parent == SHIPPED / "zh"  # same words: shipped
    with pytest.raises(IvrPromptFailed, match="cannot make prompt WAV"):
        cache.path(edited, "q:q1", "zh")  # new words: synthesis, which needs espeak-ng


def test_shipped_prompts_are_exactly_the_template() -> None:
    """Editing the template's words without re-running scripts/render_prompts.py fails here
    (the demo would otherwise need espeak-ng again); no stale file is shipped either."""
    wanted = {
        shipped_prompt(text, lang)
        for _pid, zh, en in surveys.prompts(surveys.SEED_TEMPLATE)
        for lang, text in (("zh", zh), ("en", en))
    }
    assert set(SHIPPED.glob("*/*.wav")) == wanted
