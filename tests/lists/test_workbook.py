"""Issue 18 finding 5: workbooks are read within bounds; bombs end in a clear error."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from lists import reader, workbook
from lists.errors import WorkbookTooLarge

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def rebuilt(tmp_path: Path, sheet_xml: str, extra: dict[str, bytes] | None = None) -> Path:
    """A real workbook from openpyxl whose first sheet's XML is replaced."""
    base = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["phone"])
    wb.save(base)
    out = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = sheet_xml.encode() if item.filename == SHEET else src.read(item.filename)
            dst.writestr(item.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out


def sheet(rows: int, cols: int = 1) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{i}</t></is></c>' for i in range(cols))
    body = "".join(f"<row>{cells}</row>" for _ in range(rows))
    return f"<worksheet {NS}><sheetData>{body}</sheetData></worksheet>"


def test_too_many_rows_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS", 50)  # the same code path as 300,000, faster
    path = rebuilt(tmp_path, sheet(51))
    with pytest.raises(WorkbookTooLarge, match="more than 50 rows"):
        reader.read_table(path)
    assert reader.read_table(rebuilt(tmp_path, sheet(50))).rows == 49  # header + 49 rows


def test_too_many_columns_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkbookTooLarge, match="columns"):
        reader.read_table(rebuilt(tmp_path, sheet(2, workbook.MAX_COLUMNS + 1)))


def test_a_decompression_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    path = rebuilt(tmp_path, sheet(2), {"xl/padding.xml": b" " * (8 * 1024 * 1024)})
    assert path.stat().st_size < 100_000
    with pytest.raises(WorkbookTooLarge) as err:
        reader.read_table(path)
    assert err.value.fields["limit"] == "ratio"


def test_merged_header_cells_still_name_their_columns(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户", None, "联系电话", None])
    ws.append(["姓名", "地址", "手机", "座机"])
    ws.append(["张三", "北京", "13800138000", "010-62345678"])
    ws.merge_cells("C1:D1")
    wb.save(path)
    frame = reader.read_table(path).frame
    assert "联系电话/手机" in frame.columns and "联系电话/座机" in frame.columns
