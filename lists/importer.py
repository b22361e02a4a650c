"""An import job end to end: read → map → normalize → dedupe → suppress → write → report.

Every row read gets exactly one outcome: imported, suppressed (on the do-not-call
list: kept, never dialed, rule 8), rejected with a reason (a number's, or ``bad_date`` for a
return visit whose date does not parse), or a duplicate (in the file, in the list, in the
campaign). The report counts outcomes, so
``rows_read == imported + suppressed + rejected + duplicates`` by construction.

All-or-nothing: contacts, rejected rows and the job's "done" are written in one
transaction; a failure or a cancel rolls all of it back. Idempotent: the same
bytes imported into the same list again find the earlier job and write nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from campaigns import store as campaigns_store
from campaigns.models import Campaign
from campaigns.rules import CampaignSpec, Kind
from compliance.profiles import LAWFUL_BASES
from lists import columns, consent, dates, outcomes, phone, picking, pipeline, reader, rows, store
from lists.errors import BadMapping, ImportCancelled
from lists.models import CallList, ContactStatus, ImportJob, JobStatus, ListStatus
from outdial.errors import InvalidInput, NotFound
from outdial.models import utcnow
from outdial.storage import session_scope
from outdial.text import name_problem

DEDUPE_MODES = ("off", "list", "campaign")

#: (phase, rows done, rows total); phases: reading, normalizing, writing, done
ProgressFn = Callable[[str, int, int], None]

_LIVE: dict[int, tuple[str, int, int]] = {}


class _Cancel:
    """A job's cancel switch. Honoured until the job's commit point, refused after it: a
    cancel never answers "nothing was written" for a list that is being committed (issue 18,
    finding 4)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requested = False
        self.committing = False

    def request(self) -> str:
        with self.lock:
            if self.committing:
                return "committing"
            self.requested = True
            return "cancelling"

    def is_set(self) -> bool:
        with self.lock:
            return self.requested

    def commit_point(self, job_id: int) -> None:
        """Last chance to cancel (raises, so the transaction rolls back); then no more."""
        with self.lock:
            if self.requested:
                raise ImportCancelled(
                    "the import was cancelled; nothing was written", job_id=job_id
                )
            self.committing = True


_CANCEL: dict[int, _Cancel] = {}


@dataclass(frozen=True)
class ImportOptions:
    campaign: str
    list_name: str | None = None  # default: the file name without its extension
    region: str | None = None  # default: the list's, else the campaign's region
    mapping: dict[str, list[str]] = field(default_factory=dict)
    encoding: str | None = None
    sheet: str | None = None
    dedupe: str | None = None  # default: the campaign's setting
    purpose: str = ""  # rule 30
    lawful_basis: str = ""
    source: str = ""
    #: make the campaign when it does not exist (issue 16 item 3); else refuse: a campaign
    #: made by an upload has no schedule and no caller ID, and cannot dial
    create_campaign: bool = False
    uploader: str = ""  # who stated the lawful basis (audit trail, rule 30)


def live_progress(job_id: int) -> tuple[str, int, int] | None:
    """Progress of a job running in this process, or None."""
    return _LIVE.get(job_id)


def request_cancel(job_id: int) -> str:
    """Ask a job to stop: ``"cancelling"`` (it rolls back and ends ``cancelled``),
    ``"committing"`` (too late: its rows are being committed) or ``"not_running"``."""
    switch = _CANCEL.get(job_id)
    if switch is None:
        return "not_running"
    return switch.request()


def import_file(
    engine: Engine,
    path: Path,
    opts: ImportOptions,
    progress: ProgressFn | None = None,
    file_name: str | None = None,
) -> dict[str, Any]:
    """Start and run one import; the report (``already_imported`` when nothing changed)."""
    job, again = start(engine, path, opts, file_name)
    if again:
        return previous_report(job)
    return run(engine, job.id or 0, path, progress)


def previous_report(job: ImportJob) -> dict[str, Any]:
    return {**job.report, "job_id": job.id, "status": job.status, "already_imported": True}


def start(
    engine: Engine, path: Path, opts: ImportOptions, file_name: str | None = None
) -> tuple[ImportJob, bool]:
    """Find or create the list and queue a job: ``(job, already_imported)``."""
    if opts.dedupe is not None and opts.dedupe not in DEDUPE_MODES:
        raise BadMapping(f"dedupe must be one of {', '.join(DEDUPE_MODES)}", dedupe=opts.dedupe)
    if opts.region is not None and not phone.known_region(opts.region):
        raise BadMapping(
            f"unknown region {opts.region!r} (two letters, e.g. CN)", region=opts.region
        )
    if opts.lawful_basis and opts.lawful_basis not in LAWFUL_BASES:
        raise BadMapping(
            f"unknown lawful basis {opts.lawful_basis!r} (one of {', '.join(LAWFUL_BASES)})",
            field="lawful_basis",
        )
    file_name = file_name or path.name
    sha = reader.file_digest(path)
    campaign = _target_campaign(engine, opts)
    if opts.mapping.get("visit_date") and campaign.kind != Kind.RETURN_VISIT:
        raise BadMapping(
            f"--map visit_date: campaign {campaign.name!r} is {campaign.kind}, not return_visit",
            field="visit_date",
        )
    lst = _list_for(engine, campaign.id or 0, opts, file_name, campaign.region)
    prior = store.done_job_for(engine, lst.id or 0, sha)
    if prior is not None:
        return prior, True
    job = ImportJob(
        list_id=lst.id or 0, file_name=file_name[:255], content_sha256=sha, options=asdict(opts)
    )
    with session_scope(engine) as s:
        s.add(job)
        s.flush()
        s.refresh(job)
    _CANCEL[job.id or 0] = _Cancel()
    return job, False


def _target_campaign(engine: Engine, opts: ImportOptions) -> Campaign:
    """The campaign a list goes into; made only when asked (``--create``)."""
    if opts.create_campaign:
        return campaigns_store.get_or_create(engine, opts.campaign, region=opts.region or "CN")
    try:
        return campaigns_store.by_name(engine, opts.campaign)
    except NotFound:
        raise NotFound(
            f"no campaign named {opts.campaign!r} — create it with `outdial campaigns new` "
            "(and `outdial campaigns load FILE`), or import with --create",
            campaign=opts.campaign,
            field="campaign",
        ) from None


def _list_for(
    engine: Engine, campaign_id: int, opts: ImportOptions, file_name: str, region: str
) -> CallList:
    if opts.list_name and name_problem(opts.list_name.strip(), 128):
        raise InvalidInput(f"list: {name_problem(opts.list_name.strip(), 128)}", field="list")
    stem = "".join(ch for ch in Path(file_name).stem if not name_problem(ch))
    name = (opts.list_name or stem or "list").strip()[:128]
    found = store.find_list(engine, campaign_id, name)
    if found is not None and opts.lawful_basis and found.lawful_basis != opts.lawful_basis:
        with session_scope(engine) as s:  # the uploader's latest statement covers the list
            row = s.get(CallList, found.id)
            assert row is not None
            row.lawful_basis = opts.lawful_basis
            s.add(row)
            s.flush()
            s.refresh(row)
            return row
    if found is not None:
        return found
    row = CallList(
        campaign_id=campaign_id,
        name=name,
        source_file=file_name[:255],
        region=(opts.region or region).upper(),
        purpose=opts.purpose,
        lawful_basis=opts.lawful_basis,
        source=opts.source,
    )
    try:
        with session_scope(engine) as s:
            s.add(row)
            s.flush()
            s.refresh(row)
        return row
    except IntegrityError:  # created meanwhile by another import
        again = store.find_list(engine, campaign_id, name)
        assert again is not None
        return again


def run(
    engine: Engine, job_id: int, path: Path, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Run a queued job to its end; raise what made it fail (the job records it too)."""
    cancel = _CANCEL.setdefault(job_id, _Cancel())

    def report_progress(phase: str, done: int, total: int) -> None:
        _LIVE[job_id] = (phase, done, total)
        if progress:
            progress(phase, done, total)
        if phase == "commit":
            cancel.commit_point(job_id)
        elif phase != "done" and cancel.is_set():
            raise ImportCancelled("the import was cancelled; nothing was written", job_id=job_id)

    _set_job(engine, job_id, status=JobStatus.RUNNING)
    try:
        report = _run(engine, job_id, path, report_progress)
    except ImportCancelled as exc:
        _finish_failed(engine, job_id, JobStatus.CANCELLED, str(exc))
        raise
    except BaseException as exc:
        message = str(exc) or exc.__class__.__name__
        shown = store.get_job(engine, job_id).file_name  # the user's name, not the stored one
        if shown:
            message = message.replace(path.name, shown)
        _finish_failed(engine, job_id, JobStatus.FAILED, message)
        raise
    finally:
        _LIVE.pop(job_id, None)
        _CANCEL.pop(job_id, None)
    return report


def _run(engine: Engine, job_id: int, path: Path, progress: ProgressFn) -> dict[str, Any]:
    started = time.monotonic()
    job = store.get_job(engine, job_id)
    lst = store.get_list(engine, job.list_id)
    campaign = _campaign(engine, lst.campaign_id)
    opts = ImportOptions(**job.options)
    with pipeline.NumberChunks(path) as numbers:  # a big file's workers start while it is read
        progress("reading", 0, 0)
        table = reader.read_table(path, opts.encoding, opts.sheet)
        frame = table.frame
        spec = (
            campaigns_store.spec_of(engine, campaign)
            if campaign.kind == Kind.RETURN_VISIT
            else None
        )
        cmap = columns.map_columns(list(frame.columns), opts.mapping, visit_dates=spec is not None)
        total = len(frame)
        _set_job(engine, job_id, rows_total=total)
        progress("normalizing", 0, total)
        mode = opts.dedupe or campaign.dedupe
        due = _due(frame, cmap, spec)
        parts: list[tuple[picking.Picked, outcomes.Decided]] = []
        now = utcnow()
        chunks = numbers.chunks(frame, cmap.phones, cmap.custom, lst.region)
        formulas = rows.formula_cells(frame, cmap)  # while the workers start on the chunks
        with engine.begin() as conn, store.big_cache(conn):
            store.lock_campaign(conn, lst.campaign_id, lst.id or 0)
            decide = outcomes.Outcomes.start(conn, lst.campaign_id, lst.id or 0, mode)
            progress("writing", 0, total)
            for chunk in chunks:
                part, picked = frame.iloc[chunk.rows], chunk.picked
                part_due = due.part(chunk.rows) if due else None
                decided = decide.decide(conn, picked, part_due.bad if part_due else None)
                first = table.first_row + chunk.start
                rows.write_contacts(
                    conn, part, cmap, picked, chunk.custom, decided.kept, decided.suppressed,
                    job, lst, now, first, part_due,
                )  # fmt: skip
                progress("writing", chunk.rows.stop, total)  # rows done, whatever their outcome
                parts.append((picked, decided))
            # the rejects of all chunks at once: a few percent of the rows, column-wise
            outcome = np.concatenate([d.outcome for _, d in parts])
            rows.write_rejects(conn, frame, outcome, job, table.first_row)
            picked = picking.Picked.concat([p for p, _ in parts])
            dropped = sum(d.alternates_dropped for _, d in parts)
            report = _report(table, cmap, lst, campaign.name, mode, outcome, picked, dropped)
            report["formula_cells"] = formulas
            report.update(job_id=job_id, list_id=lst.id, file=job.file_name)
            if spec is not None:
                report["return_visit"] = {
                    "delay_days": spec.return_visit_delay_days,
                    "timezone": spec.timezone,
                    "due_from": "visit_date" if cmap.visit_date else "import_time",
                }
            report["seconds"] = round(time.monotonic() - started, 2)
            conn.execute(
                sa.update(ImportJob)
                .where(ImportJob.id == job_id)  # type: ignore[arg-type]
                .values(status=JobStatus.DONE, rows_done=total, report=report, finished_at=now)
            )
            conn.execute(
                sa.update(CallList)
                .where(CallList.id == lst.id)  # type: ignore[arg-type]
                .values(status=ListStatus.READY, encoding=lst.encoding or table.encoding)
            )
            progress("commit", total, total)  # the last moment a cancel rolls everything back
    report.update(_consent(engine, job_id, list(frame.columns), lst, campaign, opts, report))
    with engine.begin() as conn:
        conn.execute(
            sa.update(ImportJob).where(ImportJob.id == job_id).values(report=report)  # type: ignore[arg-type]
        )
    progress("done", total, total)
    return report


def _consent(
    engine: Engine,
    job_id: int,
    headers: list[str],
    lst: CallList,
    campaign: Campaign,
    opts: ImportOptions,
    report: dict[str, Any],
) -> dict[str, Any]:
    """Consent from the list's consent column and the uploader's lawful basis (issue 16)."""
    spec = campaigns_store.spec_of(engine, campaign)
    info = {
        "campaign": campaign.name,
        "campaign_id": campaign.id,
        "list": lst.name,
        "list_id": lst.id,
        "job_id": job_id,
        "file": report.get("file"),
        "contacts": report.get("imported", 0) + report.get("suppressed", 0),
    }
    return consent.record_import(
        engine,
        job_id=job_id,
        headers=headers,
        list_info=info,
        lawful_basis=opts.lawful_basis,
        stated_by=opts.uploader,
        zone=spec.timezone,
        now=utcnow(),
    )


def _report(
    table: reader.Table,
    cmap: columns.ColumnMap,
    lst: CallList,
    campaign: str,
    mode: str,
    outcome: np.ndarray,
    picked: picking.Picked,
    alt_dropped: int,
) -> dict[str, Any]:
    counts = {str(k): int(v) for k, v in pd.Series(outcome, dtype=object).value_counts().items()}
    rejected = {r: counts[r] for r in (*phone.REASONS, dates.BAD_DATE) if r in counts}
    dups = {k: v for k, v in counts.items() if k.startswith("duplicate_in_")}
    report: dict[str, Any] = {
        "campaign": campaign,
        "list": lst.name,
        "region": lst.region,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "dedupe": mode,
        "columns": cmap.as_dict(),
        "rows_read": len(outcome),
        "imported": counts.get("", 0),
        "suppressed": counts.get("suppressed", 0),
        "rejected": sum(rejected.values()),
        "rejected_by_reason": rejected,
        "duplicates": sum(dups.values()),
        "duplicates_by_kind": dups,
        "number_types": picked.type_counts(outcome),
        "alternates": {**picked.alternate_counts(), "suppressed": alt_dropped},
        "formula_cells": 0,  # counted by the caller, while the first chunk is normalized
        "already_imported": False,
    }
    parts = report["imported"] + report["suppressed"] + report["rejected"] + report["duplicates"]
    if parts != report["rows_read"]:  # cannot happen: every row has exactly one outcome
        raise AssertionError(f"import report does not add up: {parts} != {len(outcome)}")
    return report


def _due(
    frame: pd.DataFrame, cmap: columns.ColumnMap, spec: CampaignSpec | None
) -> dates.Due | None:
    """A return visit's due time per row: its visit date (or, with no date column, the
    import time) plus the campaign's delay; None for other kinds, whose contacts are due now."""
    if spec is None:
        return None
    days = spec.return_visit_delay_days
    if cmap.visit_date is None:
        return dates.Due.same(len(frame), utcnow() + timedelta(days=days))
    return dates.due_times(frame[cmap.visit_date], spec.timezone, days)


def _campaign(engine: Engine, campaign_id: int) -> Campaign:
    with session_scope(engine) as s:
        row = s.get(Campaign, campaign_id)
    assert row is not None  # call_lists.campaign_id is a foreign key
    return row


def _set_job(engine: Engine, job_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values))  # type: ignore[arg-type]


def _list_of_job(job_id: int) -> Any:
    return sa.select(col(ImportJob.list_id)).where(col(ImportJob.id) == job_id).scalar_subquery()


def _finish_failed(engine: Engine, job_id: int, status: str, error: str) -> None:
    _set_job(engine, job_id, status=status, error=error[:2000], finished_at=utcnow())
    with engine.begin() as conn:  # a list whose only import failed holds nothing: say so
        conn.execute(
            sa.update(CallList)
            .where(
                col(CallList.id) == _list_of_job(job_id),
                col(CallList.status) == ListStatus.IMPORTING,
            )
            .values(status=ListStatus.FAILED)
        )


__all__ = ["ContactStatus", "ImportOptions", "import_file", "run", "start"]
