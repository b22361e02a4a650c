"""Reading what outdial records, summed in SQL per slot of time.

Aggregation is pushed into the database, which does it faster than fetching rows into pandas:
attempts are grouped by (slot, dimensions) with counted flags (``SUM(CASE ...)``); agent state
changes become segments with a window function (``LEAD`` over each agent's changes, served in
order by the (machine, entity, at) index), are cut at slot boundaries (a recursive CTE for
segments over several slots) and summed per state and pause reason; closed 15-minute slots of
agent time are summed once into ``report_agent_slots`` (reports/rollup.py), and of attempts
into ``report_attempt_slots`` (reports/attempt_rollup.py). A slot is 15 minutes of
UTC, or a whole local half-hour/hour/day when the report's range has one UTC offset (see
reports/intervals.py ``storage_slots``). pandas then maps slots onto intervals and applies the
KPI definitions over the few thousand summed rows. Every time here is UTC.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from campaigns.models import Campaign, Disposition, Survey, SurveyAnswer, SurveyResponse
from dialer.models import Attempt, StateChange
from lists.models import CallList, Contact
from outdial.models import User

ATT = Attempt.__table__  # type: ignore[attr-defined]
CON = Contact.__table__  # type: ignore[attr-defined]
CAM = Campaign.__table__  # type: ignore[attr-defined]
DIS = Disposition.__table__  # type: ignore[attr-defined]
SC = StateChange.__table__  # type: ignore[attr-defined]
USR = User.__table__  # type: ignore[attr-defined]
LST = CallList.__table__  # type: ignore[attr-defined]
LOOKBACK_S = 86400  # an agent's state at the report's start: their last change within a day


def frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    """A frame of result rows. Plain tuples: pandas probes each SQLAlchemy Row for namedtuple
    fields, and a Row answers a missing attribute by raising (16 s for 175 000 rows)."""
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


_gc_lock = threading.Lock()
_gc_paused = 0  # callers inside ``gc_paused`` now, over every thread
_gc_was_on = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a report builds ~100 000 tuples or rows of numbers:
    each 700 new containers start a collection that walks the young objects, and the older
    ones ever more often as the heap grows (a month's table: 0.14 s of 0.2 s in the collector).
    Such rows hold no cycles, so nothing is left behind; reference counting still frees them.
    Nested and threaded uses count up: the collector is back on when the last one ends."""
    global _gc_paused, _gc_was_on
    with _gc_lock:
        if _gc_paused == 0:
            _gc_was_on = gc.isenabled()
            gc.disable()
        _gc_paused += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_paused -= 1
            if _gc_paused == 0 and _gc_was_on:
                gc.enable()


def fetch_frame(conn: sa.Connection, q: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of a query of numbers and text as a frame, read from the driver's cursor: the
    driver's tuples go straight into pandas, with no SQLAlchemy Row nor a copy of each (a
    month's roll-up by agent is ~100 000 rows). Only for columns the driver already returns as
    the Python values wanted (no dates, JSON or booleans needing SQLAlchemy's conversion)."""
    result = conn.execute(q)
    with gc_paused():
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        return pd.DataFrame(rows, columns=columns)


def epoch(engine: Engine, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of a UTC timestamp column, on SQLite and PostgreSQL."""
    if engine.dialect.name == "sqlite":  # whole seconds + milliseconds (julianday drifts by µs)
        whole = sa.cast(sa.func.strftime("%s", column), sa.Integer)
        frac = sa.cast(sa.func.strftime("%f", column), sa.Float) - sa.cast(
            sa.func.strftime("%S", column), sa.Integer
        )
        return whole + frac
    # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, several times
    # slower over a million rows (µs precision either way)
    return sa.func.date_part("epoch", column)


def seconds_between(engine: Engine, first: Any, then: Any) -> ColumnElement[Any]:
    """Seconds from ``first`` to ``then``. SQLite keeps times to the millisecond inside
    julianday (an integer of ms), so the difference rounded to 3 places is exact, and it
    costs two function calls a row where ``epoch`` costs six."""
    if engine.dialect.name == "sqlite":
        days = sa.func.julianday(then) - sa.func.julianday(first)
        return sa.func.round(days * 86400.0, 3)
    return epoch(engine, then) - epoch(engine, first)


def slot_of(engine: Engine, column: Any, slots: Slots | None = None) -> ColumnElement[Any]:
    """The slot number of a timestamp: floor((epoch + off) / size)."""
    sl = slots or Slots()
    if engine.dialect.name == "sqlite":
        secs = sa.cast(sa.func.strftime("%s", column), sa.Integer) + sl.off
        # SQLAlchemy renders "/" as true division: cast back (truncation = floor, positive)
        return sa.cast(secs / sl.size, sa.Integer)
    secs = sa.func.date_part("epoch", column) + sl.off
    return sa.cast(sa.func.floor(secs / sl.size), sa.BigInteger)


def _flag(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((cond, 1), else_=0))


@dataclass(frozen=True)
class Slots:
    """How storage cuts time: slots of ``size`` seconds counted from ``-off`` (a zone's fixed
    UTC offset, so that with no DST in the range a slot is a whole local interval)."""

    size: int = 900
    off: int = 0


@dataclass(frozen=True)
class Window:
    start: datetime  # aware UTC
    end: datetime
    campaigns: tuple[int, ...] = ()  # empty: all
    # calls the simulated carrier answered (attempts.simulated) are left out unless asked for,
    # and so is the time of simulated agents (``skip_agents``: users.id, dialer/simagents.py)
    simulated: bool = False
    skip_agents: tuple[int, ...] = ()


def bind(engine: Engine, t: datetime) -> datetime:
    """SQLite stores naive UTC text, so bind naive UTC there; PostgreSQL takes aware values."""
    return t.astimezone(UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite" else t


_bind = bind


def _dim_columns(engine: Engine, dims: list[str], a: Any, c: Any, k: Any) -> list[Any]:
    out: list[Any] = []
    for d in dims:
        if d == "agent":
            out.append(a.c.agent_user_id.label("agent"))
        elif d == "campaign":
            out.append(a.c.campaign_id.label("campaign"))
        elif d == "kind":
            out.append(k.c.kind.label("kind"))
        elif d == "list":
            out.append(c.c.list_id.label("list"))
        elif d == "region":
            out.append(sa.func.substr(c.c.primary_number, 1, 4).label("region"))
        else:  # a list column, "col:<name>"
            out.append(c.c.custom[d[4:]].as_string().label(d))
    return out


@dataclass(frozen=True)
class AttemptTerms:
    """Per-row conditions of the attempt measures (shared/domain.md), on the attempts alias
    ``a``: the raw scan below and the roll-up (reports/attempt_rollup.py) count the same."""

    live: ColumnElement[bool]
    bridged: ColumnElement[bool]
    contact: ColumnElement[bool]
    first_bridged: ColumnElement[bool]  # bridged, and no earlier bridged attempt of the contact
    ring: ColumnElement[Any]  # seconds from dial to answer (0 when unanswered)


def attempt_terms(engine: Engine, a: Any) -> AttemptTerms:
    p = ATT.alias("p")
    live = sa.and_(a.c.answered_at.is_not(None), a.c.amd.not_in(("machine", "announcement")))
    bridged = a.c.bridged_at.is_not(None)
    ivr_done = sa.and_(
        live, a.c.state == "completed", a.c.agent_user_id.is_(None), sa.not_(a.c.abandoned)
    )
    earlier = (
        sa.select(p.c.id)
        .where(p.c.contact_id == a.c.contact_id, p.c.bridged_at.is_not(None), p.c.id < a.c.id)
        .exists()
    )
    ring = sa.case(
        (a.c.answered_at.is_not(None), seconds_between(engine, a.c.created_at, a.c.answered_at)),
        else_=0.0,
    )
    return AttemptTerms(
        live, bridged, sa.or_(bridged, ivr_done), sa.and_(bridged, sa.not_(earlier)), ring
    )


def attempt_sums(
    engine: Engine, w: Window, dims: list[str], slots: Slots | None = None
) -> pd.DataFrame:
    """Attempt measures (reports/kpis.py) per slot of the dial time and dimension."""
    a, c, k, d = ATT.alias("a"), CON.alias("c"), CAM.alias("k"), DIS.alias("d")
    t = attempt_terms(engine, a)
    live, bridged, contact = t.live, t.bridged, t.contact
    slot = slot_of(engine, a.c.created_at, slots).label("slot")
    keys = [slot, *_dim_columns(engine, dims, a, c, k)]
    q = (
        sa.select(
            *keys,
            sa.func.count().label("dials"),
            _flag(live).label("live"),
            _flag(contact).label("contacts"),
            _flag(bridged).label("bridged"),
            _flag(sa.and_(contact, d.c.success.is_(True))).label("successes"),
            _flag(a.c.abandoned.is_(True)).label("abandoned"),
            sa.func.sum(t.ring).label("ring_sum"),
            _flag(a.c.answered_at.is_not(None)).label("ring_n"),
            _flag(sa.and_(t.first_bridged, d.c.final.is_(True))).label("fcr"),
            _flag(a.c.transferred_at.is_not(None)).label("transfers"),
            _flag(sa.and_(contact, k.c.kind == "return_visit")).label("rv_done"),
        )
        .select_from(
            a.join(k, k.c.id == a.c.campaign_id)
            .outerjoin(d, sa.and_(d.c.campaign_id == a.c.campaign_id, d.c.code == a.c.disposition))
            .join(c, c.c.id == a.c.contact_id)
            if any(x in ("list", "region") or x.startswith("col:") for x in dims)
            else a.join(k, k.c.id == a.c.campaign_id).outerjoin(
                d, sa.and_(d.c.campaign_id == a.c.campaign_id, d.c.code == a.c.disposition)
            )
        )
        .where(a.c.created_at >= _bind(engine, w.start), a.c.created_at < _bind(engine, w.end))
        .group_by(*keys)
    )
    with engine.connect() as conn:
        return fetch_frame(conn, filtered(q, a, w), ["slot", *dims, *ATTEMPT_MEASURES])


#: the columns of ``attempt_sums`` after the slot and dimensions (reports/kpis.py reads them)
ATTEMPT_MEASURES: tuple[str, ...] = (
    "dials",
    "live",
    "contacts",
    "bridged",
    "successes",
    "abandoned",
)
ATTEMPT_MEASURES += ("ring_sum", "ring_n", "fcr", "transfers", "rv_done")


def filtered(q: sa.Select[Any], t: Any, w: Window) -> sa.Select[Any]:
    """``q`` over table ``t`` (attempts or their roll-up) kept to the window's campaigns, and
    without simulated calls unless the window asks for them."""
    if w.campaigns:
        q = q.where(t.c.campaign_id.in_(w.campaigns))
    if not w.simulated:
        q = q.where(sa.not_(t.c.simulated))
    return q


def agent_changes(engine: Engine, w: Window) -> pd.DataFrame:
    """Agent state changes from a day before the window to its end: ``entity`` (users.id as
    text), ``campaign_id``, ``target``, ``reason``, ``t`` (epoch seconds)."""
    s = SC.alias("s")
    lo = datetime.fromtimestamp(w.start.timestamp() - LOOKBACK_S, tz=w.start.tzinfo)
    q = sa.select(
        s.c.entity, s.c.campaign_id, s.c.target, s.c.reason, epoch(engine, s.c.at).label("t")
    ).where(s.c.machine == "agent", s.c.at >= _bind(engine, lo), s.c.at < _bind(engine, w.end))
    if w.campaigns:
        q = q.where(s.c.campaign_id.in_(w.campaigns))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    df = frame(rows, ["entity", "campaign_id", "target", "reason", "t"])
    df["t"] = df["t"].astype("float64")
    return df


def contact_sums(
    engine: Engine, w: Window, dims: list[str], slots: Slots | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan completion: records finished per slot of their last attempt, and records planned
    (not suppressed) per dimension."""
    c, k = CON.alias("c"), CAM.alias("k")
    a = c  # list/region/columns come from the contact itself
    dcols = []
    for d in dims:
        if d == "campaign":
            dcols.append(c.c.campaign_id.label("campaign"))
        elif d == "kind":
            dcols.append(k.c.kind.label("kind"))
        elif d == "list":
            dcols.append(c.c.list_id.label("list"))
        elif d == "region":
            dcols.append(sa.func.substr(c.c.primary_number, 1, 4).label("region"))
        else:
            dcols.append(c.c.custom[d[4:]].as_string().label(d))
    src = c.join(k, k.c.id == c.c.campaign_id)
    slot = slot_of(engine, a.c.last_attempt_at, slots).label("slot")
    fin = (
        sa.select(slot, *dcols, sa.func.count().label("finished"))
        .select_from(src)
        .where(
            c.c.status == "done",
            c.c.last_attempt_at >= _bind(engine, w.start),
            c.c.last_attempt_at < _bind(engine, w.end),
        )
        .group_by(slot, *dcols)
    )
    plan = (
        sa.select(*dcols, sa.func.count().label("planned"))
        .select_from(src)
        .where(sa.not_(c.c.suppressed))
    )
    if dcols:
        plan = plan.group_by(*dcols)
    if w.campaigns:
        fin = fin.where(c.c.campaign_id.in_(w.campaigns))
        plan = plan.where(c.c.campaign_id.in_(w.campaigns))
    with engine.connect() as conn:
        f = frame(conn.execute(fin).all(), ["slot", *dims, "finished"])
        pl = frame(conn.execute(plan).all(), [*dims, "planned"])
    return f, pl


def survey_answers(engine: Engine, w: Window, slots: Slots | None = None) -> pd.DataFrame:
    """Scored answers in the window: slot, agent, campaign, survey, question, value."""
    sa_, sr = SurveyAnswer.__table__.alias("x"), SurveyResponse.__table__.alias("r")  # type: ignore[attr-defined]
    q = (
        sa.select(
            slot_of(engine, sa_.c.answered_at, slots).label("slot"),
            sr.c.agent_id,
            sr.c.campaign_id,
            sr.c.survey_id,
            sa_.c.question_id,
            sa_.c.value,
        )
        .select_from(sa_.join(sr, sr.c.id == sa_.c.response_id))
        .where(
            sa.not_(sa_.c.skipped),
            sa_.c.answered_at >= _bind(engine, w.start),
            sa_.c.answered_at < _bind(engine, w.end),
        )
    )
    if w.campaigns:
        q = q.where(sr.c.campaign_id.in_(w.campaigns))
    if not w.simulated:  # answers given to simulated agents, or to the IVR on a simulated call
        sim = ATT.alias("sim")
        ivr = "sys/ivr:"  # dialer/ivr.py's key, scoped (campaigns/store.py owner_key)
        on_sim_call = (
            sa.select(sim.c.id)
            .where(sim.c.call_id == sa.func.substr(sr.c.idempotency_key, len(ivr) + 1))
            .where(sim.c.simulated.is_(True))
            .exists()
        )
        q = q.where(
            sr.c.agent_id.is_(None) | sr.c.agent_id.not_in(w.skip_agents or (-1,)),
            sa.not_(sa.and_(sr.c.idempotency_key.startswith(ivr), on_sim_call)),
        )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(
        rows, columns=["slot", "agent", "campaign", "survey_id", "question_id", "value"]
    )


def survey_definitions(engine: Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Survey.__table__.c.id, Survey.__table__.c.definition)).all()  # type: ignore[attr-defined]
    return {int(r[0]): dict(r[1] or {}) for r in rows}


def names(engine: Engine) -> dict[str, dict[Any, str]]:
    """Display names of ids: agents (users), campaigns, lists; and campaign kinds."""
    with engine.connect() as conn:
        users: dict[Any, Any] = dict(conn.execute(sa.select(USR.c.id, USR.c.username)).all())
        camps = conn.execute(sa.select(CAM.c.id, CAM.c.name, CAM.c.kind)).all()
        lists: dict[Any, Any] = dict(conn.execute(sa.select(LST.c.id, LST.c.name)).all())
    return {
        "agent": {int(k): str(v) for k, v in users.items()},
        "campaign": {int(r[0]): str(r[1]) for r in camps},
        "list": {int(k): str(v) for k, v in lists.items()},
    }


def agent_teams(engine: Engine) -> dict[int, str]:
    """Each user's team (users.team, set on /people); "" when in none."""
    with engine.connect() as conn:
        return {int(r[0]): str(r[1]) for r in conn.execute(sa.select(USR.c.id, USR.c.team))}


def simulated_agents(engine: Engine) -> tuple[int, ...]:
    """The users that are simulated agents (dialer/simagents.py ``SIM_AGENTS``)."""
    from dialer.simagents import SIM_AGENTS

    with engine.connect() as conn:
        return tuple(int(u) for u in conn.execute(sa.text(SIM_AGENTS)).scalars())


def campaign_ids(engine: Engine, names_: list[str]) -> tuple[int, ...]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(CAM.c.id, CAM.c.name).where(CAM.c.name.in_(names_))).all()
    return tuple(int(r[0]) for r in rows)


_AGENT_SQL = """
WITH RECURSIVE picked AS (
  SELECT id, entity, campaign_id, target, reason, at FROM state_changes
  WHERE machine = 'agent' AND at >= :from_ AND at < :hi {campaigns}
  UNION ALL
  SELECT s.id, s.entity, s.campaign_id, s.target, s.reason, s.at FROM state_changes s
  WHERE s.id IN (
    SELECT (SELECT x.id FROM state_changes x
            WHERE x.machine = 'agent' AND x.entity = u.entity AND x.at >= :lo
              AND x.at < :from_ {x_campaigns}
            ORDER BY x.at DESC, x.id DESC LIMIT 1)
    FROM (SELECT CAST(id AS VARCHAR(64)) AS entity FROM users) u
  )
),
raw AS (
  SELECT entity, campaign_id, target, reason, {epoch} AS t,
         LEAD({epoch}) OVER (PARTITION BY entity ORDER BY at, id) AS tn
  FROM picked
),
seg AS {materialized} (
  SELECT entity, campaign_id, target, reason, t0, t1,
         {floor_t0} AS s0, {floor_t1} AS s1
  FROM (
    SELECT entity, campaign_id, target, reason,
           CASE WHEN t < :start THEN :start ELSE t END + :off AS t0,
           CASE WHEN tn IS NULL OR tn > :end THEN :end ELSE tn END + :off AS t1
    FROM raw WHERE target <> 'logged_out' {agents}
  ) clipped
  WHERE t1 > t0
),
mid AS (
  SELECT entity, campaign_id, target, reason, s0 + 1 AS slot, s1 - 1 AS last
  FROM seg WHERE s1 > s0 + 1
  UNION ALL
  SELECT entity, campaign_id, target, reason, slot + 1, last FROM mid WHERE slot < last
),
parts AS {materialized} (
  SELECT entity, campaign_id, target, reason, s0 AS slot,
         CASE WHEN s1 = s0 THEN t1 - t0 ELSE (s0 + 1) * :size - t0 END AS dur
  FROM seg
  UNION ALL
  SELECT entity, campaign_id, target, reason, s1, t1 - s1 * :size FROM seg WHERE s1 > s0
  UNION ALL
  SELECT entity, campaign_id, target, reason, slot, :size FROM mid
)
SELECT {select_keys}, slot, '' AS reason,
       SUM(CASE WHEN target = 'ready' THEN dur ELSE 0 END),
       SUM(CASE WHEN target = 'reserved' THEN dur ELSE 0 END),
       SUM(CASE WHEN target = 'talk' THEN dur ELSE 0 END),
       SUM(CASE WHEN target = 'wrap' THEN dur ELSE 0 END),
       SUM(CASE WHEN target = 'paused' THEN dur ELSE 0 END)
FROM parts GROUP BY {group_keys}slot
UNION ALL
SELECT {select_keys}, slot, 'paused:' || CASE WHEN reason = '' THEN 'unspecified'
       ELSE reason END, 0, 0, 0, 0, SUM(dur)
FROM parts WHERE target = 'paused' GROUP BY {group_keys}slot, reason
"""


def agent_time_sums(
    engine: Engine,
    w: Window,
    end: float,
    slots: Slots,
    by_agent: bool = True,
    by_campaign: bool = True,
    conn: sa.Connection | None = None,
) -> pd.DataFrame:
    """Agent seconds per (agent, campaign, slot) in each state, summed in SQL: segments from
    each change to the agent's next (window function), cut at slot boundaries. Rows with a
    ``reason`` carry paused seconds of that reason code (``paused:<code>``) only."""
    sqlite = engine.dialect.name == "sqlite"
    epoch = (
        "ROUND((julianday(at) - 2440587.5) * 86400.0, 3)"
        if sqlite
        else ("EXTRACT(EPOCH FROM at)::float8")
    )
    floor_t0 = "CAST(t0 / :size AS INTEGER)" if sqlite else "FLOOR(t0 / :size)::bigint"
    floor_t1 = (
        "CAST((t1 - 0.0005) / :size AS INTEGER)"
        if sqlite
        else ("FLOOR((t1 - 0.0005) / :size)::bigint")
    )
    camp = ""
    params: dict[str, Any] = {}
    if w.campaigns:
        camp = "AND campaign_id IN (" + ",".join(str(int(c)) for c in w.campaigns) + ")"
    # group by agent and campaign only when the report asks for them: fewer rows out
    group = (["entity"] if by_agent else []) + (["campaign_id"] if by_campaign else [])
    select_keys = ", ".join(
        ["entity" if by_agent else "'' AS entity", "campaign_id" if by_campaign else "0"]
    )
    sql = _AGENT_SQL.format(
        select_keys=select_keys,
        group_keys="".join(f"{g}, " for g in group),
        epoch=epoch,
        floor_t0=floor_t0,
        floor_t1=floor_t1,
        campaigns=camp,
        x_campaigns=camp.replace("campaign_id", "x.campaign_id"),
        agents=_skip_agents_sql(w),
        materialized="MATERIALIZED",  # SQLite >= 3.35, PostgreSQL >= 12: compute once
    )
    lo = datetime.fromtimestamp(w.start.timestamp() - LOOKBACK_S, tz=UTC)
    params |= {
        "lo": _bind(engine, lo),
        "from_": _bind(engine, w.start),
        "hi": _bind(engine, w.end),
        "start": w.start.timestamp(),
        "end": end,
        "size": slots.size,
        "off": slots.off,
    }
    if conn is None:
        with engine.connect() as c:
            rows = c.execute(sa.text(sql), params).all()
    else:
        rows = conn.execute(sa.text(sql), params).all()
    cols = ["entity", "campaign_id", "slot", "reason", *AGENT_STATES]
    return frame(rows, cols)


def _skip_agents_sql(w: Window) -> str:
    """``AND entity NOT IN (...)``: leaves simulated agents' time out (ids are integers)."""
    if w.simulated or not w.skip_agents:
        return ""
    return "AND entity NOT IN (" + ",".join(f"'{int(u)}'" for u in w.skip_agents) + ")"


AGENT_STATES = ("ready", "reserved", "talk", "wrap", "paused")
