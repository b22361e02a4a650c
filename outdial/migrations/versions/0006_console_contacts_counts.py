"""contacts: the hopper index also holds ``suppressed``

The live view and ``campaign status`` count a campaign's records by status, remaining
(not suppressed) and due now (not suppressed, ``next_due_at`` passed) on every update. With
``suppressed`` outside the index each count read every contact row (~0.1 s each for 200,000
contacts on SQLite); inside it, one scan of the index answers all three. The hopper's claim
filters on the same four columns (``suppressed`` by equality), so the index still serves it.

Revision ID: 0006_console_contacts_counts
Revises: 0003_lists
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006_console_contacts_counts"
down_revision = "0003_lists"
branch_labels = None
depends_on = None

OLD = ["campaign_id", "status", "next_due_at"]
NEW = ["campaign_id", "status", "suppressed", "next_due_at"]


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_hopper")
        batch_op.create_index("ix_contacts_hopper", NEW, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_hopper")
        batch_op.create_index("ix_contacts_hopper", OLD, unique=False)
