"""Errors raised by ``lists`` (see outdial/errors.py for the tree).

OutdialError
├── LocalError
│   └── ImportCancelled         the job was cancelled; nothing was written
└── RemoteError
    └── ListFileError           the uploaded file cannot be used (nothing written)
        ├── EmptyFile           no bytes, or a header and no rows
        ├── BinaryFile          NUL bytes / not text, or an .xls (BIFF) workbook
        ├── EncodingUnreadable  not UTF-8/GBK/GB18030, or not the encoding asked for
        ├── LineTooLong         one line is longer than the limit
        ├── NoHeader            the first row is data, not column names
        ├── NoPhoneColumn       no column is, or is mapped to, a phone number
        ├── ColumnNotFound      a --map names a column the file does not have
        ├── SheetNotFound       --sheet names a sheet the workbook does not have
        └── BadMapping          a --map field or value cannot be understood
"""

from __future__ import annotations

from outdial.errors import InvalidInput, LocalError


class ListFileError(InvalidInput):
    """The file cannot be imported; nothing was written."""

    code = "list_file_invalid"


class EmptyFile(ListFileError):
    code = "list_file_empty"


class BinaryFile(ListFileError):
    code = "list_file_binary"


class EncodingUnreadable(ListFileError):
    code = "list_file_encoding"


class LineTooLong(ListFileError):
    code = "list_file_line_too_long"


class NoHeader(ListFileError):
    code = "list_file_no_header"


class NoPhoneColumn(ListFileError):
    code = "list_file_no_phone_column"


class ColumnNotFound(ListFileError):
    code = "list_column_not_found"


class SheetNotFound(ListFileError):
    code = "list_sheet_not_found"


class BadMapping(ListFileError):
    code = "list_mapping_invalid"


class UploadTooLarge(ListFileError):
    """Larger than ``max_upload_mb``; answered with HTTP 413."""

    code = "upload_too_large"
    http_status = 413


class WorkbookTooLarge(ListFileError):
    """A workbook past a row, column, cell or expansion limit (a decompression bomb, say)."""

    code = "list_file_too_large"
    http_status = 413


class ImportCancelled(LocalError):
    code = "import_cancelled"
