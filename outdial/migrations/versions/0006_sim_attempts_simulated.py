"""attempts.simulated: calls the simulated carrier answered (issue 17)

`outdial serve` without a SIP trunk dials the simulated carrier (sip/simcarrier.py); its
attempts are marked so that compliance gauges and reports can leave them out by default
(a filter shows them). Rows before this migration were real calls: false.

Revision ID: 0006_sim_attempts_simulated
Revises: 0005_reports_attempt_transfers
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sim_attempts_simulated"
down_revision = "0005_reports_attempt_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("simulated")
