"""Turning a file's rows into contact rows, column-wise: the custom-field JSON, the raw
JSON of rejected rows, and the batched writes. Which number is primary: lists/picking.py."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from lists import store
from lists.columns import ColumnMap
from lists.dates import Due
from lists.models import CallList, ContactStatus, ImportJob, reversed_number
from lists.picking import Picked, custom_json

WRITE_BATCH = 50_000
FORMULA_START = r"[=+\-@]"  # cells a spreadsheet would run as a formula (CSV injection)


def write_contacts(
    conn: Connection,
    frame: pd.DataFrame,
    cmap: ColumnMap,
    picked: Picked,
    custom: np.ndarray,
    keep: np.ndarray,
    suppressed: np.ndarray,
    job: ImportJob,
    lst: CallList,
    now: datetime,
    first_row: int,
    due: Due | None = None,
) -> int:
    """Insert the kept rows in batches; how many. ``due``: when each row
    falls due (a return visit), else none is set and the row is due at once. ``frame``,
    ``picked``, ``custom`` (its JSON), ``suppressed`` and ``due`` are aligned; ``first_row``
    numbers frame row 0."""
    fixed: dict[str, Any] = {  # the same in every row: bound once, not a million times
        "list_id": lst.id,
        "campaign_id": lst.campaign_id,
        "job_id": job.id,
        "attempts": 0,
        "last_attempt_at": None,
        "last_outcome": "",
        "created_at": store.db_timestamp(conn, now),
    }
    columns = CONTACT_COLUMNS if due else CONTACT_COLUMNS[:-1]
    if due is None:
        fixed["next_due_at"] = None
    values = [store.db_timestamp(conn, v) for v in due.values] if due else []
    due_at = np.empty(len(values) + 1, dtype=object)  # filled with None
    due_at[: len(values)] = values  # distinct due times, converted once; code -1 → None
    flag = np.array([store.db_bool(conn, False), store.db_bool(conn, True)], dtype=object)
    status = np.array([ContactStatus.NEW.value, ContactStatus.SUPPRESSED.value], dtype=object)
    for start in range(0, len(keep), WRITE_BATCH):
        idx = keep[start : start + WRITE_BATCH]
        sup = suppressed[idx].astype(np.intp)
        alts = [json.dumps(picked.alternates[i]) for i in idx] if picked.alternates else None
        cols: list[list[Any]] = [
            (idx + first_row).tolist(),
            (numbers := picked.e164[idx].tolist()),
            [reversed_number(n) for n in numbers],  # the contact browser's last digits
            alts or ["[]"] * len(idx),
            picked.kind[idx].tolist(),
            picked.zones[idx].tolist(),
            _text(frame, cmap.name, idx),
            _text(frame, cmap.order_id, idx),
            _text(frame, cmap.address, idx),
            custom[idx].tolist(),
            flag[sup].tolist(),
            status[sup].tolist(),
        ]
        if due:
            cols.append(due_at[due.codes[idx]].tolist())
        store.bulk_insert(conn, "contacts", columns, zip(*cols, strict=True), fixed)
    return len(keep)


#: the columns that differ from row to row, in this order (next_due_at only for return visits)
CONTACT_COLUMNS = (
    "row_number",
    "primary_number",
    "number_reversed",
    "alternates",
    "number_type",
    "timezones",
    "name",
    "order_id",
    "address",
    "custom",
    "suppressed",
    "status",
    "next_due_at",
)


def _text(frame: pd.DataFrame, column: str | None, idx: np.ndarray) -> list[Any]:
    if column is None:
        return [""] * len(idx)
    return list(frame[column].iloc[idx].to_numpy(dtype=object).tolist())


def write_rejects(
    conn: Connection, frame: pd.DataFrame, outcome: np.ndarray, job: ImportJob, first_row: int
) -> int:
    """One row per rejected or duplicate source row, with its raw values (as JSON, built
    column-wise like the custom fields)."""
    idx = np.flatnonzero((outcome != "") & (outcome != "suppressed"))
    headers = tuple(frame.columns)
    fixed = {"job_id": job.id, "list_id": job.list_id}
    for start in range(0, len(idx), WRITE_BATCH):
        part = idx[start : start + WRITE_BATCH]
        batch = zip(
            (part + first_row).tolist(),
            outcome[part].tolist(),
            custom_json(frame, headers, part).tolist(),
            strict=True,
        )
        store.bulk_insert(conn, "rejected_rows", ("row_number", "reason", "raw"), batch, fixed)
    return len(idx)


def formula_cells(frame: pd.DataFrame, cmap: ColumnMap) -> int:
    """Cells (outside phone columns) a spreadsheet would treat as a formula: kept as text,
    escaped on export (lists/export.py)."""
    total = 0
    for c in frame.columns:
        if c not in cmap.phones:
            total += int(frame[c].str.match(FORMULA_START).fillna(False).sum())
    return total
