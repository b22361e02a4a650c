"""The one export path for every CSV and XLSX outdial writes (issue 18, findings 8, 9).

One escaping rule: a text cell a spreadsheet would run as a formula (starting with = + - @,
or a tab / carriage return) gets a leading apostrophe (OWASP "CSV injection"), in CSV and
XLSX alike; numbers stay numbers. Text that cannot be written (a lone surrogate or a control
character XLSX forbids, from data stored before input was validated) is replaced, so a stored
answer can never make an export fail. CSV is UTF-8 with a BOM so Chinese Excel opens it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def escape_cell(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number is never a formula, -5 included
    text = "" if value is None else str(value)
    text = _UNWRITABLE.sub("\ufffd", text)
    return "'" + text if text.startswith(DANGEROUS) else text


def _xlsx_cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return escape_cell(value)


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """BOM, then one CRLF-terminated line per row, every cell escaped."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    yield BOM
    for row in rows:
        writer.writerow([escape_cell(v) for v in row])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()


def to_csv(rows: Iterable[Iterable[object]]) -> bytes:
    return "".join(csv_lines(rows)).encode("utf-8")


def to_xlsx(rows: Iterable[Iterable[object]], title: str = "export") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append([_xlsx_cell(c) for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
