"""Read a call-list file into a DataFrame of strings: CSV/TSV (UTF-8, UTF-8 BOM, UTF-16,
GBK/GB18030) or XLSX.

Every cell is read as text (``dtype=str``, no NA guessing), so leading zeros,
18-digit order ids and ``=`` formula-looking cells survive as typed. A file we
cannot read raises a :class:`lists.errors.ListFileError` subclass naming the
problem, before anything is written.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from lists import workbook
from lists.errors import (
    BinaryFile,
    EmptyFile,
    EncodingUnreadable,
    LineTooLong,
    ListFileError,
)

#: no call-list line is this long; a longer one means a broken or hostile file
MAX_LINE_BYTES = 1024 * 1024
CHUNK = 1024 * 1024
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030")
#: read by pyarrow's multithreaded CSV reader first (pandas' C parser takes ~3 s a million rows)
_ARROW_ENCODINGS = ("utf-8", "utf-8-sig")
_MAX_COLUMNS = 16_384  # column types are forced to text by name: f0, f1, ...
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_HEADER_ZONE = 10  # rows at the top of a sheet that may hold titles and a header


@dataclass(frozen=True)
class Table:
    """A file's rows as strings, its header names, and how it was read."""

    frame: pd.DataFrame
    encoding: str  # one of ENCODINGS, or "xlsx"
    delimiter: str  # "" for a workbook
    sha256: str
    first_row: int  # the row number (as a spreadsheet shows it) of the first data row
    sheet: str = ""  # the worksheet read ("" for a text file)

    @property
    def rows(self) -> int:
        return len(self.frame)


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes: the same file imported twice is recognised by it."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def read_table(path: Path, encoding: str | None = None, sheet: str | None = None) -> Table:
    """Read ``path``; ``encoding`` (CSV) and ``sheet`` (XLSX) override detection."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise EmptyFile(f"{path.name} is empty", file=path.name)
    if head.startswith(_ZIP):
        return _read_xlsx(path, sheet)
    if head.startswith(_OLE):
        raise BinaryFile(
            f"{path.name} is a legacy .xls workbook: save it as .xlsx or CSV", file=path.name
        )
    enc = _check_text(path, head, encoding)
    return _read_csv(path, enc)


# --- delimited text -------------------------------------------------------------------------


def _check_text(path: Path, head: bytes, encoding: str | None) -> str:
    """One pass over the bytes: line lengths and the encoding (given, or detected)."""
    bom16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not bom16:
        raise BinaryFile(f"{path.name} is not a text file (it holds NUL bytes)", file=path.name)
    if encoding:
        enc = encoding.lower().replace("_", "-")
        enc = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "cp936": "gbk"}.get(enc, enc)
        if enc not in ENCODINGS:
            raise EncodingUnreadable(
                f"unsupported encoding {encoding!r} (one of {', '.join(ENCODINGS)})",
                encoding=encoding,
            )
        candidates = [enc]
    elif bom16:
        candidates = ["utf-16"]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "gb18030"]  # GB18030 is a superset of GBK
    for enc in candidates:
        if _decodes(path, enc):
            return enc
    if encoding:
        raise EncodingUnreadable(
            f"{path.name} is not valid {encoding} text", file=path.name, encoding=encoding
        )
    raise EncodingUnreadable(
        f"{path.name}: cannot tell its text encoding (not UTF-8, GBK or GB18030); pass --encoding",
        file=path.name,
    )


def _decodes(path: Path, enc: str) -> bool:
    """Does the whole file decode as ``enc``? Raises LineTooLong on the way (any encoding:
    a GBK file with a 50 MB line is refused as surely as a UTF-8 one)."""
    decoder = codecs.getincrementaldecoder(enc)()
    run = 0  # bytes since the last newline
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            first = chunk.find(b"\n")
            if first < 0:
                run += len(chunk)
            else:
                if run + first > MAX_LINE_BYTES:
                    run += first
                    break
                run = len(chunk) - chunk.rfind(b"\n") - 1
            if run > MAX_LINE_BYTES:
                break
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    if run > MAX_LINE_BYTES:
        raise LineTooLong(
            f"{path.name} has a line longer than {MAX_LINE_BYTES // 1024} KiB: "
            "not a call list, or a broken export",
            file=path.name,
            limit_bytes=MAX_LINE_BYTES,
        )
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(path: Path, enc: str) -> str:
    with path.open("r", encoding=enc, newline="") as fh:
        line = fh.readline(64 * 1024)
    counts = {d: line.count(d) for d in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, enc: str) -> Table:
    delim = _sniff_delimiter(path, enc)
    frame = _read_csv_arrow(path, enc, delim) if enc in _ARROW_ENCODINGS else None
    if frame is None:
        frame = _read_csv_pandas(path, enc, delim)
    if len(frame) < 2:
        raise EmptyFile(f"{path.name} has a header but no rows", file=path.name)
    header = ["" if pd.isna(v) else str(v) for v in frame.iloc[0].tolist()]
    frame = _with_header(frame.iloc[1:].reset_index(drop=True), header)
    return Table(frame, enc, delim, file_digest(path), first_row=2)


def _read_csv_arrow(path: Path, enc: str, delim: str) -> pd.DataFrame | None:
    """The fast reader, for a rectangular file (every line as many fields as the first)
    whose quotes pair up; None for anything else, which pandas' C parser then reads (or
    refuses) exactly as it always has. Where both read a file, they read the same cells
    (tests/lists/test_reader.py compares them)."""
    if not _quotes_pair_up(path):  # pyarrow would take an unclosed quote up to the end
        return None
    read = pa_csv.ReadOptions(autogenerate_column_names=True, encoding="utf8")  # skips a BOM
    parse = pa_csv.ParseOptions(delimiter=delim, newlines_in_values=True, ignore_empty_lines=True)
    convert = pa_csv.ConvertOptions(  # every cell is text, as typed: no NA, no type guessing
        column_types={f"f{i}": pa.string() for i in range(_MAX_COLUMNS)},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pa_csv.read_csv(path, read, parse, convert)
    except (pa.ArrowInvalid, UnicodeDecodeError):  # ragged rows, bad quoting, ...
        return None
    if table.num_columns > _MAX_COLUMNS or table.num_rows == 0:
        return None
    text = pd.StringDtype("pyarrow", na_value=float("nan"))  # pandas' "str", as dtype=str reads
    return table.to_pandas(types_mapper={pa.string(): text}.get)


def _quotes_pair_up(path: Path) -> bool:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            count += chunk.count(b'"')
    return count % 2 == 0


def _read_csv_pandas(path: Path, enc: str, delim: str) -> pd.DataFrame:
    opts: dict[str, Any] = {
        "sep": delim,
        "encoding": enc,
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "header": None,
        "skip_blank_lines": True,
    }
    try:
        frame = pd.read_csv(path, **opts)
    except pd.errors.EmptyDataError as exc:
        raise EmptyFile(f"{path.name} has a header but no rows", file=path.name) from exc
    except pd.errors.ParserError as exc:
        raise ListFileError(f"{path.name} is not a valid CSV: {exc}", file=path.name) from exc
    except UnicodeDecodeError as exc:
        raise EncodingUnreadable(f"{path.name} is not valid {enc} text", file=path.name) from exc
    return frame


def _with_header(frame: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    width = frame.shape[1]
    names: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        name = header[i].strip() if i < len(header) and header[i] is not None else ""
        name = name or f"column_{i + 1}"
        if name in seen:  # two columns with one name: keep both, tell them apart
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    frame.columns = names
    return frame.fillna("").astype("str")


# --- workbooks ------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    """Streamed, within lists/workbook.py's limits (rows, columns, cells, expansion)."""
    title, raw = workbook.read_grid(path, sheet, _HEADER_ZONE)
    grid = [[_cell_text(v) for v in row] for row in raw]
    del raw
    while grid and not any(grid[-1]):
        grid.pop()
    if not grid:
        raise EmptyFile(f"{path.name}: sheet {title!r} is empty", file=path.name)
    top, header, body = _split_header(grid)
    if not body:
        raise EmptyFile(f"{path.name}: sheet {title!r} has a header but no rows")
    width = max(len(header), *(len(r) for r in body))
    body = [r + [""] * (width - len(r)) for r in body]
    frame = pd.DataFrame(body, dtype="str")
    return Table(
        _with_header(frame, header), "xlsx", "", file_digest(path), first_row=top + 1, sheet=title
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a cell: 13800138000.0 → 13800138000
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _split_header(grid: list[list[str]]) -> tuple[int, list[str], list[list[str]]]:
    """Skip title rows (one value across the sheet), then take the header row; a two-row
    header whose top row groups columns ("联系电话" over "手机", "座机") becomes "联系电话/手机".

    Returns (sheet row number of the last header row, column names, data rows).
    """
    i = 0
    while i < min(len(grid), _HEADER_ZONE) and len({v for v in grid[i] if v}) <= 1:
        if i + 1 < len(grid) and len({v for v in grid[i + 1] if v}) > 1:
            i += 1
            break
        i += 1
    if i >= len(grid) or len({v for v in grid[i] if v}) <= 1:
        i = next((k for k, r in enumerate(grid) if any(r)), 0)
    header = list(grid[i])
    if i + 1 < len(grid) and _is_sub_header(header, grid[i + 1]):
        sub = grid[i + 1]
        header = [
            f"{top}/{low}" if low and low != top else top
            for top, low in zip(header, sub + [""] * (len(header) - len(sub)), strict=False)
        ]
        i += 1
    return i + 1, header, grid[i + 1 :]


def _is_sub_header(top: list[str], below: list[str]) -> bool:
    """``below`` completes ``top`` if top repeats a name across columns (a filled merge)
    and ``below`` names those columns apart with words, not data."""
    repeated = {v for v in top if v and top.count(v) > 1}
    if not repeated:
        return False
    under = [b for t, b in zip(top, below, strict=False) if t in repeated and b]
    return len(set(under)) > 1 and not any(any(ch.isdigit() for ch in b) for b in under)
