"""Reading lists, jobs and contacts back; the bulk writes of an import.

Bulk writes run inside the import's one transaction: ``executemany`` on SQLite,
``COPY`` on PostgreSQL (psycopg), in batches, so a million rows never sit in
memory as a million tuples at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign
from lists.models import CallList, Contact, ImportJob, JobStatus, ListStatus, RejectedRow
from outdial.errors import NotFound
from outdial.models import utcnow
from outdial.storage import lock, session_scope

LOOKUP_CHUNK = 5_000  # numbers per IN (...) query; far below SQLite's 32766 parameters
DNC_SNAPSHOT_MAX = 500_000  # an import reads a do-not-call list this small whole (~50 MB)


def get_list(engine: Engine, list_id: int) -> CallList:
    with session_scope(engine) as s:
        row = s.get(CallList, list_id)
    if row is None:
        raise NotFound(f"no call list {list_id}", list_id=list_id)
    return row


def find_list(engine: Engine, campaign_id: int, name: str) -> CallList | None:
    with session_scope(engine) as s:
        q = select(CallList).where(CallList.campaign_id == campaign_id, CallList.name == name)
        return s.exec(q).first()


def list_sizes(engine: Engine) -> dict[int, int]:
    """Contacts per list: one read of ix_contacts_list (every contact's index entry)."""
    q = sa.select(col(Contact.list_id), sa.func.count()).group_by(col(Contact.list_id))
    with engine.connect() as conn:
        return {int(k): int(n) for k, n in conn.execute(q)}


@dataclass
class SizeCache:
    """Contacts per list, counted again only when a contact was added since (contacts are
    never deleted, so the highest contact id moves with every insert). The lists page and
    the contact browser show sizes on each request; counting 1 M index entries each time
    cost ~0.1 s, reading max(id) costs nothing."""

    last_id: int | None = -1
    sizes: dict[int, int] = field(default_factory=dict)

    def read(self, engine: Engine) -> dict[int, int]:
        with engine.connect() as conn:
            top = conn.execute(sa.select(sa.func.max(col(Contact.id)))).scalar_one()
        if top != self.last_id:
            self.sizes, self.last_id = list_sizes(engine), top
        return self.sizes


def lists_of(
    engine: Engine, campaign: str | None = None, sizes: dict[int, int] | None = None
) -> list[tuple[CallList, str, int]]:
    """(list, campaign name, contact count), newest first. ``sizes`` (list_sizes, perhaps
    cached) spares counting every contact again."""
    sizes = list_sizes(engine) if sizes is None else sizes
    q = (
        sa.select(CallList, col(Campaign.name))
        .join(Campaign, col(Campaign.id) == col(CallList.campaign_id))
        .order_by(col(CallList.id).desc())
    )
    if campaign:
        q = q.where(col(Campaign.name) == campaign)
    with session_scope(engine) as s:
        return [(r[0], r[1], sizes.get(r[0].id or 0, 0)) for r in s.execute(q)]


def get_job(engine: Engine, job_id: int) -> ImportJob:
    with session_scope(engine) as s:
        row = s.get(ImportJob, job_id)
    if row is None:
        raise NotFound(f"no import job {job_id}", job_id=job_id)
    return row


def latest_job(engine: Engine, list_id: int) -> ImportJob:
    with session_scope(engine) as s:
        q = select(ImportJob).where(ImportJob.list_id == list_id).order_by(col(ImportJob.id).desc())
        row = s.exec(q).first()
    if row is None:
        raise NotFound(f"call list {list_id} has no import", list_id=list_id)
    return row


def done_job_for(engine: Engine, list_id: int, sha256: str) -> ImportJob | None:
    """A finished (or still running) import of the same bytes into the same list."""
    with session_scope(engine) as s:
        q = (
            select(ImportJob)
            .where(
                ImportJob.list_id == list_id,
                ImportJob.content_sha256 == sha256,
                col(ImportJob.status).in_(["done", "queued", "running"]),
            )
            .order_by(col(ImportJob.id))
        )
        return s.exec(q).first()


def contacts_page(
    engine: Engine, list_id: int, offset: int, limit: int
) -> tuple[int, list[Contact]]:
    with session_scope(engine) as s:
        total = s.execute(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.list_id == list_id)  # type: ignore[arg-type]
        ).scalar_one()
        q = (
            select(Contact)
            .where(Contact.list_id == list_id)
            .order_by(col(Contact.id))
            .offset(offset)
            .limit(limit)
        )
        return int(total), list(s.exec(q))


def iter_rejects(engine: Engine, list_id: int) -> Iterator[RejectedRow]:
    with session_scope(engine) as s:
        q = select(RejectedRow).where(RejectedRow.list_id == list_id).order_by(col(RejectedRow.id))
        yield from s.exec(q)


def iter_contacts(engine: Engine, list_id: int, batch: int = 5_000) -> Iterator[Contact]:
    last = 0
    while True:
        with session_scope(engine) as s:
            q = (
                select(Contact)
                .where(Contact.list_id == list_id, col(Contact.id) > last)
                .order_by(col(Contact.id))
                .limit(batch)
            )
            rows = list(s.exec(q))
        if not rows:
            return
        yield from rows
        last = rows[-1].id or 0


def api_list(session: Session, campaign_id: int, name: str = "orders") -> tuple[int, int]:
    """(list id, job id) of the campaign's list for records pushed through the API.

    Contacts need a list and an import job (foreign keys): an integration's pushes (orders,
    return visits) go to one ready list per campaign and name, and one finished ``api`` job
    stands for all of them. Runs inside the caller's transaction, so the contact and the
    order or task it comes from commit together; a named lock makes get-or-create race-free.
    """
    lock(session, f"api-list:{campaign_id}:{name}")
    q = select(CallList).where(CallList.campaign_id == campaign_id, CallList.name == name)
    cl = session.exec(q).first()
    if cl is None:
        cl = CallList(campaign_id=campaign_id, name=name, status=ListStatus.READY, source="api")
        session.add(cl)
        session.flush()
    assert cl.id is not None
    # a marker, not a file's hash: no uploaded file hashes to it, so re-import dedupe ignores it
    marker = hashlib.sha256(f"api-push:{campaign_id}:{name}".encode()).hexdigest()
    jq = select(ImportJob).where(ImportJob.list_id == cl.id, ImportJob.content_sha256 == marker)
    job = session.exec(jq).first()
    if job is None:
        job = ImportJob(
            list_id=cl.id,
            status=JobStatus.DONE,
            file_name="api",
            content_sha256=marker,
            options={"source": "api"},
            finished_at=utcnow(),
        )
        session.add(job)
        session.flush()
    assert job.id is not None
    return cl.id, job.id


def next_api_row(session: Session, job_id: int) -> int:
    """Count one more pushed record on the API job; its 1-based row number."""
    job = session.get(ImportJob, job_id)
    assert job is not None
    job.rows_total += 1
    job.rows_done += 1
    session.add(job)
    return job.rows_done


# --- inside the import transaction ----------------------------------------------------------


def lock_campaign(conn: Connection, campaign_id: int, list_id: int) -> None:
    """Serialize imports into one campaign, so dedupe sees every committed contact.

    SQLite: a first write takes the database's write lock for the transaction.
    PostgreSQL: a transaction-scoped advisory lock keyed by the campaign.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301, :c)"), {"c": campaign_id})
    else:
        conn.execute(sa.text("UPDATE call_lists SET status = status WHERE id = :i"), {"i": list_id})


def existing_numbers(
    conn: Connection, numbers: Sequence[str], *, campaign_id: int, list_id: int | None
) -> set[str]:
    """Which of ``numbers`` the campaign (or only the list) already holds."""
    mark = _mark(conn)
    # (campaign_id, primary_number) is indexed; a list's rows are a subset of its campaign's
    sql = f"SELECT primary_number FROM contacts WHERE campaign_id = {mark}"
    params: tuple[Any, ...] = (campaign_id,)
    if list_id is not None:
        sql, params = f"{sql} AND list_id = {mark}", (campaign_id, list_id)
    return _lookup(conn, f"{sql} AND primary_number", numbers, params)


def holds_contacts(conn: Connection, *, campaign_id: int, list_id: int | None) -> bool:
    """Does the campaign (or only the list) hold any contact yet? If not, an import into it
    need not look its numbers up."""
    mark = _mark(conn)
    sql = f"SELECT 1 FROM contacts WHERE campaign_id = {mark}"
    params: tuple[Any, ...] = (campaign_id,)
    if list_id is not None:
        sql, params = f"SELECT 1 FROM contacts WHERE list_id = {mark}", (list_id,)
    return conn.exec_driver_sql(f"{sql} LIMIT 1", params).first() is not None


def dnc_snapshot(conn: Connection) -> set[str] | None:
    """The whole do-not-call list, if it holds at most DNC_SNAPSHOT_MAX numbers: one query
    instead of one lookup per 5,000 numbers of a list. None when it is bigger (then look
    numbers up with dnc_numbers)."""
    count = conn.exec_driver_sql("SELECT count(*) FROM dnc_entries").scalar_one()
    if count > DNC_SNAPSHOT_MAX:
        return None
    return {r[0] for r in conn.exec_driver_sql("SELECT number FROM dnc_entries")}


def dnc_numbers(conn: Connection, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` are on the internal do-not-call list (rule 8)."""
    return _lookup(conn, "SELECT number FROM dnc_entries WHERE number", numbers, ())


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _lookup(
    conn: Connection, sql: str, numbers: Sequence[str], params: tuple[Any, ...]
) -> set[str]:
    """Driver-level ``IN`` lookups in chunks: SQLAlchemy's expanding IN costs ~10 µs a value
    to compile, more than the query itself on a million numbers."""
    found: set[str] = set()
    pg = conn.dialect.name == "postgresql"
    for i in range(0, len(numbers), LOOKUP_CHUNK):
        chunk = list(numbers[i : i + LOOKUP_CHUNK])
        if pg:
            query, args = f"{sql} = ANY(%s)", (*params, chunk)
        else:
            query, args = f"{sql} IN ({', '.join('?' * len(chunk))})", (*params, *chunk)
        found.update(r[0] for r in conn.exec_driver_sql(query, args))
    return found


@contextmanager
def big_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a 256 MB page cache while a million rows go into three indexes (the default
    2 MB makes every index insert a page miss); back to the default afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA cache_size = -2000")


def bulk_insert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    fixed: Mapping[str, Any] | None = None,
) -> None:
    """Insert tuples in ``columns`` order, plus ``fixed``: the values every row shares.

    PostgreSQL: COPY. SQLite: ``executemany`` on the driver's cursor, inside the caller's
    transaction, with the shared values written into the statement as literals; binding
    fewer parameters takes about a quarter off a million-row insert.
    """
    fixed = dict(fixed or {})
    names = ", ".join([*columns, *fixed])
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        tail = tuple(fixed.values())
        # text COPY: psycopg writes None as \N and "" as an empty string
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row + tail)
        return
    marks = ", ".join(["?"] * len(columns) + [_sql_literal(v) for v in fixed.values()])
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cur.close()


def _sql_literal(value: Any) -> str:
    """An SQL literal for a shared value (ours: ids, a timestamp, '', NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def db_timestamp(conn: Connection, value: datetime) -> Any:
    """A UTC timestamp as each driver stores it for SQLAlchemy's DateTime type."""
    if conn.dialect.name == "postgresql":
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def db_bool(conn: Connection, value: bool) -> Any:
    return value if conn.dialect.name == "postgresql" else int(value)
