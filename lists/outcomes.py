"""Every row's outcome, one chunk of a file at a time, in file order.

A row is imported (``""``), suppressed (on the do-not-call list: kept, never dialed,
rule 8), rejected with a reason (its number's, or ``bad_date``), or a duplicate: of an
earlier row of the file, of a row already in the list, or in the campaign (the dedupe
mode). The first row of a number that is not rejected is the one kept; the numbers kept
so far are remembered between chunks, so chunking changes no outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from lists import dates, store
from lists.picking import Picked

SUPPRESSED = "suppressed"
DUPLICATE_IN_FILE = "duplicate_in_file"


@dataclass
class Decided:
    """One chunk's outcomes (aligned with its rows)."""

    outcome: np.ndarray  # object: "" (import), "suppressed", a reject reason or a duplicate kind
    alternates_dropped: int  # alternates removed because they are on the do-not-call list

    @property
    def suppressed(self) -> np.ndarray:
        return np.asarray(self.outcome == SUPPRESSED, dtype=bool)

    @property
    def kept(self) -> np.ndarray:
        """Positions of the rows that become contacts (imported or suppressed)."""
        return np.flatnonzero((self.outcome == "") | (self.outcome == SUPPRESSED))


@dataclass
class Outcomes:
    """Decides chunk after chunk of one import, inside its transaction (after its lock:
    what :meth:`start` reads cannot change until it commits)."""

    campaign_id: int
    list_id: int
    mode: str  # off, list, campaign
    look_up: bool = True  # False: the list (campaign) held no contact when the import began
    dnc: set[str] | None = None  # the whole do-not-call list, when small; else looked up
    seen: set[str] = field(default_factory=set)  # numbers kept by earlier chunks

    @classmethod
    def start(cls, conn: Connection, campaign_id: int, list_id: int, mode: str) -> Outcomes:
        # Rows this import writes are in ``seen``, so a list (campaign) that starts empty
        # never needs a lookup: every later duplicate is one in the file.
        scope = list_id if mode == "list" else None
        look_up = mode != "off" and store.holds_contacts(
            conn, campaign_id=campaign_id, list_id=scope
        )
        return cls(campaign_id, list_id, mode, look_up, store.dnc_snapshot(conn))

    def decide(
        self, conn: Connection, picked: Picked, bad_date: np.ndarray | None = None
    ) -> Decided:
        outcome = picked.reason.copy()  # "" = import; else a reject reason
        if bad_date is not None:
            outcome[(outcome == "") & bad_date] = dates.BAD_DATE
        if self.mode != "off":
            self._in_file(picked.e164, outcome)
        todo = outcome == ""
        if self.look_up:
            held = store.existing_numbers(
                conn,
                pd.unique(picked.e164[todo]).tolist(),
                campaign_id=self.campaign_id,
                list_id=self.list_id if self.mode == "list" else None,
            )
            outcome[todo & _isin(picked.e164, held)] = f"duplicate_in_{self.mode}"
            todo = outcome == ""
        if self.dnc is not None:
            dnc = self.dnc
        else:
            wanted = set(picked.e164[todo].tolist()) | picked.alternate_numbers()
            dnc = store.dnc_numbers(conn, list(wanted))
        outcome[todo & _isin(picked.e164, dnc)] = SUPPRESSED
        return Decided(outcome, picked.drop_alternates(dnc))

    def _in_file(self, e164: np.ndarray, outcome: np.ndarray) -> None:
        """Mark repeats of a number kept earlier, in this chunk or a previous one."""
        ok = np.flatnonzero(outcome == "")
        numbers = e164[ok]
        repeat = pd.Series(numbers, dtype=object).duplicated(keep="first").to_numpy()
        if self.seen:
            repeat = repeat | _isin(numbers, self.seen)
        outcome[ok[repeat]] = DUPLICATE_IN_FILE
        self.seen.update(numbers[~repeat].tolist())


def _isin(values: np.ndarray, numbers: set[str]) -> np.ndarray:
    """``values[i] in numbers`` per row. The set intersection runs in C; ``Series.isin`` on
    the whole set would first copy it (the numbers seen so far: up to a million a chunk)."""
    common = numbers.intersection(values.tolist()) if numbers else set()
    if not common:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pd.Series(values, dtype=object).isin(common).to_numpy(), dtype=bool)
