"""Quality-control tables (issue 19).

* ``qc_cards``: one row per *version* of a scorecard; a change makes a new row and never
  touches the old one, so an evaluation keeps the exact card it was scored with.
* ``qc_queue``: calls chosen for review (by the sampling rule, or back after a dispute);
  ``qc_rules``: that rule, as the reviewers set it.
* ``qc_evaluations``: a filled card: answers, the composite the core computed, the
  reviewer's comment, the agent's acknowledgement or dispute.
* ``qc_thresholds`` and ``qc_alerts``: KPI alert rules and the log of what fired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def _json() -> Any:
    return sa.Column(sa.JSON, nullable=False)


def _text() -> Any:
    return sa.Column(sa.Text, nullable=False, server_default="")


class QcCard(SQLModel, table=True):
    __tablename__ = "qc_cards"
    __table_args__ = (sa.UniqueConstraint("name", "version", name="uq_qc_cards_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, index=True)
    version: int = 1
    kinds: str = Field(default="", max_length=255)  # comma-separated campaign kinds
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    retired: bool = False  # a retired card is not offered for new reviews
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class QcQueueItem(SQLModel, table=True):
    __tablename__ = "qc_queue"

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", unique=True)
    agent_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    reason: str = Field(max_length=16)  # quality.sampling.Reason
    week: str = Field(max_length=32)  # the sampled week's Monday, ISO date
    status: str = Field(default="open", max_length=16)  # open, done
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class QcEvaluation(SQLModel, table=True):
    __tablename__ = "qc_evaluations"

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempts.id", index=True)
    card_id: int = Field(foreign_key="qc_cards.id", index=True)  # the exact version used
    agent_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="users.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    score: float = 0.0
    critical_failed: bool = False
    failed: list[Any] = Field(default_factory=list, sa_column=_json())  # item ids
    comment: str = Field(default="", sa_column=_text())
    status: str = Field(default="open", max_length=16)  # quality.review.Status
    agent_comment: str = Field(default="", sa_column=_text())  # the agent's dispute
    reply: str = Field(default="", sa_column=_text())  # the reviewer's answer to a dispute
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class QcRule(SQLModel, table=True):
    """The weekly sampling rule (quality/sampling.Rule); one row, id 1."""

    __tablename__ = "qc_rules"

    id: int | None = Field(default=None, primary_key=True)
    per_agent: int = 3
    new_agent_extra: int = 2
    new_agent_days: int = 30
    low_score_extra: int = 2
    low_score_floor: float = 80.0
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class QcThreshold(SQLModel, table=True):
    __tablename__ = "qc_thresholds"

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=24)  # quality.alerts.Metric
    scope: str = Field(max_length=16)  # campaign, agent
    subject: str = Field(default="", max_length=128)  # name; "" = every one
    limit: float = 0.0
    min_volume: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class QcAlert(SQLModel, table=True):
    __tablename__ = "qc_alerts"

    id: int | None = Field(default=None, primary_key=True)
    threshold_id: int | None = Field(default=None, foreign_key="qc_thresholds.id", index=True)
    metric: str = Field(max_length=24)
    scope: str = Field(max_length=16)
    subject: str = Field(max_length=128)
    value: float = 0.0
    limit: float = 0.0
    raised_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    cleared_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
