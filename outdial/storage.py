"""The one engine and session factory every package uses.

Storage setup lives here, in ``outdial/``, because it is shared
infrastructure: each package owns its tables (``<package>/models.py``) and its
repositories, but there is exactly one way to open a database. SQLite (the
embedded default) gets WAL journaling, foreign keys and a busy timeout on
every connection; PostgreSQL is used as given by its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session

from outdial.config import Config
from outdial.errors import DatabaseUnreachable, DatabaseUrlInvalid, DataDirMissing


def database_url(cfg: Config) -> str:
    """The configured URL, or the embedded SQLite file under the data directory."""
    if cfg.database_url:
        return cfg.database_url
    return f"sqlite:///{(cfg.data_dir / 'outdial.db').resolve()}"


def ensure_data_dir(cfg: Config, create: bool) -> Path:
    """Return the data directory; create it (and only it) when asked."""
    path = cfg.data_dir
    if path.is_dir():
        return path
    if create and path.parent.is_dir():
        path.mkdir()
        return path
    raise DataDirMissing(
        f"data directory {path} does not exist (run `outdial db upgrade`, or set OUTDIAL_DATA_DIR)",
        path=str(path),
    )


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; raise :class:`DatabaseUrlInvalid` if it is not one."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlInvalid(f"not a database URL: {_redact(url)}") from exc
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise DatabaseUrlInvalid(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
        )
    try:
        if backend == "sqlite":
            engine = sa.create_engine(parsed, connect_args={"timeout": 30})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = sa.create_engine(
                parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10}
            )
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUrlInvalid(f"no driver for {parsed.drivername!r}: {exc}") from exc
    return engine


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def check_reachable(engine: Engine) -> None:
    """Open one connection; raise :class:`DatabaseUnreachable` with the driver's one-line reason."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnreachable(
            f"cannot reach database {_redact(str(engine.url))}: {reason}",
            url=_redact(str(engine.url)),
        ) from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock(session: Session, name: str) -> None:
    """Serialize this transaction with every other one that locks ``name``, across processes.

    An upsert on a row of ``named_locks``: PostgreSQL holds the row lock until commit, and on
    SQLite the write takes the database's write lock at once — so a read that follows (the
    last audit hash, the attempts counted under a cap) cannot be made stale by another writer.
    """
    session.execute(
        sa.text(
            "INSERT INTO named_locks (name, n) VALUES (:name, 1) "
            "ON CONFLICT (name) DO UPDATE SET n = named_locks.n + 1"
        ),
        {"name": name},
    )


def epoch(engine: Engine, column: Any) -> Any:
    """Seconds since 1970 of a UTC timestamp column, in SQL, on SQLite and PostgreSQL (to
    aggregate durations in the database rather than fetch every row)."""
    if engine.dialect.name == "sqlite":  # whole seconds + milliseconds (julianday drifts by µs)
        whole = sa.cast(sa.func.strftime("%s", column), sa.Integer)
        frac = sa.cast(sa.func.strftime("%f", column), sa.Float) - sa.cast(
            sa.func.strftime("%S", column), sa.Integer
        )
        return whole + frac
    return sa.func.extract("epoch", column)


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
