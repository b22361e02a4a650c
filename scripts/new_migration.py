"""Developer tool: write a new Alembic revision from the difference between the models and the
current migrations.

    .venv/bin/python scripts/new_migration.py "add call lists" 0002_lists --branch lists
    .venv/bin/python scripts/new_migration.py "more list fields" 0003_lists_fields --head lists@head

A package's first revision branches from 0001_foundation with ``--branch <package>``; later
revisions of that package pass ``--head <package>@head``. Read and tidy the generated file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command

from outdial import migrate, storage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("message")
    ap.add_argument("rev_id")
    ap.add_argument("--branch", help="new branch label (first revision of a package)")
    ap.add_argument("--head", help="parent revision, e.g. lists@head")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = storage.make_engine(f"sqlite:///{tmp}/gen.db")
        migrate.upgrade(engine)
        cfg = migrate._config(engine)
        extra: dict[str, object] = {}
        if args.branch:
            extra = {"head": "0001_foundation", "branch_label": args.branch, "splice": True}
        elif args.head:
            extra = {"head": args.head}
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(
                cfg, message=args.message, autogenerate=True, rev_id=args.rev_id, **extra
            )


if __name__ == "__main__":
    main()
