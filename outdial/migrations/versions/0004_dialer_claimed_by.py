"""contacts: claimed by

The engine instance (its node name) that claimed a contact from the hopper. At start-up an
engine gives back only its own claims that never became an attempt (a crash between the
claim and the attempt row): another node's fresh claim is not touched, so two engines on one
database never dial a record twice (issue 6). Existing rows: "" (any node may recover them).

Revision ID: 0004_dialer
Revises: 0003_dialer
Create Date: 2026-11-23 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_dialer"
down_revision = "0003_dialer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
