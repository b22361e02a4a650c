"""desk drafts: what an agent types for a call, saved as they type (issue 14)

One row per (agent, call): the notes and the campaign kind's form on the agent's desk, so a
reload, a second device or a server restart loses nothing typed before the disposition.

Revision ID: 0006_desk_drafts
Revises: 0005_recovery_campaign_runs
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_desk_drafts"
down_revision = "0005_recovery_campaign_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "call_id", name="uq_desk_drafts_user_call"),
    )
    op.create_index("ix_desk_drafts_user_id", "desk_drafts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_desk_drafts_user_id", table_name="desk_drafts")
    op.drop_table("desk_drafts")
