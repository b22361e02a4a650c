"""Fixtures for the call-list tests: the sample files and a workbook with merged headers."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "lists"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def merged_xlsx(tmp_path: Path) -> Path:
    """A sheet as managers build them: a merged title row, "联系电话" merged over "手机" and
    "座机", "姓名" merged down two rows, numbers typed as numbers, a text order id with a
    leading zero; and a second sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "回访名单"
    ws["A1"] = "2024年11月回访名单"
    ws.merge_cells("A1:D1")
    ws["A2"], ws["B2"], ws["D2"] = "姓名", "联系电话", "订单号"
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:D3")
    ws["B3"], ws["C3"] = "手机", "座机"
    ws.append(["张三", 13800138000, "010-62345678", "000123"])
    ws.append(["李四", None, "021-64370000", "000124"])
    ws.append(["王五", 139001390, None, "000125"])
    other = wb.create_sheet("备用")
    other.append(["phone", "name"])
    other.append(["13700137000", "Wang"])
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    return path
