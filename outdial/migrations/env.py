"""Alembic environment: runs on the connection outdial hands over (outdial/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from outdial.migrate import import_all_models

import_all_models()
target_metadata = SQLModel.metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - outdial always passes its connection
    raise RuntimeError("run migrations through `outdial db upgrade`")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
