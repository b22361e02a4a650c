"""dialer/status.py from storage: "why is it not dialing?" (issue 16 item 6), and what a
status says about a campaign whose server is gone (item 5), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaigns
from dialer import status as dbstatus

SH = ZoneInfo("Asia/Shanghai")
SATURDAY = datetime(2026, 12, 5, 11, 0, tzinfo=SH).astimezone(UTC)
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=SH).astimezone(UTC)


def weekday_campaign(engine: Engine, numbers: list[str]) -> int:
    cid = dialdata.campaign_with_contacts(engine, "why", numbers)
    spec = rules.parse_campaign(
        {
            "name": "why",
            "caller_id": "+8610010000",
            "timezone": "Asia/Shanghai",
            "schedule": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        }
    )
    campaigns.save_spec(engine, spec)
    return cid


def test_outside_the_schedule_and_nothing_due(engine: Engine) -> None:
    cid = weekday_campaign(engine, ["+8613800000011", "+8613800000022"])
    idle = dbstatus.db_status(engine, cid, SATURDAY)["idle"]
    assert idle["code"] == "outside_schedule"
    assert idle["message"] == "outside the schedule — next window Mon 09:00 Asia/Shanghai"

    assert dbstatus.db_status(engine, cid, MONDAY)["idle"] is None  # two new records due
    callback = datetime(2026, 12, 8, 9, 0, tzinfo=SH)
    with engine.begin() as conn:  # one promised callback tomorrow, one retry in the afternoon
        conn.execute(
            sa.text(
                "UPDATE contacts SET status='retry', attempts=1, callback_at=:t, next_due_at=:t"
                " WHERE primary_number='+8613800000011'"
            ),
            {"t": callback.astimezone(UTC)},
        )
        conn.execute(
            sa.text(
                "UPDATE contacts SET status='retry', attempts=1, last_outcome='busy',"
                " next_due_at=:t WHERE primary_number='+8613800000022'"
            ),
            {"t": MONDAY + timedelta(hours=5)},
        )
    idle = dbstatus.db_status(engine, cid, MONDAY)["idle"]
    assert idle["message"] == (
        "nothing due — next record due 2026-12-07 15:00 Asia/Shanghai (retry after busy)"
    )
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET status='done' WHERE last_outcome='busy'"))
    idle = dbstatus.db_status(engine, cid, MONDAY)["idle"]
    assert (
        idle["message"] == "nothing due — next record due 2026-12-08 09:00 Asia/Shanghai (callback)"
    )


def test_a_definition_it_cannot_read_is_named_not_a_crash(engine: Engine) -> None:
    cid = weekday_campaign(engine, ["+8613800000033"])
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE campaign_settings SET spec = :s WHERE campaign_id = :c"),
            {"s": '{"name": "why", "timezone": "Mars/Base"}', "c": cid},
        )
    idle = dbstatus.db_status(engine, cid, MONDAY)["idle"]
    assert idle["code"] == "definition_invalid" and "Mars/Base" in idle["message"]
