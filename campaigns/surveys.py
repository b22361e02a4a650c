"""Satisfaction surveys, pure: definitions, the seeds' template, the IVR flow and results math.

The IVR flow is a state machine in the style of h11: ``step(survey, state, event)`` returns
the next state and the actions the dialing engine performs, in order. The engine plays
prompts, collects RFC 4733 / SIP INFO digits, records audio and drives timers; it must
commit every ``SaveAnswer`` / ``SkipQuestion`` / ``AddToDnc`` before it performs the actions
after it (issue 7: a crash never loses an entered result). Nothing here does I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.errors import SurveyInvalid
from outdial.text import name_problem


class QuestionKind(StrEnum):
    SCALE = "scale"  # 1-5, 1-10 or 0-10 (NPS)
    YES_NO = "yes_no"  # key 1 = yes, 2 = no
    CHOICE = "choice"  # keys 1..n
    OPEN = "open"  # free text (agent) or recorded audio (IVR)


SCALES = ((1, 5), (1, 10), (0, 10))
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    zh: str
    en: str
    low: int = 1
    high: int = 5
    choices: tuple[tuple[str, str], ...] = ()  # (zh, en) per choice, keyed 1..n

    def valid_keys(self) -> list[str]:
        """Every complete key entry this question accepts over IVR."""
        if self.kind is QuestionKind.SCALE:
            return [str(v) for v in range(self.low, self.high + 1)]
        if self.kind is QuestionKind.YES_NO:
            return ["1", "2"]
        if self.kind is QuestionKind.CHOICE:
            return [str(i) for i in range(1, len(self.choices) + 1)]
        return []


@dataclass(frozen=True)
class Survey:
    name: str
    questions: tuple[Question, ...]
    title_zh: str = ""
    title_en: str = ""
    opt_out_key: str = "*"  # rule 4 / rule 9: a key-press opt-out adds the number to DNC
    repeats: int = 2  # re-asks after an invalid or missing key before skipping
    key_timeout_s: int = 6
    inter_digit_s: int = 3
    record_seconds: int = 60

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise SurveyInvalid(f"survey {self.name!r} has no question {qid!r}", question=qid)


def _q(qid: str, zh: str, en: str, kind: QuestionKind = QuestionKind.SCALE) -> Question:
    return Question(qid, kind, zh, en)


_SEED = (
    (
        "overall",
        "您对本次服务的总体质量是否满意？",
        "Overall, how satisfied are you with the service?",
    ),
    ("waiting", "您对等待时间是否满意？", "How satisfied are you with the waiting time?"),
    (
        "skill",
        "您对座席的产品知识和业务技能是否满意？",
        "Rate the agent's product knowledge and skill.",
    ),
    (
        "solution",
        "您认为提供的解决方案是否符合您的需要？",
        "How well did the solution fit your needs?",
    ),
    (
        "attitude",
        "您对座席的声音、语气、礼貌和态度是否满意？",
        "Rate the agent's voice, tone and courtesy.",
    ),
)
#: shared/domain.md: the seeds' six questions, five 1-5 scales and one open comment
SEED_TEMPLATE = Survey(
    name="seed_satisfaction",
    title_zh="客户满意度调查",
    title_en="Customer satisfaction survey",
    questions=(
        *(_q(qid, zh, en) for qid, zh, en in _SEED),
        _q("comment", "您还有什么意见或建议？", "Any other comments?", QuestionKind.OPEN),
    ),
)


def parse_survey(data: Mapping[str, object]) -> Survey:
    """Validate a survey definition (the shape ``survey_to_dict`` writes)."""
    name = str(data.get("name", "")).strip()
    if name_problem(name):
        raise SurveyInvalid(f"name: {name_problem(name)}", field="name")
    if not name:
        raise SurveyInvalid("a survey needs a name", field="name")
    raw = data.get("questions")
    if not isinstance(raw, list) or not raw:
        raise SurveyInvalid("a survey needs a non-empty list of questions", field="questions")
    questions = tuple(_question(i, r) for i, r in enumerate(raw))
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise SurveyInvalid("question ids must be unique", field="questions")
    key = str(data.get("opt_out_key", "*"))
    if key not in "0123456789*#" or len(key) != 1 or key == "#":
        raise SurveyInvalid("opt_out_key must be one of 0-9 or *", field="opt_out_key")
    if any(key in q.valid_keys() or key in "".join(q.valid_keys()) for q in questions):
        raise SurveyInvalid(f"opt_out_key {key!r} is also an answer key", field="opt_out_key")
    repeats = data.get("repeats", 2)
    if not isinstance(repeats, int) or not 0 <= repeats <= 5:
        raise SurveyInvalid("repeats must be 0-5", field="repeats")
    timings = {name: _seconds(data, name, default, high) for name, default, high in _TIMINGS}
    return Survey(
        name=name,
        questions=questions,
        title_zh=str(data.get("title_zh", "")),
        title_en=str(data.get("title_en", "")),
        opt_out_key=key,
        repeats=repeats,
        **timings,
    )


#: (field, default, upper bound in seconds) of the IVR timings a stored survey keeps
_TIMINGS = (("key_timeout_s", 6, 60), ("inter_digit_s", 3, 30), ("record_seconds", 60, 600))


def _seconds(data: Mapping[str, object], name: str, default: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise SurveyInvalid(f"{name} must be a whole number of seconds, 1-{high}", field=name)
    return value


def _question(i: int, raw: object) -> Question:
    where = f"questions[{i}]"
    if not isinstance(raw, Mapping):
        raise SurveyInvalid(f"{where} must be an object", field=where)
    qid = str(raw.get("id", ""))
    if not _ID.match(qid):
        raise SurveyInvalid(f"{where}: id must be lower-case letters, digits, _", field=where)
    try:
        kind = QuestionKind(str(raw.get("kind", "")))
    except ValueError as exc:
        kinds = ", ".join(QuestionKind)
        raise SurveyInvalid(f"{where}: kind must be one of {kinds}", field=where) from exc
    zh, en = str(raw.get("zh", "")).strip(), str(raw.get("en", "")).strip()
    if not zh or not en:
        raise SurveyInvalid(f"{where}: wording in both zh and en is required", field=where)
    low, high = raw.get("low", 1), raw.get("high", 5)
    if kind is QuestionKind.SCALE and (low, high) not in SCALES:
        raise SurveyInvalid(f"{where}: a scale is 1-5, 1-10 or 0-10", field=where)
    choices: tuple[tuple[str, str], ...] = ()
    if kind is QuestionKind.CHOICE:
        rc = raw.get("choices")
        if not isinstance(rc, list) or not 2 <= len(rc) <= 9:
            raise SurveyInvalid(f"{where}: a choice question has 2-9 choices", field=where)
        choices = tuple(
            (str(c.get("zh", "")), str(c.get("en", "")))
            if isinstance(c, Mapping)
            else (str(c),) * 2
            for c in rc
        )
    lo, hi = (int(str(low)), int(str(high))) if kind is QuestionKind.SCALE else (1, 5)
    return Question(qid, kind, zh, en, lo, hi, choices)


def survey_to_dict(s: Survey) -> dict[str, object]:
    return {
        "name": s.name,
        "title_zh": s.title_zh,
        "title_en": s.title_en,
        "opt_out_key": s.opt_out_key,
        "repeats": s.repeats,
        "key_timeout_s": s.key_timeout_s,
        "inter_digit_s": s.inter_digit_s,
        "record_seconds": s.record_seconds,
        "questions": [
            {
                "id": q.id,
                "kind": q.kind.value,
                "zh": q.zh,
                "en": q.en,
                **({"low": q.low, "high": q.high} if q.kind is QuestionKind.SCALE else {}),
                **(
                    {"choices": [{"zh": z, "en": e} for z, e in q.choices]}
                    if q.kind is QuestionKind.CHOICE
                    else {}
                ),
            }
            for q in s.questions
        ],
    }


def all_answered(s: Survey, answered: Iterable[str]) -> bool:
    """Has every question of ``s`` an answer (or an explicit skip)? Then the response is
    complete, whether or not the caller said so (issue 16.9)."""
    return {q.id for q in s.questions} <= set(answered)


MAX_OPEN_ANSWER = 4000


def validate_answer(q: Question, value: object) -> int | bool | str:
    """An agent-entered answer, normalised (scale/choice -> int, yes/no -> bool, open -> str)."""
    if q.kind is QuestionKind.OPEN:
        if not isinstance(value, str):
            raise SurveyInvalid(f"{q.id}: an open answer is text", question=q.id)
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            # issue 18 finding 9: stored text must always be exportable
            raise SurveyInvalid(f"{q.id}: the answer is not valid text", question=q.id)
        if len(value) > MAX_OPEN_ANSWER:
            raise SurveyInvalid(f"{q.id}: at most {MAX_OPEN_ANSWER} characters", question=q.id)
        return unicodedata.normalize("NFC", value.strip())
    if q.kind is QuestionKind.YES_NO:
        if not isinstance(value, bool):
            raise SurveyInvalid(f"{q.id}: answer true or false", question=q.id)
        return value
    hi = q.high if q.kind is QuestionKind.SCALE else len(q.choices)
    lo = q.low if q.kind is QuestionKind.SCALE else 1
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SurveyInvalid(f"{q.id}: answer a whole number from {lo} to {hi}", question=q.id)
    return value


# --- the IVR flow ---------------------------------------------------------------------------


class Phase(StrEnum):
    START = "start"
    ASKING = "asking"  # a question's prompt played; collecting keys
    RECORDING = "recording"  # an open question: recording the customer's answer
    DONE = "done"


@dataclass(frozen=True)
class IvrState:
    phase: Phase = Phase.START
    index: int = 0  # the question being asked
    tries: int = 0  # re-asks so far for this question
    buffer: str = ""  # digits of a multi-digit answer (0-10 scales) not yet complete
    status: str = ""  # once DONE: completed, opted_out, hung_up


# events the engine feeds in
@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class KeyPressed:
    key: str  # one DTMF key: 0-9 * # (RFC 4733 event or SIP INFO)


@dataclass(frozen=True)
class TimedOut:
    pass  # the last CollectKeys / RecordAudio timer ran out with nothing (more) entered


@dataclass(frozen=True)
class Recorded:
    ref: str  # where the engine stored the audio (a recording id or path)
    seconds: float


@dataclass(frozen=True)
class HungUp:
    pass


Event = Started | KeyPressed | TimedOut | Recorded | HungUp


# actions the engine performs, in order
@dataclass(frozen=True)
class PlayPrompt:
    prompt: str  # "intro", "q:<id>", "invalid", "no_input", "thanks", "opt_out"


@dataclass(frozen=True)
class CollectKeys:
    question_id: str
    timeout_s: int  # then send TimedOut


@dataclass(frozen=True)
class RecordAudio:
    question_id: str
    max_seconds: int  # "#" or silence ends it; then send Recorded, or TimedOut if nothing


@dataclass(frozen=True)
class SaveAnswer:
    question_id: str
    value: int | bool | str  # open answers: the recording ref


@dataclass(frozen=True)
class SkipQuestion:
    question_id: str  # no valid answer after every re-ask; the response stays partial


@dataclass(frozen=True)
class AddToDnc:
    reason: str = "ivr_opt_out"  # rules 4, 8, 9: at once, before anything else


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Finish:
    status: str  # completed, opted_out, hung_up: the response's final status


Action = (
    PlayPrompt | CollectKeys | RecordAudio | SaveAnswer | SkipQuestion | AddToDnc | Hangup | Finish
)


class IvrEventUnexpected(SurveyInvalid):
    """An event that cannot happen in this phase (e.g. Recorded while collecting keys)."""

    code = "ivr_event_unexpected"


def progress(state: IvrState) -> tuple[int, int, int, int]:
    """Grows strictly on every step that does not end the flow (the Hypothesis invariant)."""
    rank = {Phase.START: 0, Phase.ASKING: 1, Phase.RECORDING: 1, Phase.DONE: 2}[state.phase]
    return (state.index, state.tries, rank, len(state.buffer))


def step(s: Survey, st: IvrState, ev: Event) -> tuple[IvrState, tuple[Action, ...]]:
    """Advance the IVR survey by one event."""
    if st.phase is Phase.DONE:
        return st, ()
    if isinstance(ev, HungUp):
        return replace(st, phase=Phase.DONE, status="hung_up"), (Finish("hung_up"),)
    if st.phase is Phase.START:
        if not isinstance(ev, Started):
            raise IvrEventUnexpected(f"{type(ev).__name__} before Started")
        return _ask(s, IvrState(Phase.ASKING), (PlayPrompt("intro"),))
    if isinstance(ev, Started):
        raise IvrEventUnexpected("Started twice")
    q = s.questions[st.index]
    if st.phase is Phase.RECORDING:
        if isinstance(ev, Recorded):
            return _next(s, st, (SaveAnswer(q.id, ev.ref),))
        if isinstance(ev, TimedOut):
            return _retry(s, st, "no_input")
        raise IvrEventUnexpected(f"{type(ev).__name__} while recording")
    if isinstance(ev, Recorded):
        raise IvrEventUnexpected("Recorded while collecting keys")
    if isinstance(ev, TimedOut):
        if st.buffer and st.buffer in q.valid_keys():
            return _answer(s, st, q, st.buffer)
        return _retry(s, st, "invalid" if st.buffer else "no_input")
    return _key(s, st, q, ev.key)


def _key(s: Survey, st: IvrState, q: Question, key: str) -> tuple[IvrState, tuple[Action, ...]]:
    if key == s.opt_out_key:
        done = replace(st, phase=Phase.DONE, status="opted_out", buffer="")
        return done, (AddToDnc(), PlayPrompt("opt_out"), Hangup(), Finish("opted_out"))
    valid = q.valid_keys()
    if key == "#":
        if st.buffer in valid:
            return _answer(s, st, q, st.buffer)
        return _retry(s, st, "invalid")
    entry = st.buffer + key
    longer = any(v.startswith(entry) and v != entry for v in valid)
    if longer:  # e.g. "1" on a 0-10 scale may become "10": wait for one more digit
        return replace(st, buffer=entry), (CollectKeys(q.id, s.inter_digit_s),)
    if entry in valid:
        return _answer(s, st, q, entry)
    return _retry(s, st, "invalid")


def _answer(
    s: Survey, st: IvrState, q: Question, entry: str
) -> tuple[IvrState, tuple[Action, ...]]:
    value: int | bool = entry == "1" if q.kind is QuestionKind.YES_NO else int(entry)
    return _next(s, st, (SaveAnswer(q.id, value),))


def _retry(s: Survey, st: IvrState, why: str) -> tuple[IvrState, tuple[Action, ...]]:
    q = s.questions[st.index]
    if st.tries >= s.repeats:
        return _next(s, st, (SkipQuestion(q.id),))
    return _ask(s, replace(st, tries=st.tries + 1, buffer=""), (PlayPrompt(why),))


def _next(
    s: Survey, st: IvrState, before: tuple[Action, ...]
) -> tuple[IvrState, tuple[Action, ...]]:
    if st.index + 1 >= len(s.questions):
        done = replace(st, phase=Phase.DONE, status="completed", buffer="", index=st.index + 1)
        return done, (*before, PlayPrompt("thanks"), Hangup(), Finish("completed"))
    return _ask(s, IvrState(Phase.ASKING, st.index + 1), before)


def _ask(
    s: Survey, st: IvrState, before: tuple[Action, ...]
) -> tuple[IvrState, tuple[Action, ...]]:
    q = s.questions[st.index]
    play = PlayPrompt(f"q:{q.id}")
    if q.kind is QuestionKind.OPEN:
        return replace(st, phase=Phase.RECORDING), (
            *before,
            play,
            RecordAudio(q.id, s.record_seconds),
        )
    return replace(st, phase=Phase.ASKING), (*before, play, CollectKeys(q.id, s.key_timeout_s))


def prompts(s: Survey) -> list[tuple[str, str, str]]:
    """(prompt id, zh, en) for every prompt the flow may ask the engine to play."""
    fixed = [
        ("intro", f"您好，这里是{s.title_zh}。", f"Hello, this is the {s.title_en}."),
        ("invalid", "输入无效，请重新输入。", "That key is not valid; please try again."),
        ("no_input", "没有收到您的按键。", "We did not receive a key press."),
        ("thanks", "感谢您的参与，再见。", "Thank you for your time. Goodbye."),
        ("opt_out", "我们不会再致电您，再见。", "We will not call you again. Goodbye."),
    ]
    return fixed + [(f"q:{q.id}", q.zh, q.en) for q in s.questions]


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerFact:
    """One stored answer with what results are grouped by.

    Its :attr:`day` is the calendar day of ``answered_at`` in ``zone``: the campaign's time
    zone (the call centre's own day, so 23:30 UTC is already tomorrow in Asia/Shanghai), or
    UTC for an answer given outside any campaign.
    """

    question_id: str
    value: object
    campaign: str = ""
    agent: str = ""
    answered_at: datetime | None = None  # aware
    zone: str = "UTC"  # an IANA key, e.g. the campaign's CampaignSpec.timezone

    def __post_init__(self) -> None:
        if self.answered_at is not None and self.answered_at.tzinfo is None:
            # a naive instant would be read in the host's zone, not UTC
            raise SurveyInvalid("answered_at must be an aware datetime", field="answered_at")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SurveyInvalid(f"unknown time zone {self.zone!r}", field="zone") from exc

    @property
    def day(self) -> date | None:
        if self.answered_at is None:
            return None
        return self.answered_at.astimezone(ZoneInfo(self.zone)).date()


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    kind: str
    count: int
    mean: float | None = None
    distribution: dict[str, int] = field(default_factory=dict)
    top_box_share: float | None = None  # share at the scale's top value
    csat: float | None = None  # share in the top two boxes (4-5 of 5; 9-10 of 10), 0..1
    nps: float | None = None  # 0-10 only: % promoters (9-10) - % detractors (0-6), -100..100
    yes_share: float | None = None
    open_answers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if v is not None}
        d["open_answers"] = list(self.open_answers)
        return d


def question_stats(q: Question, values: Sequence[object]) -> QuestionStats:
    """Satisfaction per question (shared/domain.md): mean, distribution, top box, CSAT, NPS."""
    if q.kind is QuestionKind.OPEN:
        texts = tuple(str(v) for v in values if str(v).strip())
        return QuestionStats(q.id, q.kind.value, len(texts), open_answers=texts)
    if q.kind is QuestionKind.YES_NO:
        return counted_stats(q, Counter(bool(v) for v in values))
    return counted_stats(q, Counter(int(str(v)) for v in values))


def counted_stats(q: Question, counts: Mapping[Any, int]) -> QuestionStats:
    """:func:`question_stats` of answers already counted (value -> how many): a yes/no
    question's True/False, a scale's or a choice's numbers (campaigns/survey_sql.py has the
    database count them). Open questions are not counted here."""
    if q.kind is QuestionKind.YES_NO:
        yes = counts.get(True, 0)
        n = yes + counts.get(False, 0)
        dist = {"yes": yes, "no": n - yes}
        return QuestionStats(
            q.id, q.kind.value, n, distribution=dist, yes_share=yes / n if n else None
        )
    lo, hi = (q.low, q.high) if q.kind is QuestionKind.SCALE else (1, len(q.choices))
    dist = {str(k): counts.get(k, 0) for k in range(lo, hi + 1)}
    n = sum(counts.values())
    if q.kind is QuestionKind.CHOICE or not n:
        return QuestionStats(q.id, q.kind.value, n, distribution=dist)
    nps = None
    if (lo, hi) == (0, 10):  # NPS is defined on the 0-10 "would you recommend" scale only
        promoters = sum(k for v, k in counts.items() if v >= 9)
        detractors = sum(k for v, k in counts.items() if v <= 6)
        nps = 100.0 * (promoters - detractors) / n
    return QuestionStats(
        q.id,
        q.kind.value,
        n,
        mean=sum(v * k for v, k in counts.items()) / n,
        distribution=dist,
        top_box_share=counts.get(hi, 0) / n,
        csat=sum(k for v, k in counts.items() if v >= hi - 1) / n,
        nps=nps,
    )


GROUPS = ("campaign", "agent", "day")


def results(
    s: Survey, facts: Iterable[AnswerFact], by: str | None = None
) -> dict[str, list[QuestionStats]]:
    """Stats per question, overall (key ``"all"``) or grouped by campaign, agent or day.

    Day keys are ISO dates, each answer's :attr:`AnswerFact.day` (its campaign's local day).
    """
    if by is not None and by not in GROUPS:
        raise SurveyInvalid(f"group by one of {', '.join(GROUPS)}", field="by")
    grouped: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for f in facts:
        key = "all" if by is None else str(getattr(f, by) or "")
        grouped[key][f.question_id].append(f.value)
    return {
        key: [question_stats(q, per_q.get(q.id, [])) for q in s.questions]
        for key, per_q in sorted(grouped.items())
    }
