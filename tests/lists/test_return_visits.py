"""Return-visit lists (回访), on SQLite and PostgreSQL: each contact falls due N days after its
delivery or service date, read in the campaign's time zone; a date that does not parse is a
reject (``bad_date``); other campaign kinds import as before."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from campaigns import rules
from campaigns import store as campaigns_store
from lists import columns, dates, importer, store
from lists.errors import BadMapping
from lists.importer import ImportOptions
from lists.models import Contact
from outdial.models import as_utc


def _return_visit(
    engine: Engine, name: str = "回访", delay: int = 7, tz: str = "Asia/Tokyo"
) -> None:
    spec = rules.parse_campaign(
        {
            "name": name,
            "kind": "return_visit",
            "caller_id": "+861012345678",
            "return_visit_delay_days": delay,
            "timezone": tz,
        }
    )
    campaigns_store.save_spec(engine, spec)


def _csv(path: Path, table: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(table)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _contacts(engine: Engine, report: dict[str, Any]) -> dict[int, Contact]:
    _, rows = store.contacts_page(engine, report["list_id"], 0, 100)
    return {c.row_number: c for c in rows}


def _adds_up(r: dict[str, Any]) -> bool:
    return r["rows_read"] == r["imported"] + r["suppressed"] + r["rejected"] + r["duplicates"]


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_gbk_list_falls_due_after_delivery_in_campaign_zone(engine: Engine, tmp_path: Path) -> None:
    _return_visit(engine, delay=7, tz="Asia/Tokyo")  # UTC+9
    path = _csv(
        tmp_path / "送货.csv",
        [
            ["姓名", "手机", "商品", "送货日期"],
            ["张三", "13800138000", "冰箱", "2026-11-20"],  # row 2
            ["李四", "13900139000", "空调安装", "2026年11月21日 14:30"],
            ["王五", "13700137000", "洗衣机", "2026/13/40"],  # no such day
            ["赵六", "13600136000", "电视", "20261122"],
            ["孙八", "13500135000", "热水器", "下周"],  # bad: this row is not the number's keeper
            ["孙八", "13500135000", "热水器", "2026/11/23"],
            ["钱七", "13800138000", "冰箱", "2026-11-25"],  # the same number again
        ],
        encoding="gbk",
    )
    r = importer.import_file(engine, path, ImportOptions(campaign="回访", create_campaign=True))
    assert r["encoding"] == "gb18030" and _adds_up(r)
    assert (r["rows_read"], r["imported"], r["rejected"], r["duplicates"]) == (7, 4, 2, 1)
    assert r["rejected_by_reason"] == {"bad_date": 2}
    assert r["columns"]["visit_date"] == "送货日期"
    assert r["columns"]["custom"] == ["商品", "送货日期"]
    assert r["return_visit"] == {
        "delay_days": 7,
        "timezone": "Asia/Tokyo",
        "due_from": "visit_date",
    }
    got = {n: as_utc(c.next_due_at) for n, c in _contacts(engine, r).items() if c.next_due_at}
    assert got == {
        2: _at(2026, 11, 26, 15),  # 2026-11-27 00:00 in Tokyo
        3: _at(2026, 11, 28, 5, 30),  # 2026-11-28 14:30 in Tokyo
        5: _at(2026, 11, 28, 15),
        7: _at(2026, 11, 29, 15),
    }
    first = _contacts(engine, r)[2]
    assert first.custom == {"商品": "冰箱", "送货日期": "2026-11-20"} and first.name == "张三"
    rejects = {(x.row_number, x.reason) for x in store.iter_rejects(engine, r["list_id"])}
    assert rejects == {(4, "bad_date"), (6, "bad_date"), (8, "duplicate_in_file")}


def test_without_a_date_column_due_counts_from_the_import(engine: Engine, tmp_path: Path) -> None:
    _return_visit(engine, delay=3)
    path = _csv(tmp_path / "a.csv", [["phone", "product"], ["13800138000", "sofa"]])
    before = datetime.now(UTC)
    r = importer.import_file(engine, path, ImportOptions(campaign="回访", create_campaign=True))
    after = datetime.now(UTC)
    assert r["imported"] == 1 and r["return_visit"]["due_from"] == "import_time"
    (contact,) = _contacts(engine, r).values()
    assert contact.next_due_at is not None and contact.custom == {"product": "sofa"}
    due = as_utc(contact.next_due_at)
    assert before + timedelta(days=3) - timedelta(seconds=1) <= due <= after + timedelta(days=3)


def test_generic_campaign_is_unchanged(engine: Engine, tmp_path: Path) -> None:
    campaigns_store.create(engine, "普通")
    path = _csv(
        tmp_path / "g.csv",
        [["手机", "送货日期"], ["13800138000", "2026-11-20"], ["13900139000", "garbage"]],
    )
    r = importer.import_file(engine, path, ImportOptions(campaign="普通", create_campaign=True))
    assert (r["imported"], r["rejected"]) == (2, 0) and "return_visit" not in r
    assert "visit_date" not in r["columns"] and r["columns"]["custom"] == ["送货日期"]
    contacts = _contacts(engine, r)
    assert [c.next_due_at for c in contacts.values()] == [None, None]
    assert contacts[3].custom == {"送货日期": "garbage"}
    with pytest.raises(BadMapping, match="visit_date"):
        importer.import_file(
            engine,
            path,
            ImportOptions(
                campaign="普通", mapping={"visit_date": ["送货日期"]}, create_campaign=True
            ),
        )


def test_explicit_visit_date_column(engine: Engine, tmp_path: Path) -> None:
    _return_visit(engine, delay=1, tz="Asia/Shanghai")
    path = _csv(
        tmp_path / "m.csv",
        [["手机", "送货日期", "回访基准"], ["13800138000", "2026-11-01", "2026-11-20 08:00"]],
    )
    mapping = columns.parse_mapping(["visit_date=回访基准"])
    r = importer.import_file(
        engine, path, ImportOptions(campaign="回访", mapping=mapping, create_campaign=True)
    )
    assert r["columns"]["visit_date"] == "回访基准"
    (contact,) = _contacts(engine, r).values()
    assert contact.next_due_at is not None
    assert as_utc(contact.next_due_at) == _at(2026, 11, 21, 0)


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("2026-11-20", _at(2026, 11, 19, 16)),
        ("2026/11/20", _at(2026, 11, 19, 16)),
        ("2026.11.20", _at(2026, 11, 19, 16)),
        ("20261120", _at(2026, 11, 19, 16)),
        ("2026年11月20日", _at(2026, 11, 19, 16)),
        ("２０２６年１１月２０日", _at(2026, 11, 19, 16)),
        ("2026/1/5 9:05", _at(2026, 1, 5, 1, 5)),
        ("2026年11月20日 10时30分", _at(2026, 11, 20, 2, 30)),
        ("2026-11-20T10:30:00", _at(2026, 11, 20, 2, 30)),  # an Excel date cell, as read
        ("46346", _at(2026, 11, 19, 16)),  # an Excel day number
        ("46346.5", _at(2026, 11, 20, 4)),
        ("2026-11-20T10:00:00+09:00", _at(2026, 11, 20, 1)),  # an offset names the instant
        ("2026-02-30", None),
        ("2026-11-20 25:00", None),
        ("", None),
        ("明天", None),
        ("1120", None),
    ],
)
def test_date_formats(cell: str, due: datetime | None) -> None:
    got = dates.due_times(pd.Series([cell]), "Asia/Shanghai", 0)
    assert (got.values[got.codes[0]] if got.codes[0] >= 0 else None) == due


def test_delay_keeps_the_wall_clock_across_a_dst_change() -> None:
    got = dates.due_times(
        pd.Series(["2026-03-07 10:00", "2026-03-07 10:00"]), "America/New_York", 2
    )
    assert got.codes.tolist() == [0, 0]
    assert got.values == [_at(2026, 3, 9, 14)]  # 10:00 EDT, not EST


def test_date_columns_are_detected_only_for_return_visits() -> None:
    headers = ["手机", "下单日期", "签收日期", "服务内容"]
    rv = columns.map_columns(headers, visit_dates=True)
    assert rv.visit_date == "签收日期"  # a named delivery date beats any other date
    assert rv.custom == ("下单日期", "签收日期", "服务内容")
    generic = columns.map_columns(headers)
    assert generic.visit_date is None and generic.custom == rv.custom
    english = columns.map_columns(["Phone", "Service Date", "Item"], visit_dates=True)
    assert english.visit_date == "Service Date"
    assert columns.map_columns(["tel", "Delivered At"], visit_dates=True).visit_date
    assert columns.parse_mapping(["date=日子"]) == {"visit_date": ["日子"]}


date_cells = st.one_of(
    st.dates().map(lambda d: d.strftime("%Y/%m/%d")),
    st.dates().map(lambda d: d.strftime("%Y%m%d")),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
)
phones = st.sampled_from(["13800138000", "13900139000", "+8615900159000", "12", ""])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(phones, date_cells), min_size=1, max_size=20))
def test_counts_add_up_with_bad_dates(
    sqlite_engine: Engine, tmp_path: Path, table: list[tuple[str, str]]
) -> None:
    if campaigns_store.settings_of(sqlite_engine, 1) is None:
        _return_visit(sqlite_engine, name="prop")
    path = _csv(tmp_path / "p.csv", [["手机", "送货日期"], *[list(t) for t in table]])
    jobs = len(store.lists_of(sqlite_engine))
    r = importer.import_file(
        sqlite_engine, path, ImportOptions("prop", f"l{jobs}", dedupe="off", create_campaign=True)
    )
    assert r["rows_read"] == len(table) and _adds_up(r)
    assert sum(r["rejected_by_reason"].values()) == r["rejected"]
    contacts = _contacts(sqlite_engine, r)
    assert len(contacts) == r["imported"] + r["suppressed"]
    assert all(c.next_due_at is not None for c in contacts.values())
