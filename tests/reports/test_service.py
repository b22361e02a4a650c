"""Requests as the CLI and API pass them: campaigns named, the zone of a cross-zone report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from campaigns import rules
from campaigns import store as campaigns
from reports import service
from reports.errors import ReportInvalid

DAY = {"from": "2026-12-01", "to": "2026-12-01", "interval": "day", "kpi": "dials"}


def test_unknown_campaign_names_the_field(sqlite_engine: Engine) -> None:
    timeline.build(sqlite_engine)
    with pytest.raises(ReportInvalid) as err:
        service.build_query(sqlite_engine, {**DAY, "campaign": "nope"})
    assert err.value.as_dict()["field"] == "campaign"


def test_cross_zone_report_says_its_zone(sqlite_engine: Engine) -> None:
    timeline.build(sqlite_engine)
    spec = rules.parse_campaign(
        {
            "name": "NY",
            "kind": "return_visit",
            "caller_id": "+12125550100",
            "timezone": "America/New_York",
        }
    )
    campaigns.save_spec(sqlite_engine, spec)
    rep = service.kpi_report(sqlite_engine, DAY, timeline.at(12, 0))
    assert rep.query.zone == "UTC"
    assert "America/New_York" in rep.notes[0] and "Asia/Shanghai" in rep.notes[0]
    shanghai = service.kpi_report(sqlite_engine, {**DAY, "campaign": "回访一"}, timeline.at(12, 0))
    assert shanghai.query.zone == "Asia/Shanghai" and not shanghai.notes
    assert shanghai.rows[0][1] == 5
