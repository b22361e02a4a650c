"""Issue 18 findings 8, 9: one export path, one escaping rule; stored text always exports."""

from __future__ import annotations

import io

import openpyxl
import pytest

from outdial import exports

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_escaped_in_csv_and_xlsx(cell: str) -> None:
    text = exports.to_csv([["a"], [cell]]).decode("utf-8-sig")
    assert f"'{cell[:1]}" in text
    ws = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx([["a"], [cell]]))).active
    value = ws.cell(row=2, column=1).value
    assert isinstance(value, str) and value.startswith("'")
    assert ws.cell(row=2, column=1).data_type != "f"


def test_numbers_stay_numbers_and_unwritable_text_is_replaced() -> None:
    rows = [["n", "t"], [-5, "a\ud800b\x00c"]]
    text = exports.to_csv(rows).decode("utf-8-sig")
    assert "-5" in text and "'-5" not in text and "a\ufffdb\ufffdc" in text
    ws = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(rows))).active
    assert ws.cell(row=2, column=1).value == -5
