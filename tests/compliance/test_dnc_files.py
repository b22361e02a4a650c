"""DNC files and registry snapshots into storage (SQLite and PostgreSQL): the report of an
import, reasons kept per row, snapshots with their age and staleness (rules 7, 8, 24)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from compliance import dnc_files, store
from outdial.errors import InvalidInput


def test_import_reports_added_duplicates_and_invalid_lines(engine: Engine, tmp_path: Path) -> None:
    store.dnc_add(engine, "13800001111", reason="earlier")
    path = tmp_path / "dnc.csv"
    path.write_text(
        "phone,reason\n13800001111,again\n13800002222,投诉\n+8613800002222,\n12,short\n"
        "13800003333,\n",
        encoding="utf-8",
    )
    report = dnc_files.import_file(engine, path, reason="批量导入")
    assert report["read"] == 5
    assert (report["added"], report["duplicates"], report["invalid"]) == (2, 2, 1)
    assert report["invalid_rows"] == [{"row": 5, "number": "12"}]
    reasons = {e.number: e.reason for e in store.dnc_export(engine)}
    assert reasons == {
        "+8613800001111": "earlier",  # kept, not overwritten
        "+8613800002222": "投诉",
        "+8613800003333": "批量导入",  # the form's reason for a row without one
    }
    assert store.audit_verify(engine).intact


def test_registry_snapshot_with_age_and_staleness(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "reg.txt"
    path.write_text("2125551234\n2125551235\n", encoding="ascii")
    today = date(2026, 12, 7)
    snap = dnc_files.load_registry(engine, path, "us-national", "2026-11-01", today)
    assert (snap.count, snap.age_days, snap.max_age_days, snap.stale) == (2, 36, 31, True)
    dnc_files.load_registry(engine, path, "us-national", "2026-12-01", today)
    newest = dnc_files.snapshots(engine, today)[0]
    assert newest.as_of == date(2026, 12, 1) and not newest.stale
    assert store.registry_dates(engine)["us-national"] == date(2026, 12, 1)
    for name, as_of, text in (
        ("nope", "2026-12-01", "2125551234\n"),
        ("us-national", "01/12/2026", "2125551234\n"),
        ("us-national", "2026-12-08", "2125551234\n"),
        ("us-national", "2026-12-01", "not a number\n"),
    ):
        path.write_text(text, encoding="ascii")
        with pytest.raises(InvalidInput):
            dnc_files.load_registry(engine, path, name, as_of, today)
