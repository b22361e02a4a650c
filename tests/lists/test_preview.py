"""lists/preview.py: the encoding, first rows and mapping a manager sees before importing."""

from __future__ import annotations

from pathlib import Path

from lists.preview import preview


def test_gbk_file_with_an_unrecognised_name_column(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    rows = ["手机号,用户称呼,备注"] + [f"1380000{i:04d},客户{i},x" for i in range(12)]
    path.write_bytes("\r\n".join(rows).encode("gbk"))
    p = preview(path)
    assert p["encoding"] in ("gbk", "gb18030") and p["rows"] == 12
    assert p["headers"] == ["手机号", "用户称呼", "备注"]
    assert len(p["sample"]) == 8 and p["sample"][0][1] == "客户0"
    assert p["mapping"]["phone"] == ["手机号"] and p["mapping"]["name"] is None


def test_no_phone_column_is_a_problem_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("甲,乙\n张三,李四\n", encoding="utf-8")
    p = preview(path)
    assert p["mapping"] is None and p["problem"]


def test_a_workbook_preview_names_its_sheets(merged_xlsx: Path) -> None:
    first = preview(merged_xlsx)
    assert first["sheets"] == ["回访名单", "备用"] and first["sheet"] == "回访名单"
    other = preview(merged_xlsx, sheet="备用")
    assert other["sheet"] == "备用" and other["headers"] == ["phone", "name"]
