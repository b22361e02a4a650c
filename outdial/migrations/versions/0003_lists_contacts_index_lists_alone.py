"""contacts: index list_id alone

An import appends rows of one list, so an index on list_id fills sequentially; the
(list_id, primary_number) index cost ~3 µs a row on SQLite for a lookup the campaign
index (campaign_id, primary_number) already serves (a list belongs to one campaign).

Revision ID: 0003_lists
Revises: 0002_lists
Create Date: 2026-11-23 14:21:20.522165
"""

from __future__ import annotations

from alembic import op

revision = "0003_lists"
down_revision = "0002_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_list_number"))
        batch_op.create_index("ix_contacts_list", ["list_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_list")
        batch_op.create_index(
            batch_op.f("ix_contacts_list_number"), ["list_id", "primary_number"], unique=False
        )
