"""Reading a do-not-call file: the phone and reason columns by header, or none at all."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from lists.dnc_file import DncRow, read_dnc_file


def test_headers_in_chinese_gbk(tmp_path: Path) -> None:
    path = tmp_path / "dnc.csv"
    path.write_bytes("姓名,手机号,原因\n张三,13800001111,投诉\n李四,13800002222,\n".encode("gbk"))
    assert read_dnc_file(path) == [
        DncRow(2, "13800001111", "投诉"),
        DncRow(3, "13800002222", ""),
    ]


def test_a_file_of_bare_numbers_keeps_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("13800001111\n+86 138 0000 2222\nabc\n", encoding="utf-8")
    rows = read_dnc_file(path)
    assert [r.number for r in rows] == ["13800001111", "+86 138 0000 2222", "abc"]
    assert [r.row for r in rows] == [1, 2, 3]


def test_workbook_sheet_by_name(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["other"])
    ws = wb.create_sheet("投诉")
    ws.append(["phone", "note"])
    ws.append([13800003333, "angry"])
    path = tmp_path / "dnc.xlsx"
    wb.save(path)
    assert read_dnc_file(path, sheet="投诉") == [DncRow(2, "13800003333", "angry")]
