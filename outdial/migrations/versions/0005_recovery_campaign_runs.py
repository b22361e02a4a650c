"""campaign runs: a campaign's desired state and its engine's heartbeat

A campaign's desired state (running, paused, stopped) outlives the process: after `outdial
serve` restarts, campaigns meant to run resume by themselves (issue 16 item 5). The engine
that runs a campaign writes ``heartbeat_at`` every few seconds, so a status read from any
process can tell a live campaign from one whose server died (no stale ``running``), and
start-up recovery dates a call that was up when the server died by its last heartbeat.
``pid`` is the server process on ``node``: a status read on that host knows at once that a
killed server is gone. ``refusal`` keeps why an automatic resumption was refused (its launch checks failed).

Revision ID: 0005_recovery_campaign_runs
Revises: 0004_dialer
Create Date: 2026-12-06 23:59:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_recovery_campaign_runs"
down_revision = "0004_dialer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_runs",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("desired", sa.String(length=16), nullable=False, server_default="stopped"),
        sa.Column("node", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("pid", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=False, server_default=""),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # campaigns running before this revision are meant to run: they resume at the next start
    op.execute(
        "INSERT INTO campaign_runs (campaign_id, desired, node, pid, refusal, updated_at) "
        "SELECT id, CASE WHEN status = 'paused' THEN 'paused' ELSE 'running' END, '', 0, '', "
        "CURRENT_TIMESTAMP FROM campaigns WHERE status IN ('running', 'paused', 'scheduled')"
    )


def downgrade() -> None:
    op.drop_table("campaign_runs")
