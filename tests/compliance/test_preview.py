"""The set-based preview (compliance/preview.py) decides every record exactly as the dialing
gate's per-number lookups would (SQLite and PostgreSQL), and keeps example records for each
blocking reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compliance import store
from compliance.decision import check
from compliance.gate import gate_for, preview_report
from compliance.preview import SAMPLES_PER_REASON, decisions
from dialer import hopper

MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
NUMBERS = [f"+86138000{i:05d}" for i in range(14)]


def mixed_campaign(engine: Engine) -> int:
    """Fourteen CN records: consents granted, refused, none; DNC entries; a dial history
    that reaches the daily cap; another campaign's attempts on the same number."""
    cid = dialdata.campaign_with_contacts(engine, "mixed", NUMBERS)
    day_before = MORNING - timedelta(days=1)
    for n in NUMBERS[:10]:
        store.consent_record(engine, n, "granted", evidence="form", at=day_before)
    store.consent_record(engine, NUMBERS[3], "revoked", at=day_before + timedelta(hours=1))
    store.dnc_add(engine, NUMBERS[4], reason="asked", at=day_before)
    store.dnc_add(engine, NUMBERS[11], reason="asked", at=day_before)
    other = dialdata.campaign_with_contacts(engine, "other", NUMBERS[5:7])
    leads = hopper.claim(engine, other, 2, MORNING - timedelta(hours=2))
    for k in range(3):  # three dials today on +...05 (rule 29 allows three a day)
        hopper.open_attempt(engine, f"o{k}", other, leads[0], "n", MORNING - timedelta(hours=1))
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE attempts SET final=:t, state='no_answer' WHERE call_id=:c"),
                {"t": True, "c": f"o{k}"},
            )
    return cid


def test_preview_decides_every_record_as_the_gate_does(engine: Engine) -> None:
    cid = mixed_campaign(engine)
    gate = gate_for(engine, cid)
    for at in (MORNING, MORNING + timedelta(hours=12)):  # in and outside calling hours
        got = {r.number: d for r, d in decisions(gate, at)}
        assert sorted(got) == NUMBERS
        for r, d in decisions(gate, at):
            request = gate.request(r.number, r.zones, r.number_type, gate.list_bases(r.list_id))
            expected = check(request, gate.context(r.number, at), at)
            assert d == expected, r.number
    reasons = {n: {x.rule for x in d.reasons} for n, d in got.items()}
    assert "rule-8" in reasons[NUMBERS[4]] and "rule-8" in reasons[NUMBERS[11]]
    assert "rule-26" in reasons[NUMBERS[12]]  # no basis at all


def test_preview_keeps_a_few_examples_per_reason(engine: Engine) -> None:
    cid = mixed_campaign(engine)
    summary, extra = preview_report(engine, cid, MORNING, MORNING + timedelta(hours=24))
    assert summary.now + summary.later + summary.blocked == len(NUMBERS)
    samples = extra["samples"]
    assert set(samples) == set(summary.by_reason)
    for code, shown in samples.items():
        assert 1 <= len(shown) <= min(SAMPLES_PER_REASON, summary.by_reason[code])
    dnc = next(v for k, v in samples.items() if k.startswith("rule-8:"))
    assert {s["number"] for s in dnc} == {NUMBERS[3], NUMBERS[4], NUMBERS[11]}  # 3 revoked
    assert all(s["list"] and s["row"] for s in dnc)
    # rule 26 also blocks the revoked number, which is not "missing a basis"
    assert 0 < extra["missing_basis_total"] < summary.by_reason["rule-26:CONSENT"]
