"""Errors of the reports package (all derive from outdial.errors.OutdialError)."""

from __future__ import annotations

from outdial.errors import InvalidInput, NotFound


class ReportInvalid(InvalidInput):
    """A report request a user got wrong; ``field`` names what to fix."""

    code = "report_invalid"


class ReportFileNotFound(NotFound):
    code = "report_file_not_found"
