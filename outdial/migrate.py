"""Schema migrations: Alembic, driven from code so `outdial db upgrade` needs no alembic.ini.

Packages add their own revisions to ``outdial/migrations/versions``; a
package's first revision branches from ``0001_foundation`` with its own branch
label, and outdial always upgrades to *all* heads, so packages never race for
a place in one line.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine

from outdial.errors import DatabaseNotMigrated

MIGRATIONS = Path(__file__).with_name("migrations")

#: modules that define tables; Alembic's autogenerate and the tests import them all
MODEL_MODULES = (
    "outdial.models",
    "compliance.models",
    "lists.models",
    "campaigns.models",
    "dialer.models",
    "sip.models",
    "web.models",
    "reports.models",
    "quality.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real import error inside an existing module
                raise


def _config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def script_heads(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(_config(engine)).get_heads())


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(engine: Engine) -> tuple[set[str], set[str]]:
    """Bring the schema to every head; return (before, after) revisions."""
    before = current_heads(engine)
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    return before, current_heads(engine)


def is_current(engine: Engine) -> bool:
    try:
        require_current(engine)
    except DatabaseNotMigrated:
        return False
    return True


def require_current(engine: Engine) -> None:
    """Raise :class:`DatabaseNotMigrated` unless every head of this code's migrations is applied.

    A package's revision may ``depends_on`` another package's; Alembic then records only the
    dependent one as a head, so "current" means: every script head is the database's head or
    lies below one (through down revisions or dependencies), and every database head is known.
    """
    have, want = current_heads(engine), script_heads(engine)
    if have == want:
        return
    if not have:
        msg = "the database has no outdial schema yet: run `outdial db upgrade`"
    elif not _all_known(engine, have):
        msg = (
            f"the database schema ({', '.join(sorted(have))}) is newer than this outdial; "
            "upgrade outdial"
        )
    elif want <= _applied(engine, have):
        return
    else:
        msg = "the database schema is behind this outdial: run `outdial db upgrade`"
    raise DatabaseNotMigrated(msg, current=sorted(have), expected=sorted(want))


def _applied(engine: Engine, heads: set[str]) -> set[str]:
    """Every revision at or below ``heads``, following dependencies too."""
    script = ScriptDirectory.from_config(_config(engine))
    seen: set[str] = set()
    stack = list(heads)
    while stack:
        rev = stack.pop()
        if rev in seen:
            continue
        seen.add(rev)
        obj = script.get_revision(rev)
        if obj is not None:
            stack.extend(obj._all_down_revisions)
    return seen


def _all_known(engine: Engine, revisions: set[str]) -> bool:
    script = ScriptDirectory.from_config(_config(engine))
    try:
        return all(script.get_revision(r) is not None for r in revisions)
    except CommandError:
        return False
