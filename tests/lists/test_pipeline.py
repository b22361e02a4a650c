"""A big file's numbers are normalized on worker processes, chunk by chunk, while the
importer writes: the outcome of every row is the one a single pass gives."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compliance.models import DncEntry
from lists import importer, pipeline, store
from lists.importer import ImportOptions
from outdial.storage import session_scope


def _rows(n: int) -> list[list[str]]:
    """Duplicates far apart (across chunks), invalid cells, DNC numbers, alternates,
    landlines with a trunk 0, and custom fields that need JSON escaping."""
    out = [["手机", "座机", "姓名", "备注"]]
    for i in range(n):
        mobile = f"138{i % 37:08d}" if i % 5 else f"+86 139 {i:04d} 0000"
        fixed = f"010-6234{i % 11:04d}" if i % 3 else ""
        if i % 13 == 0:
            mobile = "abc"
        out.append([mobile, fixed, f"客户{i}", 'say "hi"\\' if i % 7 == 0 else f"备注{i}"])
    return out


def _import(
    engine: Engine, path: Path, campaign: str, mode: str, chunks: int
) -> tuple[dict[str, Any], list[Any]]:
    seen: list[tuple[str, int, int]] = []
    r = importer.import_file(
        engine,
        path,
        ImportOptions(campaign, "l", dedupe=mode, create_campaign=True),
        lambda *a: seen.append(a),
    )
    assert len([s for s in seen if s[0] == "writing"]) == 1 + chunks
    _, contacts = store.contacts_page(engine, r["list_id"], 0, 1000)
    facts = [
        (c.row_number, c.primary_number, c.alternates, c.number_type, c.timezones, c.name,
         c.custom, c.suppressed, c.status)
        for c in contacts
    ]  # fmt: skip
    with engine.connect() as conn:
        rejects = conn.execute(
            sa.text("SELECT row_number, reason, raw FROM rejected_rows WHERE list_id = :l"),
            {"l": r["list_id"]},
        ).all()
    return r, [facts, sorted((n, why, str(raw)) for n, why, raw in rejects)]


@pytest.mark.parametrize("mode", ["campaign", "list", "off"])
def test_chunks_on_workers_decide_what_one_pass_decides(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(_rows(120))
    with session_scope(engine) as s:
        s.add(DncEntry(number="+8613800000003"))
        s.add(DncEntry(number="+861062340004"))
    one, one_rows = _import(engine, path, "one-pass", mode, chunks=1)
    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "POOL_MIN_ROWS", 1)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 17)
    monkeypatch.setattr(store, "DNC_SNAPSHOT_MAX", 0)  # and look the DNC list up per chunk
    chunked, chunked_rows = _import(engine, path, "chunked", mode, chunks=8)  # 120 / 17
    for key in ("rows_read", "imported", "suppressed", "rejected_by_reason", "duplicates_by_kind",
                "number_types", "alternates"):  # fmt: skip
        assert chunked[key] == one[key], key
    assert chunked_rows == one_rows
    assert one["suppressed"] > 0 and one["alternates"]["suppressed"] > 0
    if mode != "off":
        assert one["duplicates_by_kind"]["duplicate_in_file"] > 17  # across chunks too


def test_second_import_into_a_campaign_looks_numbers_up(engine: Engine, tmp_path: Path) -> None:
    """The lookup against the campaign is skipped only while it holds no contact."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("phone\n13800138000\n13900139000\n", encoding="utf-8")
    b.write_text("phone\n13900139000\n13700137000\n13700137000\n", encoding="utf-8")
    importer.import_file(engine, a, ImportOptions("c", "A", create_campaign=True))
    r = importer.import_file(engine, b, ImportOptions("c", "B", create_campaign=True))
    assert r["imported"] == 1
    assert r["duplicates_by_kind"] == {"duplicate_in_campaign": 1, "duplicate_in_file": 1}
