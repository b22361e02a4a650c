"""A do-not-call file (CSV/TSV/XLSX, GBK too): one number per row, optionally a reason.

Read with the call lists' reader (encoding and sheet detection, workbook limits), so what a
manager can upload as a call list can also be uploaded as a DNC list. The phone column is
found by its header (电话, 手机, phone ...); a file without a header (its first cell is a
number) uses its first column for numbers and its second, if any, for reasons. The reason
column is found by its header (原因, 备注, reason, note ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lists import columns, reader
from lists.errors import NoPhoneColumn

REASON_HEADERS = re.compile(r"原因|理由|备注|说明|reason|note|comment|remark")
NUMBERISH = re.compile(r"^[+\d\s\-().]{6,}$")  # a header cell that is a phone number


@dataclass(frozen=True)
class DncRow:
    """One line of the file: its row number as a spreadsheet shows it, the number as
    written, and the reason given on the row ("" if none)."""

    row: int
    number: str
    reason: str


def read_dnc_file(
    path: Path, encoding: str | None = None, sheet: str | None = None
) -> list[DncRow]:
    """Every non-empty row of a DNC file; numbers are checked by the caller."""
    table = reader.read_table(path, encoding, sheet)
    headers = [str(h) for h in table.frame.columns]
    records = table.frame.values.tolist()
    first = table.first_row
    if NUMBERISH.match(headers[0].strip()):  # no header: the first row is data
        records.insert(0, headers)
        first -= 1
        phone, reason = 0, 1 if len(headers) > 1 else None
    else:
        try:
            phone = headers.index(columns.map_columns(headers).phones[0])
        except NoPhoneColumn:
            phone = 0  # one unnamed column of numbers
        reason = next(
            (
                i
                for i, h in enumerate(headers)
                if i != phone and REASON_HEADERS.search(unicodedata.normalize("NFKC", h).lower())
            ),
            None,
        )
    out: list[DncRow] = []
    for i, rec in enumerate(records):
        number = str(rec[phone]).strip()
        if number:
            why = str(rec[reason]).strip()[:255] if reason is not None else ""
            out.append(DncRow(first + i, number, why))
    return out
