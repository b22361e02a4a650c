"""What the survey team reads (issue 14): a filtered view of a survey's responses, pure.

The console's results, open answers and exports all come from :func:`view`: responses in,
filters in, numbers out. No I/O and no clock: a response's day is its start instant read in
its campaign's time zone (``ResponseFact.zone``), so "today" in Asia/Shanghai starts at
16:00 UTC the day before. Per-question math is campaigns/surveys.py ``question_stats``
(shared/domain.md: mean, top-box share, distribution, CSAT; NPS on 0-10 questions).

Definitions used here:

- **offered**: surveys started (an agent opened the form or the IVR took the call);
  **completed**: responses whose status is ``completed``; **response rate** = completed /
  offered.
- **IVR drop-off** at a question: IVR responses that ended (hung up, opted out, left
  partial) at that question, i.e. it is the first one with neither an answer nor a skip,
  divided by the IVR responses that reached it.
- **headline CSAT**: the CSAT (top two boxes) of the survey's first scale question (the
  seeds' "overall" question); **NPS**: that of the first 0-10 question, if there is one.
- Phone numbers are masked (last four digits kept) everywhere in a view, comments included:
  the survey team reads results, never numbers (issue 14).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.errors import SurveyInvalid
from campaigns.surveys import Question, QuestionKind, QuestionStats, Survey, question_stats
from outdial.logs import mask_text

CHANNELS = ("agent", "ivr")


class Period(StrEnum):
    """A calendar span in the campaign's time zone; weeks start on Monday (glossary.md)."""

    ALL = ""
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class ResponseFact:
    """One response as stored: who, where, when, and its answers (skips apart)."""

    id: int
    campaign: str
    agent: str
    channel: str  # agent, ivr
    status: str  # partial, completed, opted_out, hung_up
    started_at: datetime  # aware
    zone: str = "UTC"  # the campaign's IANA zone (UTC outside any campaign)
    phone: str = ""
    answers: Mapping[str, object] = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise SurveyInvalid("started_at must be an aware datetime", field="started_at")

    @property
    def day(self) -> date:
        return self.started_at.astimezone(ZoneInfo(self.zone)).date()


def period_span(period: Period, on: date) -> tuple[date, date]:
    """[first, last] calendar days of the day, Monday-start week or month holding ``on``."""
    if period is Period.DAY:
        return on, on
    if period is Period.WEEK:
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=6)
    if period is Period.MONTH:
        start = on.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt - timedelta(days=1)
    return date.min, date.max


@dataclass(frozen=True)
class Filters:
    """The survey team's choices; empty means "all"."""

    campaign: str = ""
    agent: str = ""
    channel: str = ""
    period: Period = Period.ALL
    on: date | None = None  # the day the period holds (the page's default: today)
    score_question: str = ""  # whose score ``scores`` filters on (default: headline question)
    scores: frozenset[int] = frozenset()  # e.g. {1, 2}: "show me every 1 or 2"

    def check(self, survey: Survey) -> None:
        """A clear error for a choice that cannot apply (a 400 in the console)."""
        if self.channel and self.channel not in CHANNELS:
            raise SurveyInvalid("channel is agent or ivr", field="channel")
        if self.period is not Period.ALL and self.on is None:
            raise SurveyInvalid("a period needs a day it holds", field="on")
        if self.scores:
            q = scored_question(survey, self.score_question)
            if q is None:
                raise SurveyInvalid("this survey has no scale question to filter on", field="q")
            if any(not q.low <= s <= q.high for s in self.scores):
                raise SurveyInvalid(
                    f"{q.id} is scored {q.low}-{q.high}", field="score", question=q.id
                )


def scale_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.questions if q.kind is QuestionKind.SCALE]


def scored_question(survey: Survey, qid: str = "") -> Question | None:
    """The scale question named ``qid``, or the survey's first scale question."""
    scales = scale_questions(survey)
    if qid:
        found = [q for q in scales if q.id == qid]
        if not found:
            raise SurveyInvalid(f"no scale question {qid!r} in this survey", field="q")
        return found[0]
    return scales[0] if scales else None


def select(survey: Survey, facts: Iterable[ResponseFact], f: Filters) -> list[ResponseFact]:
    """The responses the filters keep, oldest first."""
    f.check(survey)
    first, last = period_span(f.period, f.on) if f.on else (date.min, date.max)
    q = scored_question(survey, f.score_question) if f.scores else None
    kept = []
    for r in facts:
        if f.campaign and r.campaign != f.campaign:
            continue
        if f.agent and r.agent != f.agent:
            continue
        if f.channel and r.channel != f.channel:
            continue
        if not first <= r.day <= last:
            continue
        if q is not None and _score(r, q) not in f.scores:
            continue
        kept.append(r)
    return sorted(kept, key=lambda r: (r.started_at, r.id))


def _score(r: ResponseFact, q: Question) -> int | None:
    v = r.answers.get(q.id)
    return v if fits(q, v) and isinstance(v, int) else None


@dataclass(frozen=True)
class DropOff:
    question_id: str
    reached: int  # IVR responses that were asked this question
    dropped: int  # of those, ended here without an answer or a skip
    share: float | None  # dropped / reached


@dataclass(frozen=True)
class OpenAnswer:
    response_id: int
    question_id: str
    campaign: str
    agent: str
    channel: str
    day: date
    phone: str  # masked
    score: int | None  # the headline question's score, to read a comment against it
    text: str = ""  # typed by an agent (masked)
    clip: str = ""  # an IVR recording's reference (a path under the data dir)


@dataclass(frozen=True)
class View:
    responses: tuple[ResponseFact, ...]
    offered: int
    completed: int
    response_rate: float | None
    questions: tuple[QuestionStats, ...]
    headline: str  # the question the headline CSAT is of ("" if none)
    csat: float | None
    nps: float | None
    drop_off: tuple[DropOff, ...]
    open_answers: tuple[OpenAnswer, ...]  # the newest ``open_limit``
    open_total: int  # every open answer the filters keep


#: open answers a page lists (newest first); the export holds every one
OPEN_LIMIT = 500


def view(
    survey: Survey, facts: Iterable[ResponseFact], f: Filters, open_limit: int = OPEN_LIMIT
) -> View:
    """Everything the results and open-answers pages show for these filters."""
    kept = select(survey, facts, f)
    stats = tuple(
        question_stats(q, [r.answers[q.id] for r in kept if fits(q, r.answers.get(q.id))])
        for q in survey.questions
    )
    completed = sum(1 for r in kept if r.status == "completed")
    head = scored_question(survey)
    nps_q = next((q for q in scale_questions(survey) if (q.low, q.high) == (0, 10)), None)
    by_id = {s.question_id: s for s in stats}
    return View(
        responses=tuple(kept),
        offered=len(kept),
        completed=completed,
        response_rate=completed / len(kept) if kept else None,
        questions=stats,
        headline=head.id if head else "",
        csat=by_id[head.id].csat if head else None,
        nps=by_id[nps_q.id].nps if nps_q else None,
        drop_off=drop_off(survey, [r for r in kept if r.channel == "ivr"]),
        open_answers=open_answers(survey, kept, open_limit),
        open_total=sum(s.count for s in stats if s.kind == QuestionKind.OPEN.value),
    )


@dataclass(frozen=True)
class Group:
    """One line of a comparison: responses of one campaign, agent or calendar period."""

    key: str
    offered: int
    completed: int
    answers: int  # answers to the headline question
    mean: float | None  # of the headline question
    csat: float | None  # of the headline question (top two boxes)


def bucket(period: Period, day: date) -> str:
    """The calendar period a day falls in: the day, its week's Monday, or YYYY-MM."""
    if period is Period.WEEK:
        return (day - timedelta(days=day.weekday())).isoformat()
    if period is Period.MONTH:
        return day.strftime("%Y-%m")
    return day.isoformat()


def compare(survey: Survey, kept: Sequence[ResponseFact], by: str) -> tuple[Group, ...]:
    """The kept responses grouped ``by`` "campaign", "agent" or a :class:`Period` value
    (the trend: "day", "week", "month"), sorted by key; the headline question's numbers."""
    head = scored_question(survey)
    groups: dict[str, list[ResponseFact]] = {}
    for r in kept:
        if by in ("campaign", "agent"):
            key = str(getattr(r, by))
        else:
            key = bucket(Period(by or "day"), r.day)
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in sorted(groups.items()):
        values = [r.answers.get(head.id) for r in rs] if head else []
        st = question_stats(head, [v for v in values if fits(head, v)]) if head else None
        out.append(
            Group(
                key,
                len(rs),
                sum(1 for r in rs if r.status == "completed"),
                st.count if st else 0,
                st.mean if st else None,
                st.csat if st else None,
            )
        )
    return tuple(out)


def fits(q: Question, value: object) -> bool:
    """Is a stored answer one this question's type takes? An answer stored before the survey
    was edited (a comment, then the question made a scale) is left out of the numbers."""
    if q.kind is QuestionKind.OPEN:
        return isinstance(value, str)
    if q.kind is QuestionKind.YES_NO:
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    high = q.high if q.kind is QuestionKind.SCALE else len(q.choices)
    low = q.low if q.kind is QuestionKind.SCALE else 1
    return low <= value <= high


def drop_off(survey: Survey, ivr: Sequence[ResponseFact]) -> tuple[DropOff, ...]:
    """Where IVR customers stopped: per question, reached and dropped (see the module doc)."""
    n = len(survey.questions)
    stops = []
    for r in ivr:
        done = set(r.answers) | r.skipped
        first_gap = next((i for i, q in enumerate(survey.questions) if q.id not in done), n)
        stops.append(n if r.status == "completed" else first_gap)
    out = []
    for i, q in enumerate(survey.questions):
        reached = sum(1 for s in stops if s >= i)
        dropped = sum(1 for s in stops if s == i)
        out.append(DropOff(q.id, reached, dropped, dropped / reached if reached else None))
    return tuple(out)


def open_answers(
    survey: Survey, kept: Sequence[ResponseFact], limit: int = OPEN_LIMIT
) -> tuple[OpenAnswer, ...]:
    """Comments typed by agents and IVR recordings, newest first, at most ``limit``."""
    head = scored_question(survey)
    out: list[OpenAnswer] = []
    for r in reversed(kept):
        if len(out) >= limit:
            break
        for q in survey.questions:
            value = r.answers.get(q.id)
            if q.kind is not QuestionKind.OPEN or not isinstance(value, str) or not value.strip():
                continue
            ivr = r.channel == "ivr"
            out.append(
                OpenAnswer(
                    r.id,
                    q.id,
                    r.campaign,
                    r.agent,
                    r.channel,
                    r.day,
                    mask_phone(r.phone),
                    _score(r, head) if head else None,
                    text="" if ivr else mask_text(value),
                    clip=value if ivr else "",
                )
            )
    return tuple(out[:limit])


def mask_phone(phone: str) -> str:
    """Every digit but the last four starred (all of them in a number of four or fewer)."""
    keep, seen, out = max(0, sum(c.isdigit() for c in phone) - 4), 0, []
    for c in phone:
        if c.isdigit():
            out.append(c if seen >= keep and keep > 0 else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


HEADER = ("response", "campaign", "agent", "channel", "status", "day", "phone")


def table(survey: Survey, v: View) -> list[list[object]]:
    """The current view as rows for outdial/exports.py (which escapes formula cells): one
    row per response, one column per question; numbers stay numbers, phones masked."""
    rows: list[list[object]] = [[*HEADER, *(q.id for q in survey.questions)]]
    for r in v.responses:
        meta: list[object] = [
            r.id,
            r.campaign,
            r.agent,
            r.channel,
            r.status,
            r.day.isoformat(),
            mask_phone(r.phone),
        ]
        rows.append(meta + [_cell(q, r) for q in survey.questions])
    return rows


def _cell(q: Question, r: ResponseFact) -> object:
    if q.id in r.skipped:
        return ""
    v = r.answers.get(q.id, "")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str) and q.kind is QuestionKind.OPEN and r.channel != "ivr":
        return mask_text(v)
    return v
