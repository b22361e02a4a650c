"""Storage: the engine factory, migrations and the refusal to use a stale schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from outdial import migrate, storage
from outdial.config import load
from outdial.errors import (
    DatabaseNotMigrated,
    DatabaseUnreachable,
    DatabaseUrlInvalid,
    DataDirMissing,
)


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str) -> None:
    eng = storage.make_engine(db_url)
    before, after = migrate.upgrade(eng)
    assert before == set()
    assert migrate.is_current(eng) and after <= migrate.script_heads(eng)
    tables = set(sa.inspect(eng).get_table_names())
    assert {"users", "api_tokens", "web_sessions", "dnc_entries"} <= tables
    assert migrate.upgrade(eng) == (after, after)
    migrate.require_current(eng)


def test_unmigrated_database_is_refused(db_url: str) -> None:
    eng = storage.make_engine(db_url)
    with pytest.raises(DatabaseNotMigrated, match="outdial db upgrade"):
        migrate.require_current(eng)


def test_schema_of_a_newer_outdial_is_refused(engine: sa.engine.Engine) -> None:
    with engine.begin() as conn:  # any one head (a package's next migration moves them)
        head = conn.execute(sa.text("SELECT min(version_num) FROM alembic_version")).scalar_one()
        conn.execute(
            sa.text("UPDATE alembic_version SET version_num = 'zz_unknown' WHERE version_num = :v"),
            {"v": head},
        )
    with pytest.raises(DatabaseNotMigrated, match="newer than this outdial"):
        migrate.require_current(engine)


def test_schema_behind_is_refused(engine: sa.engine.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    with pytest.raises(DatabaseNotMigrated, match="run `outdial db upgrade`"):
        migrate.require_current(engine)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    eng = storage.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with eng.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_enforced(engine: sa.engine.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) "
                "VALUES (999, 'x', 'h', 'p', CURRENT_TIMESTAMP)"
            )
        )


def test_default_url_is_sqlite_under_data_dir(tmp_path: Path) -> None:
    cfg = load({"OUTDIAL_DATA_DIR": str(tmp_path)})
    assert storage.database_url(cfg) == f"sqlite:///{tmp_path.resolve() / 'outdial.db'}"


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://u@h/db", "oracle://x", "postgresql+nosuchdriver://u@h/d"]
)
def test_bad_urls_are_named(url: str) -> None:
    with pytest.raises(DatabaseUrlInvalid):
        storage.make_engine(url)


def test_unreachable_postgres_is_one_line() -> None:
    eng = storage.make_engine("postgresql+psycopg://u:secret@127.0.0.1:1/x")
    with pytest.raises(DatabaseUnreachable) as info:
        storage.check_reachable(eng)
    assert "secret" not in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_data_dir(tmp_path: Path) -> None:
    cfg = load({"OUTDIAL_DATA_DIR": str(tmp_path / "a" / "b")})
    with pytest.raises(DataDirMissing):
        storage.ensure_data_dir(cfg, create=True)  # parent missing: refuse, don't mkdir -p
    cfg = load({"OUTDIAL_DATA_DIR": str(tmp_path / "a")})
    with pytest.raises(DataDirMissing):
        storage.ensure_data_dir(cfg, create=False)
    assert storage.ensure_data_dir(cfg, create=True).is_dir()
