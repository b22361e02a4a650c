"""Recording retention — the pure rule: which recordings the daily purge deletes.

A recording older than ``days`` (by when its file was last written, i.e. when the call
ended) is deleted, except a recording still needed for quality control:

* its call is in the review queue and not yet scored (an evaluation in progress);
* its call's evaluation is ``open`` (the agent has not answered and may still dispute) or
  ``disputed`` (the reviewer must listen again before re-scoring or upholding).

Acknowledged, upheld and revised evaluations no longer need the audio. ``days == 0``
keeps every recording. Time comes in as an argument; the store does the file system.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Recording:
    call_id: str
    written_at: datetime  # aware
    size: int = 0


@dataclass(frozen=True)
class Plan:
    delete: tuple[Recording, ...]
    protected: tuple[Recording, ...]  # old enough, kept for a review or dispute
    young: int  # recordings inside the retention period


def cutoff(now: datetime, days: int) -> datetime | None:
    """Recordings written before this instant are due; None when everything is kept."""
    return now - timedelta(days=days) if days > 0 else None


def plan(
    recordings: Iterable[Recording], now: datetime, days: int, protected: Collection[str]
) -> Plan:
    """Split the recordings into those to delete, those kept for QC, and the young ones."""
    limit = cutoff(now, days)
    delete: list[Recording] = []
    kept: list[Recording] = []
    young = 0
    for r in sorted(recordings, key=lambda r: (r.written_at, r.call_id)):
        if limit is None or r.written_at >= limit:
            young += 1
        elif r.call_id in protected:
            kept.append(r)
        else:
            delete.append(r)
    return Plan(tuple(delete), tuple(kept), young)
