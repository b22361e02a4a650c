"""contacts: callback owner

The agent a pending personal callback waits for (issue 7): the hopper hands such a contact
only to an engine where that agent is ready, and dials it with the agent reserved. Cleared
when the callback moves to the team. Nullable, no default: existing rows are team work.

Revision ID: 0003_dialer
Revises: 0002_dialer
Create Date: 2026-11-23 14:58:57.929801
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_dialer"
down_revision = "0002_dialer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_owner_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("callback_owner_id")
