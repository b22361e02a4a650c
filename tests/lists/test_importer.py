"""Imports end to end, on SQLite and PostgreSQL: counts that add up, dedupe, suppression,
idempotence, all-or-nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import phonenumbers as pn
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from campaigns import store as campaigns_store
from compliance.models import DncEntry
from lists import importer, rows, store
from lists.errors import BadMapping, ImportCancelled, ListFileError, NoPhoneColumn
from lists.importer import ImportOptions
from outdial.storage import session_scope


def _csv(tmp_path: Path, name: str, table: list[list[str]]) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(table)
    return path


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _adds_up(r: dict[str, Any]) -> bool:
    return r["rows_read"] == r["imported"] + r["suppressed"] + r["rejected"] + r["duplicates"]


def test_gbk_excel_export(engine: Engine, data_dir: Path) -> None:
    with session_scope(engine) as s:
        s.add(DncEntry(number="+8615900159000", source="manual"))
    seen: list[tuple[str, int, int]] = []
    r = importer.import_file(
        engine,
        data_dir / "excel_gbk.csv",
        ImportOptions(campaign="回访", create_campaign=True),
        progress=lambda *a: seen.append(a),
    )
    assert (r["rows_read"], r["imported"], r["suppressed"]) == (10, 4, 1)
    assert r["rejected_by_reason"] == {"empty": 1, "not_a_number": 2, "invalid_for_region": 1}
    assert r["duplicates_by_kind"] == {"duplicate_in_file": 1}
    assert r["encoding"] == "gb18030" and r["columns"]["custom"] == ["金额", "备注"]
    assert r["formula_cells"] == 2 and _adds_up(r)
    assert seen[-1] == ("done", 10, 10)
    total, contacts = store.contacts_page(engine, r["list_id"], 0, 100)
    assert total == 5
    by_number = {c.primary_number: c for c in contacts}
    assert set(by_number) == {
        "+8613800138000", "+8613900139000", "+8613700137000", "+861062345678", "+8615900159000",
    }  # fmt: skip
    first = by_number["+8613800138000"]
    assert (first.row_number, first.name, first.order_id) == (2, "张三", "202401010001")
    assert first.custom == {"金额": "199.00", "备注": ""} and first.timezones == ["Asia/Shanghai"]
    assert by_number["+861062345678"].number_type == "fixed_line"
    dnc = by_number["+8615900159000"]
    assert dnc.suppressed and dnc.status == "suppressed" and dnc.address == "=1+2"
    rejects = {(x.row_number, x.reason) for x in store.iter_rejects(engine, r["list_id"])}
    assert rejects == {
        (6, "invalid_for_region"), (7, "not_a_number"), (8, "duplicate_in_file"),
        (9, "empty"), (10, "not_a_number"),
    }  # fmt: skip
    assert store.get_list(engine, r["list_id"]).status == "ready"


def test_same_file_twice_changes_nothing(engine: Engine, data_dir: Path) -> None:
    opts = ImportOptions(campaign="c", create_campaign=True)
    first = importer.import_file(engine, data_dir / "excel_gbk.csv", opts)
    before = (_count(engine, "contacts"), _count(engine, "rejected_rows"))
    again = importer.import_file(engine, data_dir / "excel_gbk.csv", opts)
    assert again["already_imported"] is True and again["job_id"] == first["job_id"]
    assert (_count(engine, "contacts"), _count(engine, "rejected_rows")) == before
    assert _count(engine, "import_jobs") == 1


@pytest.mark.parametrize(
    ("mode", "imported", "dups"),
    [
        ("campaign", 1, {"duplicate_in_campaign": 2}),
        ("list", 2, {"duplicate_in_list": 1}),
        ("off", 3, {}),
    ],
)
def test_append_and_dedupe_modes(
    engine: Engine, tmp_path: Path, mode: str, imported: int, dups: dict[str, int]
) -> None:
    importer.import_file(
        engine,
        _csv(tmp_path, "a.csv", [["phone"], ["13800138000"]]),
        ImportOptions("c", "A", create_campaign=True),
    )
    importer.import_file(
        engine,
        _csv(tmp_path, "b.csv", [["phone"], ["13900139000"]]),
        ImportOptions("c", "B", create_campaign=True),
    )
    more = _csv(
        tmp_path, "more.csv", [["phone"], ["13800138000"], ["13900139000"], ["13700137000"]]
    )
    r = importer.import_file(
        engine, more, ImportOptions("c", "B", dedupe=mode, create_campaign=True)
    )
    assert r["imported"] == imported and r["duplicates_by_kind"] == dups and _adds_up(r)
    total, contacts = store.contacts_page(engine, r["list_id"], 0, 10)
    assert total == 1 + imported and all(c.status == "new" for c in contacts)


def test_crm_export_alternates(engine: Engine, data_dir: Path) -> None:
    with session_scope(engine) as s:
        s.add(DncEntry(number="+862164370000"))
    r = importer.import_file(
        engine, data_dir / "crm_export.csv", ImportOptions("crm", create_campaign=True)
    )
    assert r["columns"]["phone"] == ["Mobile", "Home Phone", "Work Phone"]
    assert (r["imported"], r["rejected"], r["duplicates"]) == (3, 1, 1)
    assert r["rejected_by_reason"] == {"not_a_number": 1}
    assert r["alternates"] == {"kept": 2, "invalid": 0, "suppressed": 1}
    _, contacts = store.contacts_page(engine, r["list_id"], 0, 10)
    li = contacts[0]
    assert li.primary_number == "+8613800138001" and li.alternates == ["+861088886666"]
    assert li.name == "Li Lei" and li.custom["Email"] == "li@example.com"
    han = contacts[1]  # Mobile empty: Home Phone becomes primary
    assert han.primary_number == "+8675583330000" and han.alternates == ["+8613800138002"]
    assert contacts[2].primary_number == "+12125550100"


def test_errors_write_nothing_and_are_recorded(engine: Engine, tmp_path: Path) -> None:
    bad = _csv(tmp_path, "bad.csv", [["姓名", "金额"], ["张三", "1"]])
    with pytest.raises(BadMapping, match="unknown region 'XX'"):
        importer.import_file(engine, bad, ImportOptions("c", region="XX", create_campaign=True))
    with pytest.raises(NoPhoneColumn):
        importer.import_file(engine, bad, ImportOptions("c", create_campaign=True))
    job = store.get_job(engine, 1)
    assert job.status == "failed" and "no phone column" in job.error
    assert store.get_list(engine, job.list_id).status == "failed"
    assert _count(engine, "contacts") == 0


def test_a_failure_while_writing_rolls_everything_back(
    engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rows, "write_rejects", boom)
    with pytest.raises(RuntimeError):
        importer.import_file(
            engine, data_dir / "excel_gbk.csv", ImportOptions("c", create_campaign=True)
        )
    assert _count(engine, "contacts") == 0 and _count(engine, "rejected_rows") == 0
    assert store.get_job(engine, 1).status == "failed"
    monkeypatch.undo()  # the same file imports fine afterwards: a failed job is no "done"
    r = importer.import_file(
        engine, data_dir / "excel_gbk.csv", ImportOptions("c", create_campaign=True)
    )
    assert r["imported"] == 5 and not r["already_imported"]


def test_cancel_leaves_no_half_list(engine: Engine, tmp_path: Path) -> None:
    table = [["phone"]] + [[f"1380013{n:04d}"] for n in range(120)]
    path = _csv(tmp_path, "big.csv", table)
    job, again = importer.start(engine, path, ImportOptions("c", create_campaign=True))
    assert not again

    def cancel_when_writing(phase: str, done: int, total: int) -> None:
        if phase == "writing":
            importer.request_cancel(job.id or 0)

    with pytest.raises(ImportCancelled):
        importer.run(engine, job.id or 0, path, cancel_when_writing)
    assert store.get_job(engine, job.id or 0).status == "cancelled"
    assert _count(engine, "contacts") == 0


@pytest.mark.parametrize("phase", ["writing", "commit"])
def test_a_cancel_up_to_the_commit_point_rolls_back(
    engine: Engine, tmp_path: Path, phase: str
) -> None:
    """Issue 18 finding 4: every row written, then cancelled: still nothing is kept."""
    path = _csv(tmp_path, "all.csv", [["phone"]] + [[f"1380013{n:04d}"] for n in range(50)])
    job, _ = importer.start(engine, path, ImportOptions("c", create_campaign=True))
    answers: list[str] = []

    def cancel_late(p: str, done: int, total: int) -> None:
        if p == phase and done == total and not answers:
            answers.append(importer.request_cancel(job.id or 0))

    with pytest.raises(ImportCancelled):
        importer.run(engine, job.id or 0, path, cancel_late)
    assert answers == ["cancelling"]
    assert store.get_job(engine, job.id or 0).status == "cancelled"
    assert store.get_list(engine, job.list_id).status != "ready"
    assert _count(engine, "contacts") == 0


def test_a_cancel_after_the_commit_point_is_refused_with_the_truth(
    engine: Engine, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "late.csv", [["phone"]] + [[f"1380013{n:04d}"] for n in range(20)])
    job, _ = importer.start(engine, path, ImportOptions("c", create_campaign=True))
    answers: list[str] = []

    def cancel_when_done(p: str, done: int, total: int) -> None:
        if p == "done":
            answers.append(importer.request_cancel(job.id or 0))

    report = importer.run(engine, job.id or 0, path, cancel_when_done)
    assert answers == ["committing"] and report["imported"] == 20
    assert store.get_job(engine, job.id or 0).status == "done"
    assert importer.request_cancel(job.id or 0) == "not_running"


cells = st.one_of(
    st.sampled_from(["13800138000", "+86 139 0013 9000", "010-62345678", "15900159000"]),
    st.builds(lambda n: f"13{n:09d}", st.integers(0, 999_999_999)),
    st.sampled_from(["", "abc", "12", "1380013800", "+999 1", "=1+1", "１３７００１３７０００"]),
    st.text(alphabet="0123456789+- ", max_size=14),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(cells, cells), min_size=1, max_size=30),
    st.sampled_from(["off", "list", "campaign"]),
)
def test_counts_always_add_up(
    sqlite_engine: Engine, tmp_path: Path, table: list[tuple[str, str]], mode: str
) -> None:
    with session_scope(sqlite_engine) as s:
        if s.get(DncEntry, 1) is None:
            s.add(DncEntry(number="+8615900159000"))
    buf = io.StringIO()
    csv.writer(buf).writerows([("手机", "座机"), *table])
    path = tmp_path / "p.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    campaigns_store.get_or_create(sqlite_engine, "prop")
    name = f"l{_count(sqlite_engine, 'import_jobs')}"
    r = importer.import_file(
        sqlite_engine, path, ImportOptions("prop", name, dedupe=mode, create_campaign=True)
    )
    if r["already_imported"]:
        return
    assert r["rows_read"] == len(table) and _adds_up(r)
    assert sum(r["rejected_by_reason"].values()) == r["rejected"]
    assert _count(sqlite_engine, "rejected_rows") >= r["rejected"] + r["duplicates"]
    _, contacts = store.contacts_page(sqlite_engine, r["list_id"], 0, 100)
    assert len(contacts) == r["imported"] + r["suppressed"]
    for c in contacts:
        for number in [c.primary_number, *c.alternates]:
            parsed = pn.parse(number)
            assert pn.is_valid_number(parsed)
            assert pn.format_number(parsed, pn.PhoneNumberFormat.E164) == number


def test_a_failed_job_names_the_users_file_not_the_stored_one(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "3f9a0c1d2e4b5a6c.csv"
    path.write_text("phone\n", encoding="utf-8")
    job, _ = importer.start(engine, path, ImportOptions("c", create_campaign=True), "客户名单.csv")
    with pytest.raises(ListFileError):
        importer.run(engine, job.id or 0, path)
    error = store.get_job(engine, job.id or 0).error
    assert "客户名单.csv" in error and "3f9a0c1d2e4b5a6c" not in error
