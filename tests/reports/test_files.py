"""Scheduled report files: the last complete period, the files written, safe names."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
import timeline

from reports import files
from reports.errors import ReportFileNotFound

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Wednesday 2026-12-02 01:00 in Shanghai


def test_period_spans_in_the_report_zone() -> None:
    assert files.period_span("daily", NOW, "Asia/Shanghai") == ("2026-12-01",) * 3
    assert files.period_span("daily", NOW, "UTC")[0] == "2026-11-30"
    assert files.period_span("weekly", NOW, "Asia/Shanghai") == (
        "2026-11-23",
        "2026-11-29",
        "2026-11-23",
    )
    assert files.period_span("monthly", NOW, "Asia/Shanghai") == (
        "2026-11-01",
        "2026-11-30",
        "2026-11",
    )


def test_daily_file_written_listed_and_guarded(sqlite_engine: Engine, tmp_path: Path) -> None:
    timeline.build(sqlite_engine)
    written = files.write_period(sqlite_engine, tmp_path, "daily", NOW)
    assert [p.name for p in written] == ["daily-2026-12-01.csv", "daily-2026-12-01.xlsx"]
    csv = written[0].read_text("utf-8-sig").splitlines()
    assert csv[0].startswith("时段,外呼任务,呼出量")
    assert any(line.startswith("2026-12-01T09:00+08:00,回访一,5,") for line in csv)
    assert [f["name"] for f in files.list_files(tmp_path)] == [p.name for p in written[::-1]]
    with pytest.raises(ReportFileNotFound):
        files.path_of(tmp_path, "../outdial.db")


def test_install_adds_three_file_jobs_and_the_rollup() -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = BackgroundScheduler()
    files.install(sched, None, "/nonexistent", "Asia/Shanghai")  # type: ignore[arg-type]
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"reports-daily", "reports-weekly", "reports-monthly", "reports-rollup"}


def test_chinese_headers_use_the_glossary_words() -> None:
    """shared/glossary.md: 坐席 (one spelling) and 外呼任务 ("活动" reads as marketing only)."""
    from reports.kpis import DIMENSION_ZH

    words = "".join(DIMENSION_ZH.values())
    assert "活动" not in words and "座席" not in words
    assert (DIMENSION_ZH["agent"], DIMENSION_ZH["campaign"]) == ("坐席", "外呼任务")
