"""agent_campaigns: the campaigns an agent may take

An agent with no row may take any campaign (as before); with rows, only those: the People
page assigns them and ``POST /api/agent/login`` refuses the others in words.

Revision ID: 0006_console_agent_campaigns
Revises: 0006_console_contacts_counts
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_console_agent_campaigns"
down_revision = "0006_console_contacts_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_campaigns",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
    )
    op.create_index("ix_agent_campaigns_campaign_id", "agent_campaigns", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_campaigns_campaign_id", table_name="agent_campaigns")
    op.drop_table("agent_campaigns")
