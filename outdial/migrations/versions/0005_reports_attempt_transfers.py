"""attempts: transferred_at, and an index for agent state changes by time

The transfer rate (转交率, shared/domain.md) needs to know which contacts an agent handed on;
the engine wrote that only as a call transition. It now also stamps the attempt row
(dialer/hopper.py persist_transitions), so reports read it without scanning every call
transition. Reports read agent state changes by (machine, at) for short ranges and by
(machine, entity, at) for long ones: the window function then needs no sort.

Revision ID: 0005_reports_attempt_transfers
Revises: 0004_dialer
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reports_attempt_transfers"
down_revision = "0004_dialer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_attempts_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.create_index("ix_state_changes_machine_at", ["machine", "at"], unique=False)
        batch_op.create_index(
            "ix_state_changes_machine_entity_at", ["machine", "entity", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_state_changes_machine_entity_at")
        batch_op.drop_index("ix_state_changes_machine_at")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_created_at")
        batch_op.drop_column("transferred_at")
