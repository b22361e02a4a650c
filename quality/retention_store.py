"""Recording retention applied to DATA_DIR/recordings (the rule: quality/retention.py).

Run daily by the campaign scheduler (dialer/scheduling.py, 03:37 UTC) with
``recording_retention_days`` from the configuration. Each run logs its counts and appends
one ``recordings.retention`` row to the audit trail (rule 36), also when nothing was due,
so the trail shows the purge ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance import store as compliance
from dialer.models import Attempt
from outdial.storage import session_scope
from quality import retention
from quality.models import QcEvaluation, QcQueueItem
from quality.recordings import CALL_ID, recordings_dir
from quality.review import Status

log = structlog.get_logger(__name__)
AUDIT_KIND = "recordings.retention"
#: evaluations whose recording a reviewer or the agent may still need
NEEDED = (Status.OPEN.value, Status.DISPUTED.value)


@dataclass(frozen=True)
class Result:
    deleted: int
    protected: int
    kept: int  # inside the retention period
    freed_bytes: int
    failed: int = 0  # files that could not be removed (logged)


def scan(folder: Path) -> list[retention.Recording]:
    """The recordings on disk, with when each was written."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob("*.wav"):
        if not p.is_file() or not CALL_ID.match(p.stem):
            continue
        st = p.stat()
        out.append(
            retention.Recording(p.stem, datetime.fromtimestamp(st.st_mtime, UTC), st.st_size)
        )
    return out


def protected_call_ids(engine: Engine) -> set[str]:
    """Call ids awaiting review, or with an open or disputed evaluation."""
    with session_scope(engine) as s:
        queued = select(QcQueueItem.attempt_id).where(QcQueueItem.status == "open")
        scoring = select(QcEvaluation.attempt_id).where(col(QcEvaluation.status).in_(NEEDED))
        rows = s.exec(
            select(Attempt.call_id).where(
                col(Attempt.id).in_(queued) | col(Attempt.id).in_(scoring)
            )
        )
        return set(rows)


def apply(engine: Engine, data_dir: Path | str, days: int, now: datetime) -> Result:
    """Delete the recordings the rule gives; log the counts and write the audit row."""
    folder = recordings_dir(data_dir)
    if days <= 0:
        log.info("recording retention off: every recording is kept", folder=str(folder))
        return Result(0, 0, len(scan(folder)), 0)
    p = retention.plan(scan(folder), now, days, protected_call_ids(engine))
    gone: list[retention.Recording] = []
    for r in p.delete:
        try:
            (folder / f"{r.call_id}.wav").unlink(missing_ok=True)
            gone.append(r)
        except OSError as exc:
            log.warning("recording not deleted", call_id=r.call_id, error=str(exc))
    failed = len(p.delete) - len(gone)
    freed = sum(r.size for r in gone)
    result = Result(len(gone), len(p.protected), p.young, freed, failed)
    body = {"days": days, **result.__dict__}
    with session_scope(engine) as s:
        compliance.audit(s, AUDIT_KIND, body, now)
    log.info("recording retention applied", **body)
    return result
