"""Exports: formula cells escaped like the call-list exports, Chinese headers for zh-CN."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from reports import export
from reports.query import Query
from reports.report import Report

Q = Query(
    datetime(2026, 12, 1, tzinfo=UTC),
    datetime(2026, 12, 2, tzinfo=UTC),
    "day",
    ("col:产品",),
    ("dials", "connect_rate"),
    (),
    "UTC",
)
REP = Report(
    Q,
    ["interval", "col:产品", "dials", "connect_rate"],
    [["2026-12-01", '=HYPERLINK("x")', 5, 0.6], ["2026-12-01", "@SUM(A1)", 0, None]],
)


def test_csv_escapes_formulas_and_names_columns_in_chinese() -> None:
    text = export.to_csv(REP, "zh-CN").decode("utf-8-sig").splitlines()
    assert text[0] == "时段,产品,呼出量,接通率"
    assert text[1].startswith('2026-12-01,"\'=HYPERLINK(""x"")",5,0.6')
    assert text[2] == "2026-12-01,'@SUM(A1),0,"


def test_xlsx_keeps_numbers_and_never_stores_a_formula() -> None:
    wb = load_workbook(io.BytesIO(export.to_xlsx(REP, "en")))
    ws = wb["KPI"]
    assert [c.value for c in ws[1]] == ["interval", "col:产品", "dials", "connect_rate"]
    assert ws["B2"].value == '\'=HYPERLINK("x")' and ws["B2"].data_type == "s"
    assert ws["C2"].value == 5 and ws["D2"].value == 0.6
