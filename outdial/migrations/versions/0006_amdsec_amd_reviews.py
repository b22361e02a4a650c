"""amd reviews: people's marks on sampled machine verdicts (rule 19, issue 20)

A share of machine verdicts still goes to an agent (the attempt's ``amd`` is then
``machine_sampled``); a person marks each one "person" or "machine", and the campaign's
AMD false-positive estimate, which the UK abandon gauge adds, comes from these marks.

Revision ID: 0006_amdsec_amd_reviews
Revises: 0002_compliance
Create Date: 2026-12-07 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_amdsec_amd_reviews"
down_revision = "0002_compliance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amd_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(length=64), nullable=False, unique=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("truth", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=False, server_default=""),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_amd_reviews_campaign_id", "amd_reviews", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_amd_reviews_campaign_id", table_name="amd_reviews")
    op.drop_table("amd_reviews")
