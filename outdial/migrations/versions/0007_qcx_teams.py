"""users: team

An agent's team (班组, issue 19 part 6): a plain name set on /people, used to group QA
reports. Not null, empty by default: existing users are in no team.

Revision ID: 0007_qcx_teams
Revises: 0006_qc_quality
Create Date: 2026-12-07 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_qcx_teams"
down_revision = "0006_qc_quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("team", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("team")
