"""contacts: the contact browser's search answered by indexes

Searching a list of 1 M contacts by the last digits of a number was ``primary_number LIKE
'%1234'`` and by name ``name LIKE '%王%'``: both read every contact of the list (about
0.5 s on SQLite). Now:

- ``number_reversed`` holds the number back to front, so "ends with 1234" is "starts with
  4321", a range on ``ix_contacts_list_reversed (list_id, number_reversed)``;
- ``ix_contacts_list_name (list_id, name)`` in byte order (binary on SQLite, ``COLLATE "C"``
  on PostgreSQL, whatever the database's locale) answers a name prefix as a range.

Revision ID: 0007_live_contact_search
Revises: 0006_console_agent_campaigns
Create Date: 2026-12-07 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_live_contact_search"
down_revision = "0006_console_agent_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number_reversed", sa.String(20), nullable=False, server_default="")
        )
    if pg:
        op.execute("UPDATE contacts SET number_reversed = reverse(primary_number)")
    else:  # SQLite has no reverse(): lend it Python's for this statement
        raw = bind.connection.driver_connection
        raw.create_function("outdial_reverse", 1, lambda v: v[::-1], deterministic=True)
        op.execute("UPDATE contacts SET number_reversed = outdial_reverse(primary_number)")
    op.create_index("ix_contacts_list_reversed", "contacts", ["list_id", "number_reversed"])
    name = sa.text('name COLLATE "C"') if pg else sa.text("name")
    op.create_index("ix_contacts_list_name", "contacts", ["list_id", name])


def downgrade() -> None:
    op.drop_index("ix_contacts_list_name", table_name="contacts")
    op.drop_index("ix_contacts_list_reversed", table_name="contacts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("number_reversed")
