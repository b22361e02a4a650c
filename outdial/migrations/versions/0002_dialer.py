"""dialing engine

Revision ID: 0002_dialer
Revises: 0001_foundation
Create Date: 2026-11-23 13:53:42.907887
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_dialer"
down_revision = "0001_foundation"
branch_labels = ("dialer",)
depends_on = "0002_lists"  # adds lead-selection columns to contacts


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("sip_uri", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("machine", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_state_changes_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_state_changes_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_state_changes_entity"), ["entity"], unique=False)

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("node", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bridged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sip_outcome", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("sip_status", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("amd", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("answer_to_bridge_ms", sa.Float(), nullable=True),
        sa.Column("ring_seconds", sa.Float(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("disposition", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("disposition_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_user_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("ix_attempts_campaign_state", ["campaign_id", "state"], unique=False)
        batch_op.create_index("ix_attempts_contact", ["contact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_contact")
        batch_op.drop_index("ix_attempts_campaign_state")

    op.drop_table("attempts")
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_state_changes_entity"))
        batch_op.drop_index(batch_op.f("ix_state_changes_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_state_changes_at"))

    op.drop_table("state_changes")
    op.drop_table("agent_sessions")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("priority")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("callback_at")
