"""What a chunk of rows needs before it is written, column-wise: which number of a row is
its primary and which are alternates, and the JSON of its custom fields.

No database imports here: the pool workers of :mod:`lists.pipeline` import this module
(and :mod:`lists.numbers`) alone, so they start in about a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lists import numbers, phone


@dataclass
class Picked:
    """Per row: the primary number (first valid phone column) and its facts, or why none."""

    e164: np.ndarray  # object, "" when no phone column held a valid number
    kind: np.ndarray
    zones: np.ndarray  # JSON text
    reason: np.ndarray  # "" when valid, else the first non-empty phone cell's reason
    alternates: list[list[str]] | None  # per row, only with several phone columns
    alternates_invalid: np.ndarray  # per row: non-empty phone cells that did not parse

    def __len__(self) -> int:
        return len(self.e164)

    @property
    def valid(self) -> np.ndarray:
        return np.asarray(self.e164 != "", dtype=bool)

    @classmethod
    def concat(cls, parts: list[Picked]) -> Picked:
        """The rows of ``parts``, in order (the chunks of one file)."""
        if len(parts) == 1:
            return parts[0]
        alternates: list[list[str]] | None = None
        if parts and parts[0].alternates is not None:
            alternates = [a for p in parts for a in p.alternates or []]
        return cls(
            np.concatenate([p.e164 for p in parts]),
            np.concatenate([p.kind for p in parts]),
            np.concatenate([p.zones for p in parts]),
            np.concatenate([p.reason for p in parts]),
            alternates,
            np.concatenate([p.alternates_invalid for p in parts]),
        )

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
        counts = pd.Series(self.kind[taken], dtype=object).value_counts()
        return {str(k): int(v) for k, v in counts.items()}


def pick_numbers(
    frame: pd.DataFrame, phones: tuple[str, ...], region: str, parallel: bool = True
) -> Picked:
    """``parallel``: may normalize on a pool of its own (not inside a pool worker)."""
    total = len(frame)
    stacked = pd.concat([frame[c] for c in phones], ignore_index=True)
    norm = numbers.normalize(stacked, region, parallel=parallel)
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
