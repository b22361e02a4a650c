"""Fixtures shared by every package's tests.

``db_url`` runs a test twice: on an embedded SQLite file and on the real
PostgreSQL server this test run starts (tests/support/pgserver.py). ``engine``
is a migrated engine on that database. Set ``OUTDIAL_TEST_PG_URL`` to an
existing server's admin URL to use it instead of starting one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import Engine

# Only tests/support goes on the path: tests/<package> folders mirror the source tree and
# must never shadow the real packages.
sys.path.insert(0, str(Path(__file__).parent / "support"))

import pgserver

from outdial import migrate, storage

# Property tests are judged on what they find, not on how fast a shared CI machine runs one
# example: a per-example deadline failed a schedule test at 273 ms under load (speed goals
# live in bench/).
settings.register_profile("outdial", deadline=None)
settings.load_profile("outdial")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    try:
        server = pgserver.start()
    except pgserver.PostgresUnavailable as exc:
        pytest.fail(f"the PostgreSQL test server could not start: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outdial.db'}"
    server: pgserver.PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = storage.make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite engine only, for tests whose storage is not the subject."""
    eng = storage.make_engine(f"sqlite:///{tmp_path / 'outdial.db'}")
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _clean_outdial_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's own OUTDIAL_* settings or ~/.config/outdial."""
    for key in list(os.environ):
        if key.startswith("OUTDIAL_") and key != "OUTDIAL_TEST_PG_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
