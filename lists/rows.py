"""Turning a file's rows into contact rows, column-wise: which number is primary, which
are alternates, the custom-field JSON, and the batched writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from lists import numbers, phone, store
from lists.columns import ColumnMap
from lists.dates import Due
from lists.models import CallList, ContactStatus, ImportJob

WRITE_BATCH = 50_000
FORMULA_START = r"[=+\-@]"  # cells a spreadsheet would run as a formula (CSV injection)


@dataclass
class Picked:
    """Per row: the primary number (first valid phone column) and its facts, or why none."""

    e164: np.ndarray  # object, "" when no phone column held a valid number
    kind: np.ndarray
    zones: np.ndarray  # JSON text
    reason: np.ndarray  # "" when valid, else the first non-empty phone cell's reason
    alternates: list[list[str]] | None  # per row, only with several phone columns
    alternates_invalid: np.ndarray  # per row: non-empty phone cells that did not parse

    @property
    def valid(self) -> np.ndarray:
        return np.asarray(self.e164 != "", dtype=bool)

    def alternate_numbers(self) -> set[str]:
        return {n for alts in self.alternates or [] for n in alts}

    def drop_alternates(self, dnc: set[str]) -> int:
        """Remove alternates on the do-not-call list (rule 8); how many went."""
        if not self.alternates or not dnc:
            return 0
        dropped = 0
        for i, alts in enumerate(self.alternates):
            if alts and any(a in dnc for a in alts):
                kept = [a for a in alts if a not in dnc]
                dropped += len(alts) - len(kept)
                self.alternates[i] = kept
        return dropped

    def alternate_counts(self) -> dict[str, int]:
        kept = sum(len(a) for a in self.alternates or [])
        return {"kept": kept, "invalid": int(self.alternates_invalid[self.valid].sum())}

    def type_counts(self, outcome: np.ndarray) -> dict[str, int]:
        taken = (outcome == "") | (outcome == "suppressed")
        counts = pd.Series(self.kind[taken]).value_counts()
        return {str(k): int(v) for k, v in counts.items()}


def pick_numbers(frame: pd.DataFrame, phones: tuple[str, ...], region: str) -> Picked:
    total = len(frame)
    stacked = pd.concat([frame[c] for c in phones], ignore_index=True)
    norm = numbers.normalize(stacked, region)
    e164 = np.full(total, "", dtype=object)
    kind, zones, reason = e164.copy(), e164.copy(), e164.copy()
    bad = np.zeros(total, dtype=np.int64)
    for j in range(len(phones)):
        sl = slice(j * total, (j + 1) * total)
        e, r = norm.e164[sl], norm.reason[sl]
        take = (e164 == "") & (e != "")
        e164[take], kind[take], zones[take] = e[take], norm.kind[sl][take], norm.zones[sl][take]
        first_bad = (reason == "") & (r != "") & (r != phone.EMPTY)
        reason[first_bad] = r[first_bad]
        bad += (r != "") & (r != phone.EMPTY)
    valid = e164 != ""
    reason[valid] = ""
    reason[~valid & (reason == "")] = phone.EMPTY
    alternates = None
    if len(phones) > 1:
        cols = [norm.e164[j * total : (j + 1) * total] for j in range(len(phones))]
        alternates = [_alts(p, row) for p, row in zip(e164, zip(*cols, strict=True), strict=True)]
    return Picked(e164, kind, zones, reason, alternates, bad)


def _alts(primary: str, row: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for n in row:
        if n and n != primary and n not in out:
            out.append(n)
    return out


def custom_json(frame: pd.DataFrame, cols: tuple[str, ...], idx: np.ndarray) -> np.ndarray:
    """``{"column": "value", ...}`` per row, built column-wise (json.dumps per row costs
    seconds on a million rows). Values with control characters go through json.dumps."""
    if not cols:
        return np.full(len(idx), "{}", dtype=object)
    out: pd.Series | None = None
    for i, c in enumerate(cols):
        values = frame[c].iloc[idx].reset_index(drop=True)
        quoted = '"' + values.str.replace("\\", "\\\\").str.replace('"', '\\"') + '"'
        ctrl = values.str.contains(r"[\x00-\x1f]", regex=True)
        if ctrl.any():
            quoted = quoted.where(
                ~ctrl, values[ctrl].map(lambda v: json.dumps(v, ensure_ascii=False))
            )
        part = ("{" if i == 0 else ", ") + json.dumps(c, ensure_ascii=False) + ": " + quoted
        out = part if out is None else out + part
    assert out is not None
    return np.asarray((out + "}").to_numpy(dtype=object))


def write_contacts(
    conn: Connection,
    frame: pd.DataFrame,
    cmap: ColumnMap,
    picked: Picked,
    keep: np.ndarray,
    suppressed: np.ndarray,
    job: ImportJob,
    lst: CallList,
    now: datetime,
    first_row: int,
    due: Due | None = None,
) -> Iterator[int]:
    """Insert the kept rows in batches; yield rows written so far. ``due``: when each row
    falls due (a return visit), else none is set and the row is due at once."""
    created = store.db_timestamp(conn, now)
    values = [store.db_timestamp(conn, v) for v in due.values] if due else []
    due_at = np.empty(len(values) + 1, dtype=object)  # filled with None
    due_at[: len(values)] = values  # distinct due times, converted once; code -1 → None
    yes, no = store.db_bool(conn, True), store.db_bool(conn, False)
    for start in range(0, len(keep), WRITE_BATCH):
        idx = keep[start : start + WRITE_BATCH]
        n = len(idx)
        sup = suppressed[idx]
        alts = (
            [json.dumps(picked.alternates[i]) for i in idx] if picked.alternates else repeat("[]")
        )
        batch = zip(
            repeat(lst.id, n),
            repeat(lst.campaign_id),
            repeat(job.id),
            (idx + first_row).tolist(),
            picked.e164[idx],
            alts,
            picked.kind[idx],
            picked.zones[idx],
            _text(frame, cmap.name, idx),
            _text(frame, cmap.order_id, idx),
            _text(frame, cmap.address, idx),
            custom_json(frame, cmap.custom, idx),
            np.where(sup, yes, no).tolist(),
            np.where(sup, ContactStatus.SUPPRESSED.value, ContactStatus.NEW.value).tolist(),
            repeat(0),
            due_at[due.codes[idx]].tolist() if due else repeat(None),
            repeat(None),
            repeat(""),
            repeat(created),
        )
        store.bulk_insert(conn, "contacts", store.CONTACT_COLUMNS, batch)
        yield start + n


def _text(frame: pd.DataFrame, column: str | None, idx: np.ndarray) -> np.ndarray:
    if column is None:
        return np.full(len(idx), "", dtype=object)
    return np.asarray(frame[column].iloc[idx].to_numpy(dtype=object))


def write_rejects(
    conn: Connection, frame: pd.DataFrame, outcome: np.ndarray, job: ImportJob, first_row: int
) -> int:
    """One row per rejected or duplicate source row, with its raw values."""
    idx = np.flatnonzero((outcome != "") & (outcome != "suppressed"))
    headers = list(frame.columns)
    for start in range(0, len(idx), WRITE_BATCH):
        part = idx[start : start + WRITE_BATCH]
        values = frame.iloc[part].itertuples(index=False, name=None)
        batch = (
            (job.id, job.list_id, int(i) + first_row, outcome[i], _raw(headers, v))
            for i, v in zip(part, values, strict=True)
        )
        store.bulk_insert(conn, "rejected_rows", store.REJECT_COLUMNS, batch)
    return len(idx)


def _raw(headers: list[str], values: tuple[str, ...]) -> str:
    return json.dumps(dict(zip(headers, values, strict=True)), ensure_ascii=False)


def formula_cells(frame: pd.DataFrame, cmap: ColumnMap) -> int:
    """Cells (outside phone columns) a spreadsheet would treat as a formula: kept as text,
    escaped on export (lists/export.py)."""
    total = 0
    for c in frame.columns:
        if c not in cmap.phones:
            total += int(frame[c].str.match(FORMULA_START).fillna(False).sum())
    return total
