"""What a manager sees before importing: the detected encoding, the first rows and the
column mapping that would be used (read by ``POST /api/lists/preview`` and the console)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lists import columns, reader, workbook
from lists.errors import ListFileError

SAMPLE_ROWS = 8


def preview(
    path: Path,
    encoding: str | None = None,
    sheet: str | None = None,
    visit_dates: bool = False,
    rows: int = SAMPLE_ROWS,
) -> dict[str, Any]:
    """The file as the importer would read it; ``mapping`` is None (with ``problem``) when
    no phone column can be recognised, so the manager picks one."""
    table = reader.read_table(path, encoding, sheet)
    headers = [str(h) for h in table.frame.columns]
    mapping: dict[str, object] | None
    problem = ""
    try:
        mapping = columns.map_columns(headers, visit_dates=visit_dates).as_dict()
    except ListFileError as exc:
        mapping, problem = None, exc.message
    sample = [[str(v) for v in row] for row in table.frame.head(rows).itertuples(index=False)]
    return {
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "rows": table.rows,
        "first_row": table.first_row,
        "headers": headers,
        "sample": sample,
        "mapping": mapping,
        "problem": problem,
        "fields": list(columns.FIELDS),
        # a workbook: the sheet read and every sheet, so the manager can pick another
        "sheet": table.sheet,
        "sheets": workbook.sheet_names(path) if table.encoding == "xlsx" else [],
    }
