"""campaigns/survey_store.py on SQLite and on a real PostgreSQL: results by local day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from campaigns import rules, store, survey_store, surveys


def campaign(engine: Engine, name: str, zone: str) -> int:
    spec = rules.parse_campaign(
        {
            "name": name,
            "kind": "satisfaction_survey",
            "caller_id": "+861012345678",
            "timezone": zone,
        }
    )
    row, _ = store.save_spec(engine, spec)
    assert row.id is not None
    return row.id


def utc(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def answer(
    engine: Engine, survey_id: int, key: str, cid: int | None, value: int, at: datetime
) -> None:
    resp, _ = survey_store.start_response(engine, survey_id, key, campaign_id=cid)
    survey_store.save_answer(engine, resp.id or 0, "overall", value, at)


def test_results_by_day_use_the_campaign_local_day(engine: Engine) -> None:
    cn = campaign(engine, "上海热线", "Asia/Shanghai")
    us = campaign(engine, "nyc", "America/New_York")
    sid = survey_store.save_survey(engine, surveys.SEED_TEMPLATE).id or 0
    # UTC day 2026-03-01 for every one of these but the New York answer (UTC 2026-03-02)
    answer(engine, sid, "cn-late", cn, 5, utc(1, 23, 30))  # Shanghai 03-02 07:30
    answer(engine, sid, "cn-midnight", cn, 4, utc(1, 16, 0))  # Shanghai 03-02 00:00
    answer(engine, sid, "cn-before", cn, 3, utc(1, 15, 59))  # Shanghai 03-01 23:59
    answer(engine, sid, "no-campaign", None, 1, utc(1, 23, 30))  # no campaign: UTC 03-01
    answer(engine, sid, "us-evening", us, 2, utc(2, 3, 0))  # New York 03-01 22:00

    data = survey_store.results(engine, sid, "day")

    counts = {day: stats[0]["count"] for day, stats in data["groups"].items()}
    assert counts == {"2026-03-01": 3, "2026-03-02": 2}
    assert data["groups"]["2026-03-02"][0]["mean"] == 4.5  # the two Shanghai answers after 00:00
    assert data["groups"]["2026-03-01"][0]["mean"] == 2  # 3 (Shanghai), 1 (UTC), 2 (New York)
    assert data["day_zones"] == {
        "": "UTC",
        "nyc": "America/New_York",
        "上海热线": "Asia/Shanghai",
    }
    by_campaign = survey_store.results(engine, sid, "campaign")["groups"]
    assert by_campaign["上海热线"][0]["count"] == 3  # grouping by campaign is unchanged
