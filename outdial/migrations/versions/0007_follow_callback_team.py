"""contacts: callback_team

The team (users.team) a due team callback's record is held for (campaigns/callback_times.py
``team_callback_holder``): the hopper offers it to that team's agents while one is signed in
to the campaign, to anyone after the grace or when none is. Null: no team callback held.

Revision ID: 0007_follow_callback_team
Revises: 0007_live_contact_search
Create Date: 2026-12-07 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_follow_callback_team"
down_revision = "0007_live_contact_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_team", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("callback_team")
