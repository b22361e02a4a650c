"""The compliance stores on SQLite and PostgreSQL: DNC (rules 8, 9), consent (rule 9),
registry snapshots (rules 7, 24), atomic cap slots (rule 34) and the audit chain (rule 36)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compliance import store
from compliance.caps import KeyKind, Slot
from compliance.decision import ConsentStatus
from compliance.errors import InvalidNumberInput
from compliance.registry import from_lines

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_normalize_numbers() -> None:
    assert store.normalize("138 1234 5678") == "+8613812345678"
    assert store.normalize("(212) 555-1234", "US") == "+12125551234"
    assert store.normalize("+44 20 7946 0018") == "+442079460018"
    for bad in ("hello", "12", ""):
        with pytest.raises(InvalidNumberInput):
            store.normalize(bad)


def test_rule8_dnc_add_is_idempotent_and_audited(engine: Engine) -> None:
    entry, created = store.dnc_add(engine, "13812345678", source="agent", reason="asked")
    assert created and entry.number == "+8613812345678"
    _, created = store.dnc_add(engine, "+86 138 1234 5678")
    assert not created
    (hit,) = store.dnc_lookup(engine, ["+8613812345678", "+8613900000000"])
    assert hit.number == "+8613812345678" and hit.source == "agent"
    assert store.dnc_remove(engine, "13812345678", by="admin")
    assert not store.dnc_remove(engine, "13812345678")
    assert store.dnc_lookup(engine, ["+8613812345678"]) == ()
    kinds = [r[0] for r in _audit(engine)]
    assert kinds == ["dnc_add", "dnc_remove"]


def test_dnc_import_reports_every_line(engine: Engine) -> None:
    store.dnc_add(engine, "+8613800000001")
    lines = ["# header", "+8613800000001", "13800000002", "13800000002", "garbage", "", "12"]
    result = store.dnc_import(engine, lines)
    assert result.read == 5
    assert result.added == 1
    assert [text for _, text in result.invalid] == ["garbage", "12"]
    assert result.already == 2  # one already on the list, one repeated in the file
    assert {e.number for e in store.dnc_export(engine)} == {"+8613800000001", "+8613800000002"}


def test_dnc_retention_is_five_years(engine: Engine) -> None:
    store.dnc_add(engine, "+8613800000001", at=NOW - timedelta(days=5 * 365 + 1))
    store.dnc_add(engine, "+8613800000002", at=NOW - timedelta(days=5 * 365 - 1))
    assert store.dnc_purge_expired(engine, now=NOW) == 1
    assert [e.number for e in store.dnc_export(engine)] == ["+8613800000002"]


def test_rule9_revocation_suppresses_at_once(engine: Engine) -> None:
    store.consent_record(engine, "+8613800000001", "granted", seller="acme", evidence="form 12")
    assert store.dnc_lookup(engine, ["+8613800000001"]) == ()
    store.consent_record(engine, "+8613800000001", ConsentStatus.REVOKED, channel="ivr")
    records = store.consents_for(engine, "+8613800000001")
    assert [r.status for r in records] == [ConsentStatus.GRANTED, ConsentStatus.REVOKED]
    assert records[0].seller == "acme" and records[1].seller is None
    (hit,) = store.dnc_lookup(engine, ["+8613800000001"])
    assert hit.source == "ivr"


def test_registry_snapshot_round_trip(engine: Engine) -> None:
    reg = from_lines("us-national", date(2026, 11, 1), ["2125551234", "+13105550000", "2125551234"])
    snap = store.registry_save(engine, reg)
    assert snap.count == 2
    loaded = store.registry_latest(engine, "us-national")
    assert loaded is not None and loaded.snapshot == date(2026, 11, 1)
    assert "+12125551234" in loaded and "+12125550000" not in loaded
    assert store.registry_dates(engine) == {"us-national": date(2026, 11, 1)}
    assert store.registry_latest(engine, "uk-tps") is None


def slot(limit: int) -> Slot:
    return Slot("rule-14", "n:+13055550000", KeyKind.NUMBER, 86400, limit)


def test_rule34_slots_count_attempts_in_a_rolling_window(engine: Engine) -> None:
    for i in range(3):
        assert store.take_slots(engine, [slot(3)], NOW + timedelta(minutes=i)) is None
    full = store.take_slots(engine, [slot(3)], NOW + timedelta(hours=1))
    assert full is not None and full.rule == "rule-14"
    # the first attempt leaves the 24 h window: one slot frees
    assert store.take_slots(engine, [slot(3)], NOW + timedelta(hours=24, seconds=1)) is None


def test_rule34_two_writers_never_both_take_the_last_slot(engine: Engine) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.take_slots(engine, [slot(3)], NOW) is None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 3


def _audit(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(sa.text("SELECT kind, id FROM audit_log ORDER BY id"))
        ]


def test_rule36_audit_chain_detects_edits_and_deletions(engine: Engine) -> None:
    for i in range(5):
        store.dnc_add(engine, f"+861380000000{i}")
    verdict = store.audit_verify(engine)
    assert verdict.intact and verdict.rows == 5
    ids = [row_id for _, row_id in _audit(engine)]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_log SET body = replace(body, '0002', '0009') WHERE id = :i"),
            {"i": ids[2]},
        )
    assert store.audit_verify(engine).first_bad_id == ids[2]


def test_rule36_deleted_row_is_found(engine: Engine) -> None:
    for i in range(4):
        store.dnc_add(engine, f"+861380000000{i}")
    ids = [row_id for _, row_id in _audit(engine)]
    head = store.audit_verify(engine).head
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
    assert store.audit_verify(engine).first_bad_id == ids[2]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[1]})
    # only the first row is left: the chain is consistent, the known head says rows are missing
    assert store.audit_verify(engine).intact
    assert not store.audit_verify(engine, expected_head=head).intact


def test_rule36_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    barrier = threading.Barrier(6)

    def worker(i: int) -> None:
        barrier.wait()
        store.dnc_add(engine, f"+86138000001{i:02d}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = store.audit_verify(engine)
    assert verdict.intact and verdict.rows == 6


def test_rule34_caps_of_two_windows_on_one_key_count_each_attempt_once(engine: Engine) -> None:
    day = Slot("rule-29", "n:+8613800000011", KeyKind.NUMBER, 86400, 3)
    month = Slot("rule-29", "n:+8613800000011", KeyKind.NUMBER, 30 * 86400, 10)
    taken = [store.take_slots(engine, [day, month], NOW + timedelta(minutes=i)) for i in range(4)]
    assert taken[:3] == [None, None, None] and taken[3] == day
