"""Recording retention on a real directory and database (quality/retention_store.py), and
the scheduler's daily job (dialer/scheduling.py) with a fake wall clock."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qcdata
from sqlalchemy.engine import Engine
from sqlmodel import select

from compliance.models import AuditEntry
from dialer.runtime import DialerRuntime
from dialer.scheduling import CampaignScheduler
from outdial.storage import session_scope
from quality import retention_store, review, store
from quality.models import QcQueueItem
from quality.recordings import recording_path

NOW = datetime(2026, 12, 7, 3, 37, tzinfo=UTC)
ANSWERS = {"greeting": "yes", "identity": "yes", "clarity": "4", "recap": "yes"}


def wav(data_dir: Path, call_id: str, age_days: float) -> Path:
    p = recording_path(data_dir, call_id)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"RIFF" + bytes(96))
    t = (NOW - timedelta(days=age_days)).timestamp()
    os.utime(p, (t, t))
    return p


def floor_with_reviews(engine: Engine) -> dict[str, int]:
    """li's 5 calls: 0 queued, 1 scored (open), 2 disputed, 3 acknowledged, 4 nothing."""
    uid = qcdata.agent(engine, "li")
    calls = qcdata.floor(engine, NOW - timedelta(days=200), {"li": uid}, calls_each=5)["calls"]
    ids = calls["li"]
    card = store.save_card(engine, qcdata.card_definition(), None, NOW)
    with session_scope(engine) as s:
        s.add(QcQueueItem(attempt_id=ids[0], agent_user_id=uid, campaign_id=1, reason="n",
                          week="2026-05-18"))  # fmt: skip
    review.evaluate(engine, ids[1], card.id or 0, ANSWERS, "", None, NOW)
    disputed = review.evaluate(engine, ids[2], card.id or 0, ANSWERS, "", None, NOW)
    review.dispute(engine, disputed.id or 0, uid, "I did confirm the address", NOW)
    done = review.evaluate(engine, ids[3], card.id or 0, ANSWERS, "", None, NOW)
    review.acknowledge(engine, done.id or 0, uid, NOW)
    return {"uid": uid}


def test_old_recordings_go_those_under_review_or_dispute_stay(
    engine: Engine, tmp_path: Path
) -> None:
    floor_with_reviews(engine)
    files = {f"call-li-{k}": wav(tmp_path, f"call-li-{k}", 200) for k in range(5)}
    young = wav(tmp_path, "call-new", 3)
    stray = wav(tmp_path, "no-such-call", 95)  # a file with no call row: old, so deleted
    result = retention_store.apply(engine, tmp_path, 90, NOW)
    kept = {name for name, p in files.items() if p.exists()}
    assert kept == {"call-li-0", "call-li-1", "call-li-2"}  # queued, open, disputed
    assert young.exists() and not stray.exists()
    assert (result.deleted, result.protected, result.kept, result.failed) == (3, 3, 1, 0)
    assert result.freed_bytes == 3 * 100
    with session_scope(engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.kind == "recordings.retention")).all()
    assert [json.loads(r.body)["deleted"] for r in rows] == [3]


def test_zero_days_deletes_nothing_and_a_missing_folder_is_no_error(
    engine: Engine, tmp_path: Path
) -> None:
    assert retention_store.apply(engine, tmp_path, 90, NOW).deleted == 0  # no recordings yet
    old = wav(tmp_path, "call-x", 5000)
    assert retention_store.apply(engine, tmp_path, 0, NOW).kept == 1 and old.exists()


async def test_the_scheduler_runs_the_purge_with_its_wall_clock(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    old, fresh = wav(tmp_path, "call-a", 31), wav(tmp_path, "call-b", 29)
    sched = CampaignScheduler(
        DialerRuntime(sqlite_engine), wall=lambda: NOW, retention=(tmp_path, 30)
    )
    result = await sched.purge_recordings()
    assert result is not None and result.deleted == 1
    assert not old.exists() and fresh.exists()
    sched.start()
    try:
        job = sched.scheduler.get_job("recording-retention")
        assert job is not None and (job.next_run_time.hour, job.next_run_time.minute) == (3, 37)
    finally:
        sched.shutdown()
