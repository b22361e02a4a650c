"""Reading what outdial records, summed per 15-minute UTC slot in SQL.

Aggregation is pushed into the database: attempts are grouped by (slot, dimensions) with
counted flags (``SUM(CASE ...)``), so a month of a million attempts comes back as at most
slots × groups rows. Agent state changes come back as rows (one per change, with epoch
seconds) and are cut into segments in pandas (reports/kpis.py): a segment spans rows, which
SQL window functions can do but SQLite does slower than pandas. Survey answers and contacts are
small and summed here too. Every time here is UTC.
"""

from __future__ import annotations

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


def epoch(engine: Engine, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of a UTC timestamp column, on SQLite and PostgreSQL."""
    if engine.dialect.name == "sqlite":  # whole seconds + milliseconds (julianday drifts by µs)
        whole = sa.cast(sa.func.strftime("%s", column), sa.Integer)
        frac = sa.cast(sa.func.strftime("%f", column), sa.Float) - sa.cast(
            sa.func.strftime("%S", column), sa.Integer
        )
        return whole + frac
    return sa.func.extract("epoch", column)


def slot_of(engine: Engine, column: Any) -> ColumnElement[Any]:
    if engine.dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.Integer) / 900
    return sa.cast(sa.func.floor(sa.func.extract("epoch", column) / 900), sa.BigInteger)


def _flag(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((cond, 1), else_=0))


@dataclass(frozen=True)
class Window:
    start: datetime  # aware UTC
    end: datetime
    campaigns: tuple[int, ...] = ()  # empty: all


def _bind(engine: Engine, t: datetime) -> datetime:
    """SQLite stores naive UTC text, so bind naive UTC there; PostgreSQL takes aware values."""
    return t.astimezone(UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite" else t


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


def attempt_sums(engine: Engine, w: Window, dims: list[str]) -> pd.DataFrame:
    """Attempt measures (reports/kpis.py) per slot of the dial time and dimension."""
    a, c, k, d = ATT.alias("a"), CON.alias("c"), CAM.alias("k"), DIS.alias("d")
    p = ATT.alias("p")
    live = sa.and_(a.c.answered_at.is_not(None), a.c.amd != "machine")
    bridged = a.c.bridged_at.is_not(None)
    ivr_done = sa.and_(
        live, a.c.state == "completed", a.c.agent_user_id.is_(None), sa.not_(a.c.abandoned)
    )
    contact = sa.or_(bridged, ivr_done)
    earlier = (
        sa.select(p.c.id)
        .where(p.c.contact_id == a.c.contact_id, p.c.bridged_at.is_not(None), p.c.id < a.c.id)
        .exists()
    )
    slot = slot_of(engine, a.c.created_at).label("slot")
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
            sa.func.sum(
                sa.case(
                    (
                        a.c.answered_at.is_not(None),
                        epoch(engine, a.c.answered_at) - epoch(engine, a.c.created_at),
                    ),
                    else_=0.0,
                )
            ).label("ring_sum"),
            _flag(a.c.answered_at.is_not(None)).label("ring_n"),
            _flag(sa.and_(bridged, d.c.final.is_(True), sa.not_(earlier))).label("fcr"),
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
    if w.campaigns:
        q = q.where(a.c.campaign_id.in_(w.campaigns))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    cols = ["slot", *dims, "dials", "live", "contacts", "bridged", "successes", "abandoned"]
    cols += ["ring_sum", "ring_n", "fcr", "transfers", "rv_done"]
    return pd.DataFrame(rows, columns=cols)


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
    df = pd.DataFrame(rows, columns=["entity", "campaign_id", "target", "reason", "t"])
    df["t"] = df["t"].astype("float64")
    return df


def contact_sums(engine: Engine, w: Window, dims: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    slot = slot_of(engine, a.c.last_attempt_at).label("slot")
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
        f = pd.DataFrame(conn.execute(fin).all(), columns=["slot", *dims, "finished"])
        pl = pd.DataFrame(conn.execute(plan).all(), columns=[*dims, "planned"])
    return f, pl


def survey_answers(engine: Engine, w: Window) -> pd.DataFrame:
    """Scored answers in the window: slot, agent, campaign, survey, question, value."""
    sa_, sr = SurveyAnswer.__table__.alias("x"), SurveyResponse.__table__.alias("r")  # type: ignore[attr-defined]
    q = (
        sa.select(
            slot_of(engine, sa_.c.answered_at).label("slot"),
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


def campaign_ids(engine: Engine, names_: list[str]) -> tuple[int, ...]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(CAM.c.id, CAM.c.name).where(CAM.c.name.in_(names_))).all()
    return tuple(int(r[0]) for r in rows)
