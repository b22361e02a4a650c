"""Delivery and service dates in a list (回访): when each contact's return visit falls due.

A cell holds a date as people and spreadsheets write it: ``2026-11-20``, ``2026/11/20``,
``2026.11.20``, ``20261120``, ``2026年11月20日``, an Excel date cell (the reader turns it into
``2026-11-20`` or ``2026-11-20T10:30:00``) or an Excel day number (``46346``), each with an
optional time (``10:30``, ``10:30:00``, ``10时30分``). A time without a UTC offset is wall-clock
time in the campaign's zone. The call is due N days later (the campaign's
``return_visit_delay_days``, counted in calendar days on the local clock, as
campaigns/return_visits.py counts them for API-pushed tasks).

Column-wise: a list of a million deliveries holds a few thousand distinct cells, so each
distinct cell is parsed once and the result is spread back over the rows by code. Every
form is rewritten to ISO 8601 by regular expressions that run in pyarrow (no Python loop
per cell), then parsed by pandas' ISO 8601 parser in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

BAD_DATE = "bad_date"

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's 1900 date system (after its bug)
_EXCEL_DAYS = r"[0-9]{5}(?:\.[0-9]+)?"  # 10000..99999: 1927..2173, never a year or a yyyymmdd
# ISO 8601 with a UTC offset: the cell names an instant, not a local time
_OFFSET = r"^(?:19|20|21)[0-9][0-9]-.*(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
# every local form is rewritten to ISO 8601 by these, in order (RE2: no lookarounds; [0-9], not \d,
# which pandas hands to Python's re on non-ASCII text)
_TO_ISO = (
    (r"[年月]", "-"), (r"日", " "), (r"[时時点點]", ":"), (r"分", ":"), (r"秒", ""),
    (r"^([0-9]{4})([0-9]{2})([0-9]{2})($|[T ])", r"\1-\2-\3\4"),  # 20261120
    (r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})", r"\1-0\2-0\3"),  # pad; cut below
    (r"^([0-9]{4})-0?([0-9]{2})-0?([0-9]{2})", r"\1-\2-\3"),
    (r"^([^ \t]+)[ \t]*[T \t][ \t]*([0-9]{1,2}):([0-9]{1,2})", r"\1 0\2:0\3"),
    (r"^([^ \t]+) 0?([0-9]{2}):0?([0-9]{2})", r"\1 \2:\3"),
    (r"^([^ \t]+ [0-9]{2}:[0-9]{2}):([0-9])($|\.)", r"\1:0\2\3"),
    (r":$", ""),
)  # fmt: skip
_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?"


@dataclass(frozen=True)
class Due:
    """Per row, an index into ``values`` (distinct due times, UTC) or -1: no date parsed."""

    codes: np.ndarray
    values: list[datetime]

    @property
    def bad(self) -> np.ndarray:
        return np.asarray(self.codes < 0, dtype=bool)

    def part(self, rows: slice) -> Due:
        """The due times of a range of rows (a chunk of the file)."""
        return Due(self.codes[rows], self.values)

    @classmethod
    def same(cls, rows: int, at: datetime) -> Due:
        """Every row due at one time (a file with no date column)."""
        return cls(np.zeros(rows, dtype=np.int64), [at])


def due_times(cells: pd.Series, tz: str, delay_days: int) -> Due:
    """Parse a date column; each row is due ``delay_days`` after its date (in zone ``tz``)."""
    codes, uniques = pd.factorize(cells.fillna("").astype(str), sort=False)
    at = _parse(pd.Series(uniques, dtype="str"), tz, delay_days)  # pyarrow: vectorised regex
    ok = at.notna().to_numpy()
    values = list(pd.DatetimeIndex(at[ok]).to_pydatetime())
    remap = np.full(len(at), -1, dtype=np.int64)
    remap[ok] = np.arange(len(values))
    return Due(remap[codes], values)


def _parse(raw: pd.Series, tz: str, delay_days: int) -> pd.Series:
    """Distinct cells → due times (UTC) or NaT. String operations run in pyarrow (RE2)."""
    text = raw.str.normalize("NFKC").str.strip()  # full-width digits and colons
    aware = text.str.contains(_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
    local = text
    ok = text.str.fullmatch(_ISO).fillna(False).to_numpy(dtype=bool)
    if not ok.all():  # cells already ISO 8601 (Excel date cells, as read) skip the rewriting
        other = text[~ok]
        for pattern, repl in _TO_ISO:
            other = other.str.replace(pattern, repl, regex=True)
        local = text.copy()
        local[~ok] = other.str.strip().to_numpy()
        ok = local.str.fullmatch(_ISO).fillna(False).to_numpy(dtype=bool)
    ok = ok & ~aware
    naive = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if ok.any():
        # an hour of 25 or a 30 February does not parse: NaT, a bad date
        parsed = pd.to_datetime(local[ok], format="ISO8601", errors="coerce")
        naive[ok] = parsed.astype("datetime64[us]").to_numpy()
    excel = text.str.fullmatch(_EXCEL_DAYS).fillna(False).to_numpy(dtype=bool)
    if excel.any():
        days = pd.to_numeric(text[excel], errors="coerce")
        at = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("s")
        naive[excel] = at.astype("datetime64[us]").to_numpy()
    naive[~naive.dt.year.between(1900, 2199)] = pd.NaT  # 0026 or 9999: a typo, not a visit
    # wall-clock days (a delay across a DST change keeps the hour); an ambiguous hour is
    # taken as standard time, a skipped one moves forward: a date is never refused for it
    shifted = naive + pd.Timedelta(days=delay_days)
    due = shifted.dt.tz_localize(
        tz, ambiguous=np.zeros(len(shifted), dtype=bool), nonexistent="shift_forward"
    ).dt.tz_convert("UTC")
    if aware.any():
        instant = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
        instant = instant.where(instant.dt.year.between(1900, 2199))
        due[aware] = (instant + timedelta(days=delay_days)).to_numpy()
    return due
