"""Reading files: encodings, delimiters, workbooks, and the files we refuse."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from lists import reader
from lists.errors import (
    BinaryFile,
    EmptyFile,
    EncodingUnreadable,
    LineTooLong,
    ListFileError,
    SheetNotFound,
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_excel_gbk_export_is_detected_and_kept_as_text(data_dir: Path) -> None:
    table = reader.read_table(data_dir / "excel_gbk.csv")
    assert table.encoding == "gb18030"  # GB18030 reads every GBK file
    assert table.delimiter == ","
    assert list(table.frame.columns) == ["客户姓名", "手机号", "地址", "订单号", "金额", "备注"]
    assert table.rows == 10
    last = table.frame.iloc[-1]
    assert last["订单号"] == "000123"  # leading zeros survive
    assert last["地址"] == "=1+2"  # formula-looking text stays text
    assert table.frame.iloc[3]["手机号"] == "010-62345678"
    assert table.first_row == 2


def test_explicit_encoding_is_used_and_checked(data_dir: Path) -> None:
    assert reader.read_table(data_dir / "excel_gbk.csv", encoding="GBK").encoding == "gbk"
    with pytest.raises(EncodingUnreadable, match="not valid utf-8"):
        reader.read_table(data_dir / "excel_gbk.csv", encoding="utf-8")
    with pytest.raises(EncodingUnreadable, match="unsupported encoding"):
        reader.read_table(data_dir / "excel_gbk.csv", encoding="latin-9")


def test_utf8_bom_and_long_numbers(tmp_path: Path) -> None:
    text = "电话,身份证\n13800138000,110101199003074512\n"
    path = _write(tmp_path, "bom.csv", codecs.BOM_UTF8 + text.encode())
    table = reader.read_table(path)
    assert table.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["电话", "身份证"]
    assert table.frame.iloc[0]["身份证"] == "110101199003074512"


def test_tab_separated_and_utf16_excel_unicode_text(tmp_path: Path) -> None:
    text = "手机\t姓名\r\n13800138000\t张三\r\n"
    tsv = reader.read_table(_write(tmp_path, "a.txt", text.encode("gb18030")))
    assert tsv.delimiter == "\t" and tsv.frame.iloc[0].tolist() == ["13800138000", "张三"]
    u16 = reader.read_table(_write(tmp_path, "b.txt", text.encode("utf-16")))
    assert u16.encoding == "utf-16" and u16.frame.iloc[0]["姓名"] == "张三"


def test_blank_and_duplicate_header_names(tmp_path: Path) -> None:
    table = reader.read_table(_write(tmp_path, "h.csv", b"phone,,phone\n1,2,3\n"))
    assert list(table.frame.columns) == ["phone", "column_2", "phone (2)"]


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", EmptyFile, "empty"),
        (b"  \r\n\r\n", EmptyFile, "empty"),
        (b"phone,name\r\n", EmptyFile, "no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", BinaryFile, "NUL"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, BinaryFile, ".xls"),
        (b"phone\n13800138000\xff\xff\n", EncodingUnreadable, "encoding"),
    ],
)
def test_unusable_files_name_the_problem(
    tmp_path: Path, data: bytes, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        reader.read_table(_write(tmp_path, "x.csv", data))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_huge_line_is_refused(tmp_path: Path, encoding: str) -> None:
    line = "13800138000," + "很" * (reader.MAX_LINE_BYTES // 2 + 10)
    data = f"电话,备注\n{line}\n".encode(encoding)
    with pytest.raises(LineTooLong, match="longer than"):
        reader.read_table(_write(tmp_path, "long.csv", data))


def test_workbook_with_merged_header_cells(merged_xlsx: Path) -> None:
    table = reader.read_table(merged_xlsx)
    assert table.encoding == "xlsx"
    assert list(table.frame.columns) == ["姓名", "联系电话/手机", "联系电话/座机", "订单号"]
    assert table.first_row == 4  # sheet rows 1-3 are title and header
    first = table.frame.iloc[0].tolist()
    assert first == ["张三", "13800138000", "010-62345678", "000123"]
    assert table.frame.iloc[1]["联系电话/手机"] == ""
    assert table.rows == 3


def test_workbook_sheet_choice(merged_xlsx: Path) -> None:
    table = reader.read_table(merged_xlsx, sheet="备用")
    assert table.frame.iloc[0].tolist() == ["13700137000", "Wang"]
    with pytest.raises(SheetNotFound, match="回访名单"):
        reader.read_table(merged_xlsx, sheet="Sheet9")


CSV_SHAPES = [
    b"phone,name\n13800138000,Li\n",
    b"phone,name\r\n13800138000,Li\r\n\r\n13900139000,Wang\r\n",  # CRLF and a blank line
    b'phone,note\n13800138000,"a, b"\n13900139000,"two\nlines"\n',  # quoted delimiter, newline
    b'phone,note\n13800138000,"say ""hi"""\n',  # doubled quotes
    b"phone,a,b\n13800138000,,\n,x,\n",  # empty cells, an empty phone
    b"phone,v\nNA,null\nNaN,None\n#N/A,-\n",  # NA-looking text stays text
    b"phone,v\n 13800138000 , x \n",  # blanks are kept
    b"\xef\xbb\xbfphone,v\n013800138000,000123\n",  # BOM; leading zeros
    "电话,备注\n13800138000,=1+2\n13900139000,很好\n".encode(),
    b"phone,v\n13800138000,1\n13900139000\n",  # a short row: the C parser's, not arrow's
    b"phone,v\n13800138000,1,2\n",  # a long row: the C parser refuses it
    b'phone,v\n13800138000,"open\n',  # an unclosed quote
    b"phone\tname\n13800138000\tLi\n",
]


@pytest.mark.parametrize("data", CSV_SHAPES)
def test_fast_csv_reader_reads_what_pandas_reads(tmp_path: Path, data: bytes) -> None:
    """The pyarrow reader takes a file only if it reads it exactly as pandas' C parser does
    (every cell as text); anything else it hands back (None) to the C parser."""
    path = _write(tmp_path, "s.csv", data)
    delim = "\t" if b"\t" in data else ","
    enc = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    fast = reader._read_csv_arrow(path, enc, delim)
    try:
        slow = reader._read_csv_pandas(path, enc, delim)
    except ListFileError:
        assert fast is None
        return
    if fast is not None:
        assert fast.fillna("").to_numpy().tolist() == slow.fillna("").to_numpy().tolist()
        assert [str(t) for t in fast.dtypes] == [str(t) for t in slow.dtypes]
