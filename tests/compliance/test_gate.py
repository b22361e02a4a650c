"""The engine's compliance gate over a real database (SQLite and PostgreSQL): the core's
decision fed from storage, cap slots taken atomically, every decision audited (rule 36)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compliance import store
from compliance.gate import gate_for, profiles_for_region
from dialer import actions as act
from dialer import hopper

# 10:00 in Beijing; 21:00 in Beijing
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
NUMBER = "+8613800000011"


def lead(number: str = NUMBER) -> act.Lead:
    return act.Lead(1, number, zones=("Asia/Shanghai",), data={"number_type": "mobile"})


def audit_kinds(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT kind FROM audit_log ORDER BY id"))]


def test_region_picks_profiles() -> None:
    assert profiles_for_region("CN") == ("cn",)
    assert profiles_for_region("gb") == ("uk",)
    assert profiles_for_region("DE") == ("eu",)
    assert profiles_for_region("ZZ") == ()


def test_rule26_cn_needs_consent_then_allows_and_audits(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "cn1", [NUMBER])
    gate = gate_for(engine, cid)
    verdict = gate.check(lead(), MORNING, "call-1")
    assert not verdict.allowed and "rule-26" in verdict.reason
    store.consent_record(engine, NUMBER, "granted", evidence="signed form", at=MORNING)
    verdict = gate.check(lead(), MORNING + timedelta(seconds=1), "call-2")
    assert verdict.allowed, verdict.reason
    assert audit_kinds(engine).count("decision") == 2
    assert store.audit_verify(engine).intact


def test_rule28_evening_blocked_with_next_morning(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "cn2", [NUMBER])
    store.consent_record(engine, NUMBER, "granted", at=MORNING - timedelta(days=1))
    verdict = gate_for(engine, cid).check(lead(), EVENING, "c")
    assert not verdict.allowed and "rule-28" in verdict.reason
    assert verdict.next_allowed_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Beijing


def test_rule8_dnc_blocks_from_the_moment_of_capture(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "cn3", [NUMBER])
    store.consent_record(engine, NUMBER, "granted", at=MORNING - timedelta(days=1))
    gate = gate_for(engine, cid)
    store.dnc_add(engine, NUMBER, source="agent", at=MORNING)
    verdict = gate.check(lead(), MORNING + timedelta(seconds=1), "c")
    assert not verdict.allowed and "rule-8" in verdict.reason
    assert verdict.next_allowed_at is None


def test_rule29_caps_are_taken_atomically(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "cn4", [NUMBER])
    store.consent_record(engine, NUMBER, "granted", at=MORNING - timedelta(days=1))
    gate = gate_for(engine, cid)
    allowed = [
        gate.check(lead(), MORNING + timedelta(minutes=i), f"c{i}").allowed for i in range(4)
    ]
    assert allowed == [True, True, True, False]


def test_rule2_abandon_gate_stops_predictive_dialing(engine: Engine) -> None:
    numbers = [f"+1212555{i:04d}" for i in range(40)]
    cid = dialdata.campaign_with_contacts(engine, "us1", numbers, mode="predictive")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE campaigns SET region='US', kind='return_visit' WHERE id=:c"), {"c": cid}
        )
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 11:00 in New York
    leads = hopper.claim(engine, cid, 40, now)
    for i, ld in enumerate(leads[:34]):  # 34 live answers, 2 of them abandoned: 5.9 %
        hopper.open_attempt(engine, f"a{i}", cid, ld, "n", now - timedelta(hours=1))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE attempts SET answered_at=:t, final=:f, abandoned=:a, "
                    "state='completed' WHERE call_id=:c"
                ),
                {"t": now - timedelta(hours=1), "f": True, "a": i < 2, "c": f"a{i}"},
            )
    gate = gate_for(engine, cid)
    ld = act.Lead(
        99, "+12125559999", zones=("America/New_York",), data={"number_type": "fixed_line"}
    )
    verdict = gate.check(ld, now, "x")
    assert not verdict.allowed and "rule-2" in verdict.reason
    preview = gate_for(engine, cid, mode="preview").check(ld, now, "y")
    assert "rule-2" not in preview.reason  # an agent is guaranteed: no abandon risk


def test_rule2_the_pacer_reads_the_legal_gauge(engine: Engine) -> None:
    numbers = [f"+1212555{i:04d}" for i in range(10)]
    cid = dialdata.campaign_with_contacts(engine, "us2", numbers, mode="predictive")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET region='US' WHERE id=:c"), {"c": cid})
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    for i, ld in enumerate(hopper.claim(engine, cid, 10, now)):
        hopper.open_attempt(engine, f"g{i}", cid, ld, "n", now - timedelta(hours=2))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE attempts SET answered_at=:t, final=:f, abandoned=:a WHERE call_id=:c"
                ),
                {"t": now - timedelta(hours=2), "f": True, "a": i == 0, "c": f"g{i}"},
            )
    assert gate_for(engine, cid).abandon_gauge(now) == (1, 10)


def test_a_carrier_announcement_is_not_a_live_answer_on_the_gauge(engine: Engine) -> None:
    """Issue 20: "not in service" after a 200 OK is no answer; counted live, it would
    lower the abandon rate (rule 2) with calls nobody could have abandoned."""
    cid, _ = dialdata.amd_campaign(engine, live=3, machines=0, sampled=0)
    assert gate_for(engine, cid).abandon_gauge(dialdata.AMD_NOW) == (0, 3)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE attempts SET amd='announcement' WHERE call_id='c0'"))
    assert gate_for(engine, cid).abandon_gauge(dialdata.AMD_NOW) == (0, 2)  # a new reading


def test_simulated_calls_never_count_in_the_legal_abandon_gauge(engine: Engine) -> None:
    """Issue 17: 34 live answers from the simulated carrier, 2 abandoned (5.9 %): the legal
    gauge of real calls reads 0/0 and lets a real runtime dial; a runtime dialing the
    simulated carrier steers by its own simulated gauge, which stops it."""
    numbers = [f"+1212555{i:04d}" for i in range(40)]
    cid = dialdata.campaign_with_contacts(engine, "us3", numbers, mode="predictive")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE campaigns SET region='US', kind='return_visit' WHERE id=:c"), {"c": cid}
        )
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    node = hopper.simulated_node("n")
    for i, ld in enumerate(hopper.claim(engine, cid, 34, now)):
        hopper.open_attempt(engine, f"s{i}", cid, ld, node, now - timedelta(hours=1))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE attempts SET answered_at=:t, final=:f, abandoned=:a, "
                    "state='completed' WHERE call_id=:c"
                ),
                {"t": now - timedelta(hours=1), "f": True, "a": i < 2, "c": f"s{i}"},
            )
    ld = act.Lead(
        99, "+12125559999", zones=("America/New_York",), data={"number_type": "fixed_line"}
    )
    real = gate_for(engine, cid)
    assert real.abandon_gauge(now) == (0, 0)
    assert all(r.live == 0 for r in real.abandon_readings(now).values())
    assert "rule-2" not in real.check(ld, now, "x").reason
    sim = gate_for(engine, cid, simulated=True)
    assert sim.abandon_gauge(now) == (2, 34)
    verdict = sim.check(ld, now, "y")
    assert not verdict.allowed and "rule-2" in verdict.reason


def test_simulated_dials_take_caps_of_their_own(engine: Engine) -> None:
    """Rule 29's three attempts a day: the simulated runtime's dials fill its own slots,
    never a real call's."""
    cid = dialdata.campaign_with_contacts(engine, "cn5", [NUMBER])
    store.consent_record(engine, NUMBER, "granted", at=MORNING - timedelta(days=1))
    sim, real = gate_for(engine, cid, simulated=True), gate_for(engine, cid)
    t = [MORNING + timedelta(minutes=i) for i in range(8)]
    assert [sim.check(lead(), t[i], f"s{i}").allowed for i in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert [real.check(lead(), t[4 + i], f"r{i}").allowed for i in range(4)] == [
        True,
        True,
        True,
        False,
    ]
