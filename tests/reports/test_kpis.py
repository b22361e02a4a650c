"""KPI definitions as pure functions over frames, on a hand-computed timeline."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports import kpis
from reports.errors import ReportInvalid

# one agent: ready 0-100, talk 100-400, wrap 400-460, paused 460-1000 (lunch), ready to 1200
CHANGES = pd.DataFrame(
    {
        "entity": ["7"] * 6,
        "campaign_id": [1] * 6,
        "target": ["ready", "talk", "wrap", "paused", "ready", "logged_out"],
        "reason": ["", "c1", "c1", "lunch", "", ""],
        "t": [0.0, 100.0, 400.0, 460.0, 1000.0, 1200.0],
    }
)


def test_segments_end_at_next_change_and_drop_logged_out() -> None:
    seg = kpis.agent_segments(CHANGES, end=5000.0)
    assert list(zip(seg["target"], seg["t0"], seg["t1"], strict=True)) == [
        ("ready", 0.0, 100.0),
        ("talk", 100.0, 400.0),
        ("wrap", 400.0, 460.0),
        ("paused", 460.0, 1000.0),
        ("ready", 1000.0, 1200.0),
    ]


def test_open_state_lasts_until_end() -> None:
    seg = kpis.agent_segments(CHANGES.iloc[:4], end=700.0)
    assert seg["t1"].tolist()[-1] == 700.0


def test_split_on_slot_boundaries_keeps_every_second() -> None:
    parts = kpis.split_slots(kpis.agent_segments(CHANGES, end=5000.0))
    assert parts["seconds"].sum() == pytest.approx(1200.0)
    paused = parts[parts["target"] == "paused"]
    assert list(zip(paused["slot"], paused["seconds"], strict=True)) == [(0, 440.0), (1, 100.0)]


def test_occupancy_aht_wrap_and_away_by_hand() -> None:
    parts = kpis.split_slots(kpis.agent_segments(CHANGES, end=5000.0))
    m = kpis.agent_time_measures(parts.assign(agent=7), ["agent"])
    m["bridged"] = 1
    out = kpis.compute(m, ["occupancy", "aht", "wrap_time", "away_time", "idle_time"])
    row = out.iloc[0]
    assert row["occupancy"] == pytest.approx(360 / 660)  # (300 + 60) / (300 + 300 + 60)
    assert row["aht"] == pytest.approx(360.0)
    assert row["wrap_time"] == pytest.approx(60.0)
    assert row["away_time"] == pytest.approx(540.0)
    assert row["away_time:lunch"] == pytest.approx(540.0)
    assert row["idle_time"] == pytest.approx(300.0)


def test_rates_from_sums_and_no_data_is_not_zero() -> None:
    m = pd.DataFrame(
        {
            "dials": [10, 0],
            "live": [4, 0],
            "abandoned": [1, 0],
            "contacts": [3, 0],
            "successes": [2, 0],
            "transfers": [1, 0],
            "fcr": [3, 0],
        }
    )
    out = kpis.compute(m, ["connect_rate", "abandon_rate", "success_rate", "transfer_rate", "fcr"])
    assert out.iloc[0].tolist() == pytest.approx([0.4, 0.25, 2 / 3, 1 / 3, 1.0])
    assert all(math.isnan(x) for x in out.iloc[1].tolist())


def test_csat_and_satisfaction_per_question() -> None:
    m = pd.DataFrame(
        {
            "sat:q1:n": [4.0],
            "sat:q1:sum": [17.0],
            "sat:q1:top": [2.0],
            "sat:q1:top2": [3.0],
            "sat:q2:n": [1.0],
            "sat:q2:sum": [2.0],
            "sat:q2:top": [0.0],
            "sat:q2:top2": [0.0],
        }
    )
    out = kpis.compute(m, ["csat"]).iloc[0]
    assert out["csat"] == pytest.approx(3 / 5)
    assert out["satisfaction:q1:mean"] == pytest.approx(4.25)
    assert out["satisfaction:q1:top_box"] == pytest.approx(0.5)


def test_unknown_kpi_is_refused() -> None:
    with pytest.raises(ReportInvalid):
        kpis.check_kpis(["dials", "nope"])
    assert kpis.check_kpis(None) == list(kpis.KPIS)
    assert kpis.zh_name("connect_rate") == "接通率"
