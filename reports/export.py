"""A report as a table, CSV or XLSX: the same rows as the JSON, column names in English or
Chinese (zh-CN), and every text cell that a spreadsheet would run as a formula escaped with
the call-list exports' rule (lists/export.py ``escape_cell``: OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from typing import Any

from lists.export import BOM, escape_cell
from reports.errors import ReportInvalid
from reports.kpis import zh_name
from reports.report import Report

LANGS = ("en", "zh-CN")


def check_lang(lang: str | None) -> str:
    lang = lang or "en"
    if lang not in LANGS:
        raise ReportInvalid(f"language must be one of {', '.join(LANGS)}", field="lang")
    return lang


def header(columns: list[str], lang: str) -> list[str]:
    if lang != "zh-CN":
        return list(columns)
    return [c[4:] if c.startswith("col:") else zh_name(c) for c in columns]


def table(rep: Report, lang: str = "en") -> list[list[Any]]:
    """Header then rows; numbers stay numbers, missing values are empty cells."""
    return [header(rep.columns, lang), *[["" if v is None else v for v in r] for r in rep.rows]]


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return v
    return escape_cell(v)


def to_csv(rep: Report, lang: str = "en") -> bytes:
    buf = io.StringIO()
    buf.write(BOM)  # Excel opens Chinese text correctly
    w = csv.writer(buf, lineterminator="\r\n")
    for row in table(rep, lang):
        w.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def to_xlsx(rep: Report, lang: str = "en") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "KPI"
    for row in table(rep, lang):
        # a str cell starting with "=" would be stored as a formula by openpyxl: escaped
        ws.append([_cell(v) for v in row])
    info = wb.create_sheet("about")
    q = rep.query
    for k, v in (
        ("zone", q.zone),
        ("interval", q.interval),
        ("from", q.start.isoformat()),
        ("to", q.end.isoformat()),
        ("by", ",".join(q.by)),
    ):
        info.append([k, escape_cell(v)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
