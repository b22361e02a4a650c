"""The floor board's figures: today's KPIs per campaign, agents on the floor, skip reasons.

Read by ``GET /api/board`` and the console's floor board and live view (web/ computes
nothing). KPI definitions are shared/domain.md's:

- dials (呼出量): attempts placed today;
- connect rate (接通率): live answers / attempts (answering machines are not live);
- contacts (接通量): calls bridged to an agent;
- abandon rate (呼损率): abandoned / live answers, against the campaign's legal cap
  (rules 2, 18: the lowest cap of the jurisdiction profiles that apply);
- AHT (平均处理时间): (talk + wrap-up) per contact, wrap-up from hang-up to disposition.

"Today" is the calendar day in the campaign's own time zone, named in the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns import store as campaigns
from campaigns.models import Campaign
from dialer.models import AgentSession, Attempt, PreviewSkip
from lists.models import Contact
from outdial import storage
from outdial.memo import Memo
from outdial.models import User, as_utc


def day_start(now: datetime, zone: str) -> datetime:
    """Midnight of ``now``'s day in ``zone``, as an aware datetime."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def abandon_cap(region: str) -> float | None:
    """The lowest legal abandon cap of the region's profiles; None where none applies."""
    from compliance.gate import profiles_for_region
    from compliance.profiles import load_ruleset

    caps = [
        rs.base.abandon.cap
        for rs in (load_ruleset(n) for n in profiles_for_region(region))
        if rs.base.abandon is not None
    ]
    return min(caps) if caps else None


def today_figures(engine: Engine, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The campaign's KPIs since midnight in its time zone, of real calls only; the
    simulated carrier's calls (``attempts.simulated``, issue 17) are counted apart under
    ``simulated`` (None when there were none today), so a manager never reads a simulated
    figure as a real one and the abandon rate against the legal cap is of real calls."""
    zone = campaigns.spec_of(engine, campaign).timezone
    # in UTC: SQLite compares stored UTC wall times as text, so a +08:00 bound read as 8 h late
    since = day_start(now, zone).astimezone(UTC)
    # answering machines and carrier announcements (issue 20) are not live answers
    machine = col(Attempt.amd).in_(("machine", "announcement"))
    # AHT (shared/domain.md): talk + wrap-up (disposition after hang-up) of handled calls,
    # summed in the database: fetching every call of the day cost ~0.5 s at 13,000 calls
    handled = sa.and_(col(Attempt.bridged_at).is_not(None), col(Attempt.final).is_(True))
    ended, dispo = col(Attempt.ended_at), col(Attempt.disposition_at)
    wrap = sa.case(
        (sa.and_(ended.is_not(None), dispo > ended),
         storage.epoch(engine, dispo) - storage.epoch(engine, ended)),
        else_=0.0,
    )  # fmt: skip
    q = (
        sa.select(
            col(Attempt.simulated),
            sa.func.count(),
            sa.func.count().filter(
                sa.and_(col(Attempt.answered_at).is_not(None), sa.not_(machine))
            ),
            sa.func.count().filter(col(Attempt.bridged_at).is_not(None)),
            sa.func.count().filter(col(Attempt.abandoned).is_(True)),
            sa.func.count().filter(handled),
            sa.func.sum(sa.func.coalesce(col(Attempt.talk_seconds), 0.0) + wrap).filter(handled),
        )
        .where(col(Attempt.campaign_id) == campaign.id, col(Attempt.created_at) >= since)
        .group_by(col(Attempt.simulated))
    )
    with engine.connect() as conn:
        by_kind = {bool(row[0]): tuple(row[1:]) for row in conn.execute(q)}
    cap = abandon_cap(campaign.region)
    real = _figures(by_kind.get(False, (0, 0, 0, 0, 0, None)), cap)
    sim = by_kind.get(True)
    return {
        "day_start": since.isoformat(),
        "timezone": zone,
        **real,
        "simulated": _figures(sim, cap) if sim else None,
    }


def _figures(row: tuple[Any, ...], cap: float | None) -> dict[str, Any]:
    dials, live, contacts, abandoned, n_handled, handle_sum = row
    dials, live, contacts, abandoned = int(dials), int(live), int(contacts), int(abandoned)
    rate = abandoned / live if live else 0.0
    return {
        "dials": dials,
        "live_answers": live,
        "connect_rate": round(live / dials, 4) if dials else None,
        "contacts": contacts,
        "abandoned": abandoned,
        "abandon_rate": round(rate, 4),
        "abandon_cap": cap,
        "abandon_over_cap": cap is not None and rate > cap,
        "aht_seconds": round(float(handle_sum) / n_handled, 1) if n_handled else None,
    }


def board(engine: Engine, now: datetime, memo: Memo | None = None) -> list[dict[str, Any]]:
    """Every campaign with its state and today's figures, newest first. With ``memo`` (the
    console), a campaign's figures may be ``memo.ttl`` seconds old: they read every call of
    its day (outdial/memo.py); its state is always read now."""

    def today(camp: Campaign) -> dict[str, Any]:
        if memo is None:
            return today_figures(engine, camp, now)
        return memo.get(("today", camp.id), lambda: today_figures(engine, camp, now))

    out = []
    for camp in sorted(campaigns.all_campaigns(engine), key=lambda c: -(c.id or 0)):
        out.append(
            {
                "id": camp.id,
                "name": camp.name,
                "kind": camp.kind,
                "mode": camp.mode,
                "status": camp.status,
                "region": camp.region,
                "today": today(camp),
            }
        )
    return out


def agents_on_floor(engine: Engine, campaign_id: int, now: datetime) -> list[dict[str, Any]]:
    """Agents signed in to the campaign, by state, with seconds in that state."""
    q = (
        sa.select(
            col(AgentSession.user_id),
            col(User.username),
            col(User.display_name),
            col(AgentSession.state),
            col(AgentSession.pause_reason),
            col(AgentSession.since),
        )
        .join(User, col(User.id) == col(AgentSession.user_id))
        .where(col(AgentSession.campaign_id) == campaign_id)
        .order_by(col(AgentSession.state), col(AgentSession.since))
    )
    with engine.connect() as conn:
        rows = list(conn.execute(q))
    return [
        {
            "user_id": uid,
            "username": username,
            "name": display or username,
            "state": state,
            "pause_reason": reason,
            "since": as_utc(since).isoformat(),
            "seconds_in_state": max(0.0, (now - as_utc(since)).total_seconds()),
        }
        for uid, username, display, state, reason, since in rows
    ]


def skip_reasons(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """Records the compliance gate held back, by the rules it cited (hopper.defer keeps them in
    ``last_outcome``), for "why are numbers being skipped?"."""
    q = (
        sa.select(col(Contact.last_outcome), col(Contact.status), sa.func.count())
        .where(
            col(Contact.campaign_id) == campaign_id,
            col(Contact.last_outcome).like("rule-%"),
        )
        .group_by(col(Contact.last_outcome), col(Contact.status))
    )
    with engine.connect() as conn:
        rows = list(conn.execute(q))
    out = [
        {"rules": str(r).split(","), "later": st != "done", "count": int(n)} for r, st, n in rows
    ]
    return sorted(out, key=lambda x: -x["count"])


def attempts_of(engine: Engine, contact_id: int) -> list[dict[str, Any]]:
    """A contact's attempt history, newest first (the contact browser), with the previews
    an agent skipped and why (state ``skipped``, ``skip_reason``; no call was placed)."""
    rows = _attempt_rows(engine, contact_id) + _skips_of(engine, contact_id)
    return sorted(rows, key=lambda r: str(r["at"]), reverse=True)


def _skips_of(engine: Engine, contact_id: int) -> list[dict[str, Any]]:
    q = (
        sa.select(col(PreviewSkip.at), col(PreviewSkip.reason), col(User.username))
        .join(User, col(User.id) == col(PreviewSkip.user_id))
        .where(col(PreviewSkip.contact_id) == contact_id)
    )
    with engine.connect() as conn:
        return [
            {
                "attempt_no": None,
                "at": as_utc(at).isoformat(),
                "state": "skipped",
                "outcome": "",
                "talk_seconds": None,
                "disposition": "",
                "abandoned": False,
                "skip_reason": reason,
                "agent": username,
            }
            for at, reason, username in conn.execute(q)
        ]


def _attempt_rows(engine: Engine, contact_id: int) -> list[dict[str, Any]]:
    q = (
        sa.select(
            col(Attempt.attempt_no),
            col(Attempt.created_at),
            col(Attempt.state),
            col(Attempt.sip_outcome),
            col(Attempt.talk_seconds),
            col(Attempt.disposition),
            col(Attempt.abandoned),
        )
        .where(col(Attempt.contact_id) == contact_id)
        .order_by(col(Attempt.id).desc())
    )
    with engine.connect() as conn:
        return [
            {
                "attempt_no": n,
                "at": as_utc(at).isoformat(),
                "state": state,
                "outcome": outcome,
                "talk_seconds": talk,
                "disposition": dispo,
                "abandoned": bool(ab),
            }
            for n, at, state, outcome, talk, dispo, ab in conn.execute(q)
        ]
