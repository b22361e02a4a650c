"""The forecast from what outdial measured: the timeline's rates, windows, callbacks due."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from campaigns.models import Callback
from outdial.storage import session_scope
from reports import forecast_store
from reports.errors import ReportInvalid

NOW = timeline.at(2, 0)  # 10:00 in Shanghai


def test_plan_from_the_hand_timeline(engine: Engine) -> None:
    ids = timeline.build(engine)
    with session_scope(engine) as s:
        for i in range(3):
            s.add(
                Callback(
                    campaign_id=ids["campaign"],
                    phone="+8613800000001",
                    customer_zone="Asia/Shanghai",
                    local_time="10:40",
                    due_at=NOW + timedelta(minutes=40 + i),
                )
            )
    out = forecast_store.plan(engine, "回访一", "2026-12-01T12:00", NOW)
    r = out["rates"]
    # talk 180 s of 1200 s logged in; 2 contacts: talk 90 s, AHT (180 + 90) / 2; 3 of 5 live
    assert (r["talk_share"], r["talk_seconds"], r["aht"], r["answer_rate"]) == (0.15, 90, 135, 0.6)
    assert out["records_left"] == 5
    halves = out["half_hours"]
    assert [h["label"] for h in halves] == [
        "2026-12-01T10:00+08:00",
        "2026-12-01T10:30+08:00",
        "2026-12-01T11:00+08:00",
        "2026-12-01T11:30+08:00",
    ]
    # 5 contacts over 4 open half hours; an agent makes 1800 * 0.15 / 90 = 3 per half hour
    assert sum(h["contacts"] for h in halves) == pytest.approx(5)
    assert halves[0]["agents_exact"] == pytest.approx(1.25 / 3, abs=1e-3)
    assert out["agent_half_hours"] == 2
    assert [h["callbacks_due"] for h in halves] == [0, 3, 0, 0]
    assert halves[1]["callback_agents"] >= 1 and halves[0]["callback_agents"] == 0


def test_deadline_passed_is_refused(engine: Engine) -> None:
    timeline.build(engine)
    with pytest.raises(ReportInvalid) as err:
        forecast_store.plan(engine, "回访一", "2026-12-01T08:00", NOW)
    assert err.value.as_dict()["field"] == "deadline"
