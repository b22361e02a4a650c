"""The survey results page's numbers, counted by the database (issue: slow past ~20 k responses).

campaigns/survey_results.py ``view`` reads every response and answer into Python (1 s at
20 k responses, 14 s at 200 k). Here the database does the counting and hands back counts:

1. One pass over the survey's answers makes a temporary table with one row per response
   (its campaign, agent, channel, status, time, local day, which questions it reached, and
   each question's stored answer as JSON text): :func:`_responses`.
2. Small grouped queries over that table, filters applied in SQL: "cells" (responses per
   campaign, agent, channel, status, day, questions reached and headline answer), each
   question's answers per stored value, the number of open answers, and the newest page of
   open answers.
3. Python turns those counts into the same :class:`survey_results.View` and comparison
   groups, through the same math (campaigns/surveys.py ``question_stats``,
   survey_results.py ``fits``), so the numbers are the ones the old path gives
   (tests/campaigns/test_survey_sql.py compares both on SQLite and PostgreSQL).

A response's day is the calendar day, in its campaign's time zone, of its first answer (its
start without one), as in survey_store.py ``response_facts``. Time zones are applied in SQL
as an offset per campaign and per stretch between two of the zone's clock changes
(:func:`zone_offsets`), read from the zone database for the span of the survey's responses.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from campaigns import store
from campaigns.models import SurveyAnswer, SurveyResponse
from campaigns.survey_results import (
    DropOff,
    Filters,
    Group,
    OpenAnswer,
    Period,
    View,
    bucket,
    fits,
    mask_phone,
    period_span,
    scale_questions,
    scored_question,
)
from campaigns.surveys import Question, QuestionKind, QuestionStats, Survey, counted_stats
from outdial.logs import mask_text
from outdial.models import User, as_utc

EPOCH = date(1970, 1, 1).toordinal()
DAY = 86400
#: answers come minutes after a response starts; a day count past this many days after the
#: survey's last start could use a zone's offset from before a later clock change
ANSWER_SPAN = timedelta(days=31)
#: A blank comment (only white space, ``str.strip``'s) is no answer. Its JSON text holds only
#: these escapes (json.dumps writes every non-ASCII character as one), spaces and quotes; texts
#: left with nothing else once they are removed are read in Python to tell a blank from, say,
#: "fab" (few distinct ones). Shorter prefixes cover runs (\u2000-\u200a, \u001c-\u001f).
BLANK_ESCAPES = ("\\u3000", "\\u00a0", "\\u200", "\\u202f", "\\u205f", "\\u2028",
                 "\\u2029", "\\u1680", "\\u0085", "\\u001", "\\u000b", "\\t", "\\n",
                 "\\r", "\\f", " ")  # fmt: skip
BLANK_REST = '"0123456789abcdef'
SPACES = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


@dataclass(frozen=True)
class Scope:
    """Who answered the survey at all: campaign name -> zone, campaign ids, agent names."""

    zones: dict[str, str]
    campaign_ids: dict[int, str]
    agents: dict[int, str]


@dataclass(frozen=True)
class Summary:
    """What the results and open-answers pages show (``view.responses`` is empty: the
    export reads the responses themselves)."""

    view: View
    groups: dict[str, tuple[Group, ...]] = field(default_factory=dict)


def table_of(model: type) -> sa.Table:
    table: sa.Table = getattr(model, "__table__")  # noqa: B009 - SQLModel does not type it
    return table


def scope(engine: Engine, survey_id: int) -> Scope:
    """The campaigns (with their zones) and agents of a survey's responses."""
    r, u = table_of(SurveyResponse), table_of(User)
    with engine.connect() as conn:
        cids = [c for (c,) in conn.execute(sa.select(r.c.campaign_id).where(
            r.c.survey_id == survey_id).distinct()) if c is not None]  # fmt: skip
        agents = conn.execute(
            sa.select(u.c.id, u.c.username).where(
                u.c.id.in_(sa.select(r.c.agent_id).where(r.c.survey_id == survey_id).distinct())
            )
        ).all()
    names = {c.id: c for c in store.all_campaigns(engine) if c.id is not None and c.id in cids}
    zones = {cid: store.spec_of(engine, c).timezone for cid, c in names.items()}
    return Scope(
        zones={c.name: zones[cid] for cid, c in names.items()},
        campaign_ids={cid: c.name for cid, c in names.items()},
        agents={uid: name for uid, name in agents},
    )


def summary(
    engine: Engine,
    survey: Survey,
    survey_id: int,
    f: Filters,
    where: Scope,
    grain: str = "day",
    open_limit: int = 500,
) -> Summary:
    """The view of :func:`survey_results.view` and its comparisons by campaign, agent and
    ``grain`` (day, week, month), counted in the database."""
    f.check(survey)
    with _responses(engine, survey, survey_id, f, where) as (conn, p, keep):
        head = scored_question(survey)
        cells = _cells(conn, p, keep, survey.questions.index(head) if head else None)
        blanks = {
            i: _blanks(conn, p.c[f"q{i}"])
            for i, q in enumerate(survey.questions)
            if q.kind is QuestionKind.OPEN
        }
        stats = tuple(
            _stats(conn, p, keep, q, i, blanks.get(i, set()))
            for i, q in enumerate(survey.questions)
        )
        opens = _open_page(conn, p, keep, survey, where, open_limit, blanks)
    offered = sum(c.n for c in cells)
    completed = sum(c.n for c in cells if c.status == "completed")
    by_id = {s.question_id: s for s in stats}
    nps_q = next((q for q in scale_questions(survey) if (q.low, q.high) == (0, 10)), None)
    view = View(
        responses=(),
        offered=offered,
        completed=completed,
        response_rate=completed / offered if offered else None,
        questions=stats,
        headline=head.id if head else "",
        csat=by_id[head.id].csat if head else None,
        nps=by_id[nps_q.id].nps if nps_q else None,
        drop_off=_drop_off(survey, [c for c in cells if c.channel == "ivr"]),
        open_answers=opens,
        open_total=sum(s.count for s in stats if s.kind == QuestionKind.OPEN.value),
    )
    groups = {
        "campaign": _compare(head, cells, lambda c: where.campaign_ids.get(c.campaign, "")),
        "agent": _compare(head, cells, lambda c: where.agents.get(c.agent, "")),
        "trend": _compare(head, cells, lambda c: bucket(Period(grain or "day"), c.day)),
    }
    return Summary(view, groups)


# --- the per-response table -------------------------------------------------------------


def _epoch(conn: Connection, t: Any) -> Any:
    if conn.dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", t), sa.Integer)
    return sa.func.floor(sa.extract("epoch", t))


def _floor_div(conn: Connection, n: Any, d: int) -> Any:
    if conn.dialect.name == "sqlite":  # SQLite divides integers towards zero
        whole = sa.cast(n, sa.Integer)
        return sa.case(
            (whole >= 0, whole.op("/")(d)), else_=sa.cast(n - (d - 1), sa.Integer).op("/")(d)
        )
    return sa.cast(sa.func.floor(n / sa.literal(d, sa.Numeric)), sa.Integer)


def zone_offsets(zone: str, first: datetime, last: datetime) -> list[tuple[int, int]]:
    """[(from epoch second, UTC offset seconds)] of ``zone`` over [first, last], the first
    stretch open to the past: one per clock change (found hourly, then to the second)."""
    tz = ZoneInfo(zone)

    def off(e: int) -> int:
        delta = datetime.fromtimestamp(e, UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    e, end = int(first.timestamp()) - DAY, int(last.timestamp()) + DAY
    out = [(-(2**62), off(e))]
    while e < end:
        nxt = e + 3600
        if off(nxt) != out[-1][1]:
            lo, hi = e, nxt  # off(lo) is the old offset, off(hi) the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if off(mid) == out[-1][1] else (lo, mid)
            out.append((hi, off(hi)))
        e = nxt
    return out


def campaign_offsets(
    conn: Connection, survey_id: int, where: Scope
) -> dict[int, list[tuple[int, int]]]:
    """Each campaign's :func:`zone_offsets` over the span of the survey's responses."""
    r = table_of(SurveyResponse)
    span = conn.execute(
        sa.select(sa.func.min(r.c.started_at), sa.func.max(r.c.started_at)).where(
            r.c.survey_id == survey_id
        )
    ).one()
    first, last = (as_utc(v) if isinstance(v, datetime) else None for v in span)
    now = datetime.now(UTC)
    return {
        cid: zone_offsets(zone, first or now, (last or now) + ANSWER_SPAN)
        for cid, zone in zones_by_id(where).items()
    }


def day_expr(
    conn: Connection, campaign: Any, t: Any, zones: dict[int, list[tuple[int, int]]]
) -> Any:
    """The response's local day number (days since 1970-01-01 in its campaign's zone)."""
    e = _epoch(conn, t)
    whens: list[tuple[Any, Any]] = []
    for cid, stretches in zones.items():
        if len(stretches) == 1:
            whens.append((campaign == cid, sa.literal(stretches[0][1])))
            continue
        inner = sa.case(
            *[(e < start, sa.literal(prev)) for (start, _), (_, prev) in
              zip(stretches[1:], stretches, strict=False)],
            else_=sa.literal(stretches[-1][1]),
        )  # fmt: skip
        whens.append((campaign == cid, inner))
    offset = sa.case(*whens, else_=sa.literal(0)) if whens else sa.literal(0)
    return _floor_div(conn, e + offset, DAY)


@contextmanager
def _responses(
    engine: Engine, survey: Survey, survey_id: int, f: Filters, where: Scope
) -> Iterator[tuple[Connection, sa.TableClause, list[Any]]]:
    """A temporary table of the survey's responses, one row each; the filters' conditions on
    it. Dropped afterwards (a pooled connection keeps its temporary tables)."""
    r, a = table_of(SurveyResponse), table_of(SurveyAnswer)
    name = f"survey_view_{uuid.uuid4().hex[:12]}"
    qs = survey.questions
    with engine.connect() as conn:
        stretches = campaign_offsets(conn, survey_id, where)
        text = sa.cast(a.c.value, sa.Text)
        per_q = [
            sa.func.max(
                sa.case((sa.and_(a.c.question_id == q.id, sa.not_(a.c.skipped)), text))
            ).label(f"q{i}")
            for i, q in enumerate(qs)
        ]
        reached = sa.func.sum(
            sa.case(*[(a.c.question_id == q.id, 2**i) for i, q in enumerate(qs)], else_=0)
        )
        agg = (
            sa.select(
                a.c.response_id.label("rid"),
                sa.func.min(a.c.answered_at).label("first_at"),
                reached.label("mask"),
                *per_q,
            )
            .where(a.c.response_id.in_(sa.select(r.c.id).where(r.c.survey_id == survey_id)))
            .group_by(a.c.response_id)
            .subquery()
        )
        t = sa.func.coalesce(agg.c.first_at, r.c.started_at)
        body = (
            sa.select(
                r.c.id, r.c.campaign_id, r.c.agent_id, r.c.channel, r.c.status, r.c.phone,
                t.label("t"),
                day_expr(conn, r.c.campaign_id, t, stretches).label("day"),
                sa.func.coalesce(agg.c.mask, 0).label("mask"),
                *[agg.c[f"q{i}"] for i in range(len(qs))],
            )
            .outerjoin(agg, agg.c.rid == r.c.id)
            .where(r.c.survey_id == survey_id)
        )  # fmt: skip
        sql = body.compile(conn, compile_kwargs={"literal_binds": True})
        conn.execute(sa.text(f"CREATE TEMPORARY TABLE {name} AS {sql}"))
        cols: list[sa.ColumnClause[Any]] = [
            sa.column("id", sa.Integer), sa.column("campaign_id", sa.Integer),
            sa.column("agent_id", sa.Integer), sa.column("channel", sa.String),
            sa.column("status", sa.String), sa.column("phone", sa.String),
            sa.column("t", sa.DateTime(timezone=True)), sa.column("day", sa.Integer),
            sa.column("mask", sa.Integer),
            *[sa.column(f"q{i}", sa.Text) for i in range(len(qs))],
        ]  # fmt: skip
        p = sa.table(name, *cols)
        try:
            yield conn, p, _conditions(p, survey, f, where)
        finally:
            conn.execute(sa.text(f"DROP TABLE {name}"))
            conn.commit()


def zones_by_id(where: Scope) -> dict[int, str]:
    return {cid: where.zones[n] for cid, n in where.campaign_ids.items() if n in where.zones}


def _conditions(p: sa.TableClause, survey: Survey, f: Filters, where: Scope) -> list[Any]:
    """survey_results.py ``select``'s filters as SQL conditions on the per-response table."""
    c = p.c
    out: list[Any] = []
    if f.campaign:
        out.append(c.campaign_id.in_([i for i, n in where.campaign_ids.items() if n == f.campaign]))
    if f.agent:
        out.append(c.agent_id.in_([i for i, n in where.agents.items() if n == f.agent]))
    if f.channel:
        out.append(c.channel == f.channel)
    if f.on is not None and f.period is not Period.ALL:
        lo, hi = period_span(f.period, f.on)
        out.append(c.day.between(lo.toordinal() - EPOCH, hi.toordinal() - EPOCH))
    if f.scores:
        q = scored_question(survey, f.score_question)
        assert q is not None  # Filters.check
        i = survey.questions.index(q)
        out.append(c[f"q{i}"].in_([json.dumps(s) for s in sorted(f.scores)]))
    return out


# --- counts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    campaign: int
    agent: int
    channel: str
    status: str
    day: date
    mask: int
    head: object  # the headline question's stored answer (None: none)
    n: int


def _cells(conn: Connection, p: sa.TableClause, keep: list[Any], head: int | None) -> list[Cell]:
    """Responses counted per campaign, agent, channel, status, day, questions reached and
    headline answer: enough for the totals, the drop-off and every comparison."""
    c = p.c
    # no scale question, no headline: a typed NULL (PostgreSQL groups by no untyped parameter)
    hcol = c[f"q{head}"] if head is not None else sa.cast(sa.null(), sa.Text)
    keys = (c.campaign_id, c.agent_id, c.channel, c.status, c.day, c.mask, hcol)
    rows = conn.execute(sa.select(*keys, sa.func.count()).where(*keep).group_by(*keys)).all()
    return [
        Cell(camp or 0, agent or 0, ch, st, date.fromordinal(day + EPOCH), mask or 0,
             load_json(h), n)
        for camp, agent, ch, st, day, mask, h, n in rows
    ]  # fmt: skip


def load_json(text: str | None) -> object:
    return None if text is None else json.loads(text)


def _stats(
    conn: Connection, p: sa.TableClause, keep: list[Any], q: Question, i: int, blanks: Any
) -> QuestionStats:
    col = p.c[f"q{i}"]
    if q.kind is QuestionKind.OPEN:
        n = conn.execute(sa.select(sa.func.count()).where(*keep, *_open_text(col, blanks)))
        return QuestionStats(q.id, q.kind.value, int(n.scalar() or 0))
    rows = conn.execute(
        sa.select(col, sa.func.count()).where(*keep, col.is_not(None)).group_by(col)
    ).all()
    return counted_stats(q, _fitting(q, ((load_json(v), n) for v, n in rows)))


def _fitting(q: Question, counted: Iterable[tuple[object, int]]) -> Counter[object]:
    """The counted answers this question's type takes (survey_results.py ``fits``)."""
    out: Counter[object] = Counter()
    for value, n in counted:
        if value is not None and fits(q, value):
            out[value] += n
    return out


def _blanks(conn: Connection, col: Any) -> set[str]:
    """The stored texts of an open question that are blank strings (no answer). Cheap tests
    first: a blank's text holds only quotes, spaces, backslashes and hex escapes, none of
    them \u4000 or above (most typed Chinese); then the white-space escapes are removed."""
    sqlite = conn.dialect.name == "sqlite"
    trim, find = (sa.func.trim, sa.func.instr) if sqlite else (sa.func.btrim, sa.func.strpos)
    left = col
    for form in BLANK_ESCAPES:
        left = sa.func.replace(left, form, "")
    cheap = trim(col, "\\ tnrfu" + BLANK_REST + SPACES) == ""
    high = [find(col, "\\u" + d) == 0 for d in "456789abcdef"]
    rows = conn.execute(
        sa.select(col)
        .where(col.like('"%'), cheap, *high, trim(left, BLANK_REST + SPACES) == "")
        .distinct()
    ).all()
    return {t for (t,) in rows if not str(json.loads(t)).strip()}


def _open_text(col: Any, blanks: set[str]) -> list[Any]:
    """A typed comment or a recording: a JSON string with something besides white space."""
    return [col.like('"%'), col.not_in(blanks)] if blanks else [col.like('"%')]


def _drop_off(survey: Survey, ivr: Sequence[Cell]) -> tuple[DropOff, ...]:
    """survey_results.py ``drop_off`` on counted responses."""
    n = len(survey.questions)
    stops: Counter[int] = Counter()
    for c in ivr:
        gap = next((i for i in range(n) if not c.mask >> i & 1), n)
        stops[n if c.status == "completed" else gap] += c.n
    out = []
    for i, q in enumerate(survey.questions):
        reached = sum(k for s, k in stops.items() if s >= i)
        dropped = stops.get(i, 0)
        out.append(DropOff(q.id, reached, dropped, dropped / reached if reached else None))
    return tuple(out)


def _compare(head: Question | None, cells: Sequence[Cell], key: Any) -> tuple[Group, ...]:
    """survey_results.py ``compare`` on counted responses."""
    groups: dict[str, list[Cell]] = {}
    for c in cells:
        groups.setdefault(str(key(c)), []).append(c)
    out = []
    for k, cs in sorted(groups.items()):
        st = counted_stats(head, _fitting(head, ((c.head, c.n) for c in cs))) if head else None
        out.append(
            Group(
                k,
                sum(c.n for c in cs),
                sum(c.n for c in cs if c.status == "completed"),
                st.count if st else 0,
                st.mean if st else None,
                st.csat if st else None,
            )
        )
    return tuple(out)


def _open_page(
    conn: Connection,
    p: sa.TableClause,
    keep: list[Any],
    survey: Survey,
    where: Scope,
    limit: int,
    blanks: dict[int, set[str]],
) -> tuple[OpenAnswer, ...]:
    """The newest ``limit`` open answers (survey_results.py ``open_answers``)."""
    opened = [(i, q) for i, q in enumerate(survey.questions) if q.kind is QuestionKind.OPEN]
    if not opened or limit <= 0:
        return ()
    c = p.c
    head = scored_question(survey)
    hcol = c[f"q{survey.questions.index(head)}"] if head else sa.cast(sa.null(), sa.Text)
    any_open = sa.or_(*[sa.and_(*_open_text(c[f"q{i}"], blanks[i])) for i, _ in opened])
    rows = conn.execute(
        sa.select(c.id, c.campaign_id, c.agent_id, c.channel, c.t, c.phone, hcol,
                  *[c[f"q{i}"] for i, _ in opened])
        .where(*keep, any_open)
        .order_by(c.t.desc(), c.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    zones = zones_by_id(where)
    out: list[OpenAnswer] = []
    for rid, camp, agent, channel, t, phone, h, *texts in rows:
        score = load_json(h)
        ivr = channel == "ivr"
        day = as_utc(t).astimezone(ZoneInfo(zones.get(camp or 0, "UTC"))).date()
        for (_, q), text in zip(opened, texts, strict=True):
            value = load_json(text)
            if not isinstance(value, str) or not value.strip():
                continue
            out.append(
                OpenAnswer(
                    rid,
                    q.id,
                    where.campaign_ids.get(camp or 0, ""),
                    where.agents.get(agent or 0, ""),
                    channel,
                    day,
                    mask_phone(phone),
                    score if head and fits(head, score) and isinstance(score, int) else None,
                    text="" if ivr else mask_text(value),
                    clip=value if ivr else "",
                )
            )
    return tuple(out[:limit])
