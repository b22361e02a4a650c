"""call lists

Revision ID: 0002_lists
Revises: 0001_foundation
Create Date: 2026-11-23 13:50:04.264288
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_lists"
down_revision = "0001_foundation"
branch_labels = ("lists",)
depends_on = None


def upgrade() -> None:

    op.create_table(
        "call_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("source_file", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("lawful_basis", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "name", name="uq_call_lists_campaign_name"),
    )
    with op.batch_alter_table("call_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_lists_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["call_lists.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_jobs_list_hash", ["list_id", "content_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_import_jobs_list_id"), ["list_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("primary_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("alternates", sa.JSON(), nullable=False),
        sa.Column("number_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("timezones", sa.JSON(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["call_lists.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_campaign_number", ["campaign_id", "primary_number"], unique=False
        )
        batch_op.create_index(
            "ix_contacts_hopper", ["campaign_id", "status", "next_due_at"], unique=False
        )
        batch_op.create_index(
            "ix_contacts_list_number", ["list_id", "primary_number"], unique=False
        )

    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["call_lists.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_rows_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rejected_rows_list_id"), ["list_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_rows_list_id"))
        batch_op.drop_index(batch_op.f("ix_rejected_rows_job_id"))

    op.drop_table("rejected_rows")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_list_number")
        batch_op.drop_index("ix_contacts_hopper")
        batch_op.drop_index("ix_contacts_campaign_number")

    op.drop_table("contacts")
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_jobs_list_id"))
        batch_op.drop_index("ix_import_jobs_list_hash")

    op.drop_table("import_jobs")
    with op.batch_alter_table("call_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_lists_campaign_id"))

    op.drop_table("call_lists")
