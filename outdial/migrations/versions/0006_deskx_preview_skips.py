"""preview skips: a previewed record skipped by an agent, with the reason (issue 14)

Kept beside the contact's attempts so the manager reads why a record was skipped; no call
was placed, so a skip is not an attempt and counts in no rate.

Revision ID: 0006_deskx_preview_skips
Revises: 0006_desk_drafts
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_deskx_preview_skips"
down_revision = "0006_desk_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preview_skips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_preview_skips_contact_id", "preview_skips", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_preview_skips_contact_id", table_name="preview_skips")
    op.drop_table("preview_skips")
