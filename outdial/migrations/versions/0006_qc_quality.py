"""quality control: scorecards (versioned), review queue, evaluations, KPI alerts

Revision ID: 0006_qc_quality
Revises: 0001_foundation
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_qc_quality"
down_revision = "0001_foundation"
branch_labels = ("quality",)
depends_on = "0002_dialer"  # evaluations and the queue point at attempts


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "qc_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_qc_cards_name_version"),
    )
    op.create_index("ix_qc_cards_name", "qc_cards", ["name"])
    op.create_table(
        "qc_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("week", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.ForeignKeyConstraint(["agent_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id"),
    )
    op.create_index("ix_qc_queue_agent_user_id", "qc_queue", ["agent_user_id"])
    op.create_index("ix_qc_queue_campaign_id", "qc_queue", ["campaign_id"])
    op.create_table(
        "qc_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        _text("comment"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _text("agent_comment"),
        _text("reply"),
        _ts("created_at"),
        _ts("answered_at", nullable=True),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.ForeignKeyConstraint(["card_id"], ["qc_cards.id"]),
        sa.ForeignKeyConstraint(["agent_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("attempt_id", "card_id", "agent_user_id", "campaign_id", "created_at"):
        op.create_index(f"ix_qc_evaluations_{col}", "qc_evaluations", [col])
    op.create_table(
        "qc_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("per_agent", sa.Integer(), nullable=False),
        sa.Column("new_agent_extra", sa.Integer(), nullable=False),
        sa.Column("new_agent_days", sa.Integer(), nullable=False),
        sa.Column("low_score_extra", sa.Integer(), nullable=False),
        sa.Column("low_score_floor", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "qc_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        sa.Column("min_volume", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "qc_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("threshold_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        _ts("raised_at"),
        _ts("last_seen_at"),
        _ts("cleared_at", nullable=True),
        sa.ForeignKeyConstraint(["threshold_id"], ["qc_thresholds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("threshold_id", "raised_at", "cleared_at"):
        op.create_index(f"ix_qc_alerts_{col}", "qc_alerts", [col])


def downgrade() -> None:
    op.drop_table("qc_alerts")
    op.drop_table("qc_thresholds")
    op.drop_table("qc_rules")
    op.drop_table("qc_evaluations")
    op.drop_table("qc_queue")
    op.drop_table("qc_cards")
