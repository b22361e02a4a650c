"""XLSX workbooks read within bounds (issue 18, finding 5).

A 330 KB workbook can expand to a million rows; loading it whole held the server for 39 s and
~1 GB. Here the archive is checked first (total expanded size and compression ratio, without
decompressing), then the sheet is streamed (openpyxl's read-only mode) and reading stops with
a clear error at the first row, column or cell past its limit. Merged header cells come from a
streaming scan of the sheet's XML, kept only for the header zone.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from lists.errors import BinaryFile, SheetNotFound, WorkbookTooLarge

#: a workbook with more rows than this is a CSV's job (and a bomb's signature)
MAX_ROWS = 300_000
MAX_COLUMNS = 256
MAX_CELL_CHARS = 32_767  # Excel's own limit
#: expanded size of every part together, and of any one part against its compressed size
MAX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024  # small parts (styles, shared strings of a tiny file) are not ratios
_MERGE = re.compile(r"^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$")


def check_archive(path: Path) -> None:
    """Refuse a zip whose declared expansion is a bomb's, before anything is decompressed."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BinaryFile(f"{path.name} is not a readable .xlsx workbook") from exc
    total = sum(i.file_size for i in infos)
    if total > MAX_EXPANDED_BYTES:
        raise WorkbookTooLarge(
            f"{path.name} expands to {total // (1024 * 1024)} MB; the limit is "
            f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MB (send a CSV)",
            limit="expanded_bytes",
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise WorkbookTooLarge(
                f"{path.name}: part {info.filename!r} expands more than {MAX_RATIO} times; "
                "refused as a decompression bomb",
                limit="ratio",
            )


def read_grid(path: Path, sheet: str | None, header_zone: int) -> tuple[str, list[list[Any]]]:
    """(sheet title, rows of raw cell values), within the limits; merged header cells filled."""
    import openpyxl

    check_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad zip
        raise BinaryFile(f"{path.name} is not a readable .xlsx workbook") from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise SheetNotFound(
                f"{path.name} has no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})",
                sheet=sheet,
                sheets=list(wb.sheetnames),
            )
        title = str(ws.title)
        grid = list(_bounded_rows(path, ws.iter_rows(values_only=True)))
        part = _sheet_part(wb, ws)
    finally:
        wb.close()
    if part:
        _fill_merged(path, part, grid, header_zone)
    return title, grid


def sheet_names(path: Path) -> list[str]:
    """The worksheets of a workbook, in order (the console lets the manager pick one)."""
    import openpyxl

    check_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad zip
        raise BinaryFile(f"{path.name} is not a readable .xlsx workbook") from exc
    try:
        return [str(n) for n in wb.sheetnames]
    finally:
        wb.close()


def _bounded_rows(path: Path, rows: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
    for n, row in enumerate(rows, start=1):
        if n > MAX_ROWS:
            raise WorkbookTooLarge(
                f"{path.name} has more than {MAX_ROWS} rows; send a CSV", limit="rows"
            )
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        if len(values) > MAX_COLUMNS:
            raise WorkbookTooLarge(
                f"{path.name}: row {n} has more than {MAX_COLUMNS} columns", limit="columns"
            )
        for v in values:
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                raise WorkbookTooLarge(
                    f"{path.name}: a cell in row {n} is longer than {MAX_CELL_CHARS} characters",
                    limit="cell",
                )
        yield values


def _sheet_part(wb: Any, ws: Any) -> str:
    """The zip member holding the sheet's XML (openpyxl's read-only sheets know it)."""
    return str(getattr(ws, "_worksheet_path", "") or getattr(ws, "sheet_path", "") or "")


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _fill_merged(path: Path, part: str, grid: list[list[Any]], zone: int) -> None:
    """A merged header cell names every column (or row) it spans; only the header zone."""
    with zipfile.ZipFile(path) as zf, zf.open(part.lstrip("/")) as fh:
        for _event, elem in ElementTree.iterparse(fh, events=("end",)):
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                _apply(_MERGE.match(elem.get("ref", "")), grid, zone)
            if tag in ("row", "c", "v", "mergeCell", "f", "is", "t"):
                elem.clear()


def _apply(m: re.Match[str] | None, grid: list[list[Any]], zone: int) -> None:
    if m is None or m.group(3) is None:
        return
    c0, r0, c1, r1 = _col(m.group(1)), int(m.group(2)), _col(m.group(3)), int(m.group(4))
    if r0 > zone or r0 > len(grid) or c1 > MAX_COLUMNS:
        return
    row0 = grid[r0 - 1]
    value = row0[c0 - 1] if c0 - 1 < len(row0) else None
    for r in range(r0, min(r1, len(grid)) + 1):
        row = grid[r - 1]
        row.extend([None] * (c1 - len(row)))
        for c in range(c0, c1 + 1):
            row[c - 1] = value
