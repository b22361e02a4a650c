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


def test_record_counts_in_one_read_equal_the_hoppers_counts(engine: Engine) -> None:
    """The live view's counts (one grouped read of the hopper index) are the hopper's own."""
    from dialer import hopper

    numbers = [f"+86138000001{i:02d}" for i in range(12)]
    cid = weekday_campaign(engine, numbers)
    later = MONDAY + timedelta(hours=2)
    states = ["new", "retry", "retry", "dialing", "wrap", "done", "suppressed", "new", "retry"]
    with engine.begin() as conn:
        for i, st in enumerate(states):
            conn.execute(
                sa.text(
                    "UPDATE contacts SET status=:s, suppressed=:sup, next_due_at=:t "
                    "WHERE primary_number=:n"
                ),
                {"s": st, "sup": st == "suppressed" or i == 7, "n": numbers[i],
                 "t": later if i in (2, 8) else MONDAY - timedelta(hours=1)},
            )  # fmt: skip
    counts = dbstatus.record_counts(engine, cid, MONDAY)
    assert counts.remaining == hopper.remaining(engine, cid) == 9
    assert counts.due_now == hopper.dialable_count(engine, cid, MONDAY) == 5
    assert counts.by_status == {"new": 5, "retry": 3, "dialing": 1, "wrap": 1, "done": 1,
                                "suppressed": 1}  # fmt: skip
    status = dbstatus.db_status(engine, cid, MONDAY)
    assert status["records_remaining"] == 9 and status["records_by_status"] == counts.by_status


def test_with_a_memo_the_costly_counts_are_kept_until_stale(engine: Engine) -> None:
    """The live view passes a Memo: records, attempts and the abandon gauge are read once per
    ttl (outdial/memo.py); without one, every status reads them now (the CLI, the API)."""
    from outdial.memo import Memo

    numbers = [f"+86138000002{i:02d}" for i in range(4)]
    cid = weekday_campaign(engine, numbers)
    clock = [0.0]
    memo = Memo(ttl=2.0, clock=lambda: clock[0])
    assert dbstatus.db_status(engine, cid, MONDAY, memo)["records_remaining"] == 4
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET status='done' WHERE primary_number=:n"),
                     {"n": numbers[0]})  # fmt: skip
    assert dbstatus.db_status(engine, cid, MONDAY)["records_remaining"] == 3
    assert dbstatus.db_status(engine, cid, MONDAY, memo)["records_remaining"] == 4  # kept
    clock[0] = 2.5  # stale: served once more while the refresh reads it again
    assert dbstatus.db_status(engine, cid, MONDAY, memo)["records_remaining"] == 4
    memo.settle()
    assert dbstatus.db_status(engine, cid, MONDAY, memo)["records_remaining"] == 3
    memo.close()
