"""report_agent_slots: agent seconds per state per 15-minute slot, rolled up once

A month by half-hour by agent read 5 M agent state changes through a window function on every
report (30 s on SQLite). Closed slots are now rolled up once into this table
(reports/rollup.py) and a report sums a few hundred thousand rows; only the open slots since
the last roll-up are computed from state_changes.

First-contact resolution asks, for each bridged attempt, whether the contact had an earlier
bridged one: a partial index on bridged attempts answers that from the index alone.

Revision ID: 0006_reports_agent_slots
Revises: 0005_reports_attempt_transfers
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reports_agent_slots"
down_revision = "0005_reports_attempt_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_agent_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("ready", sa.Float(), nullable=False),
        sa.Column("reserved", sa.Float(), nullable=False),
        sa.Column("talk", sa.Float(), nullable=False),
        sa.Column("wrap", sa.Float(), nullable=False),
        sa.Column("paused", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_agent_slots_slot", "report_agent_slots", ["slot"], unique=False)
    op.create_table(
        "report_rollup_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("until_slot", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_index(
        "ix_attempts_contact_bridged",
        "attempts",
        ["contact_id", "id"],
        unique=False,
        sqlite_where=sa.text("bridged_at IS NOT NULL"),
        postgresql_where=sa.text("bridged_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_attempts_contact_bridged", table_name="attempts")
    op.drop_table("report_rollup_marks")
    op.drop_index("ix_report_agent_slots_slot", table_name="report_agent_slots")
    op.drop_table("report_agent_slots")
