"""compliance stores

Revision ID: 0002_compliance
Revises: 0001_foundation
Create Date: 2026-11-23 13:46:24.430773
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_compliance"
down_revision = "0001_foundation"
branch_labels = ("compliance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("seller", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_events_number"), ["number"], unique=False)

    op.create_table(
        "dial_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dial_slots", schema=None) as batch_op:
        batch_op.create_index("ix_dial_slots_key_at", ["key", "at"], unique=False)

    op.create_table(
        "registry_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_snapshots_name"), ["name"], unique=False)

    op.create_table(
        "registry_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["registry_snapshots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_chunks_snapshot_id"), ["snapshot_id"], unique=False
        )

    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "seller",
                sqlmodel.sql.sqltypes.AutoString(length=128),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.drop_column("seller")

    with op.batch_alter_table("registry_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_chunks_snapshot_id"))

    op.drop_table("registry_chunks")
    with op.batch_alter_table("registry_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_snapshots_name"))

    op.drop_table("registry_snapshots")
    with op.batch_alter_table("dial_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_dial_slots_key_at")

    op.drop_table("dial_slots")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_number"))

    op.drop_table("consent_events")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
