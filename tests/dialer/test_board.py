"""dialer/board.py: today's KPIs (shared/domain.md definitions), caps, skip reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import store as campaigns
from dialer import board
from dialer.models import Attempt
from outdial.storage import session_scope


def _attempt(engine: Engine, cid: int, contact: int, n: int, **kw: Any) -> None:
    with session_scope(engine) as s:
        s.add(
            Attempt(
                call_id=f"c{cid}-{n}",
                campaign_id=cid,
                contact_id=contact,
                number="+8613800000000",
                final=True,
                **kw,
            )
        )


def test_today_figures_follow_the_kpi_definitions(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "kpi", ["+8613800000001"])
    contact = dialdata.rows(engine, "SELECT id FROM contacts")[0][0]
    now = datetime.now(UTC)
    t = now - timedelta(minutes=5)
    _attempt(engine, cid, contact, 1)  # no answer
    _attempt(engine, cid, contact, 2, answered_at=t, amd="machine")  # not live
    _attempt(engine, cid, contact, 5, answered_at=t, amd="announcement")  # a carrier's SIT
    _attempt(engine, cid, contact, 3, answered_at=t, abandoned=True)
    end, dispo = t + timedelta(seconds=60), t + timedelta(seconds=90)
    _attempt(engine, cid, contact, 4, answered_at=t, bridged_at=t, ended_at=end,
             talk_seconds=60.0, disposition_at=dispo)  # fmt: skip
    camp = campaigns.get(engine, cid)
    f = board.today_figures(engine, camp, now)
    assert f["dials"] == 5 and f["live_answers"] == 2 and f["contacts"] == 1
    assert f["connect_rate"] == 0.4 and f["abandon_rate"] == 0.5
    assert f["aht_seconds"] == 90.0  # 60 s talk + 30 s wrap-up
    assert f["timezone"] == "Asia/Shanghai"


def test_aht_is_summed_in_the_database_on_both_backends(engine: Engine) -> None:
    """Talk + wrap-up (disposition after hang-up, never negative) of handled calls only."""
    cid = dialdata.campaign_with_contacts(engine, "aht", ["+8613800000001"])
    contact = dialdata.rows(engine, "SELECT id FROM contacts")[0][0]
    now = datetime.now(UTC)
    t = now - timedelta(minutes=5)
    end = t + timedelta(seconds=40)
    calls = [  # (talk, disposition after end, expected handle seconds)
        (40.0, timedelta(seconds=12, milliseconds=250), 52.25),
        (30.5, None, 30.5),  # no disposition yet: no wrap-up
        (None, timedelta(seconds=5), 5.0),
        (20.0, -timedelta(seconds=3), 20.0),  # a disposition typed before the hang-up
    ]
    for n, (talk, wrap, _) in enumerate(calls):
        _attempt(engine, cid, contact, n, answered_at=t, bridged_at=t, ended_at=end,
                 talk_seconds=talk, disposition_at=end + wrap if wrap else None)  # fmt: skip
    _attempt(engine, cid, contact, 9, answered_at=t, talk_seconds=99.0)  # never bridged
    f = board.today_figures(engine, campaigns.get(engine, cid), now)
    assert f["aht_seconds"] == round(sum(c[2] for c in calls) / len(calls), 1) == 26.9


def test_us_campaigns_are_held_to_the_three_percent_cap() -> None:
    assert board.abandon_cap("US") == 0.03
    assert board.abandon_cap("CN") is None


def test_skip_reasons_count_held_records_by_rule(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "held", [f"+861380000000{i}" for i in range(5)])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET last_outcome='rule-28' WHERE id <= 3"))
        conn.execute(
            sa.text("UPDATE contacts SET last_outcome='rule-8', status='done' WHERE id = 4")
        )
    skips = board.skip_reasons(engine, cid)
    assert skips == [
        {"rules": ["rule-28"], "later": True, "count": 3},
        {"rules": ["rule-8"], "later": False, "count": 1},
    ]


def test_simulated_calls_are_counted_apart_from_real_ones(engine: Engine) -> None:
    """Issue 17: the board's figures are of real calls; the simulated carrier's are apart,
    and the abandon rate against the legal cap never includes them."""
    cid = dialdata.campaign_with_contacts(engine, "mixed", ["+8613800000001"])
    contact = dialdata.rows(engine, "SELECT id FROM contacts")[0][0]
    now = datetime.now(UTC)
    t = now - timedelta(minutes=5)
    camp = campaigns.get(engine, cid)
    _attempt(engine, cid, contact, 1, answered_at=t, bridged_at=t)  # real, handled
    assert board.today_figures(engine, camp, now)["simulated"] is None  # none: no line
    _attempt(engine, cid, contact, 2)  # real, no answer
    for n in range(3, 7):  # simulated: four live answers, three abandoned
        _attempt(engine, cid, contact, n, answered_at=t, abandoned=n > 3, simulated=True)
    f = board.today_figures(engine, camp, now)
    assert (f["dials"], f["live_answers"], f["contacts"], f["abandoned"]) == (2, 1, 1, 0)
    assert f["abandon_rate"] == 0.0 and not f["abandon_over_cap"]
    sim = f["simulated"]
    assert (sim["dials"], sim["live_answers"], sim["contacts"], sim["abandoned"]) == (4, 4, 0, 3)
    assert sim["abandon_rate"] == 0.75
    (row,) = board.board(engine, now)
    assert row["today"]["simulated"]["dials"] == 4


def test_today_starts_at_midnight_in_the_campaigns_zone_on_both_backends(engine: Engine) -> None:
    """Asia/Shanghai's day starts at 16:00 UTC. On SQLite a local-time bound was compared with
    UTC wall times as text, so from 16:00 to 24:00 UTC the board read 0 calls for the day."""
    cid = dialdata.campaign_with_contacts(engine, "midnight", ["+8613800000001"])
    contact = dialdata.rows(engine, "SELECT id FROM contacts")[0][0]
    now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 01:00 on 8 December in Shanghai
    _attempt(engine, cid, contact, 1, created_at=datetime(2026, 12, 7, 16, 30, tzinfo=UTC))
    _attempt(engine, cid, contact, 2, created_at=datetime(2026, 12, 7, 15, 30, tzinfo=UTC))
    f = board.today_figures(engine, campaigns.get(engine, cid), now)
    assert f["dials"] == 1  # 00:30 today counts, 23:30 yesterday does not
    later = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai, the same local day
    _attempt(engine, cid, contact, 3, created_at=datetime(2026, 12, 8, 1, 0, tzinfo=UTC))
    assert board.today_figures(engine, campaigns.get(engine, cid), later)["dials"] == 2
