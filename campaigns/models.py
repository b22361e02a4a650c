"""Campaign tables. A campaign is the unit managers run: a kind, a dialing
mode, its lists, its rules (issue 7 fills in the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True, index=True)
    kind: str = Field(default="generic", max_length=32)  # return_visit, order_verification, ...
    mode: str = Field(
        default="progressive", max_length=16
    )  # preview, progressive, predictive, agentless
    status: str = Field(
        default="draft", max_length=16
    )  # draft, running, paused, stopped, completed
    region: str = Field(default="CN", max_length=2)  # default region for numbers in its lists
    dedupe: str = Field(default="campaign", max_length=16)  # off, list, campaign
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )


# --- issue 7: campaign kinds ----------------------------------------------------------------
# Times are UTC (as_utc() on read: SQLite hands them back naive). Every result a person or an
# integration enters (verdict, answer, disposition) has a natural or idempotency key, so a
# client that retries after a lost answer never creates a second row.


def _ts(nullable: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


def _json() -> Any:
    return sa.Column(sa.JSON, nullable=False)


class CampaignSettings(SQLModel, table=True):
    """The validated definition (campaigns/rules.py spec_to_dict) of one campaign."""

    __tablename__ = "campaign_settings"

    campaign_id: int = Field(foreign_key="campaigns.id", primary_key=True)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    version: int = Field(default=1)  # bumped on every change; files loaded again bump it
    webhook_secret: str = Field(default="", max_length=255)  # never shown by the API or CLI
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Disposition(SQLModel, table=True):
    """A campaign's disposition codes and their flags (copied from the spec for queries)."""

    __tablename__ = "dispositions"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code", name="uq_dispositions_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    code: str = Field(max_length=32)
    label: str = Field(default="", max_length=128)
    contact: bool = True
    success: bool = False
    callback: bool = False
    do_not_call: bool = False
    final: bool = False


class DispositionRecord(SQLModel, table=True):
    """A disposition an agent set on a call; ``idempotency_key`` makes retries no-ops."""

    __tablename__ = "disposition_records"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    contact_ref: str = Field(default="", max_length=64)  # contact id or call id
    agent_id: int | None = Field(default=None, foreign_key="users.id")
    code: str = Field(max_length=32)
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Callback(SQLModel, table=True):
    """A promised call. The row owns the state; a scheduler only wakes the engine."""

    __tablename__ = "callbacks"
    __table_args__ = (sa.Index("ix_callbacks_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    contact_ref: str = Field(default="", max_length=64)
    phone: str = Field(max_length=20)
    customer_name: str = Field(default="", max_length=255)
    customer_zone: str = Field(max_length=64)
    local_time: str = Field(max_length=32)  # as the customer asked, in customer_zone
    due_at: datetime = Field(sa_column=_ts())
    owner_kind: str = Field(default="agent", max_length=8)  # agent, team
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    status: str = Field(default="pending", max_length=16)  # pending, done, cancelled
    reschedules: int = 0
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    moved_to_team_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Order(SQLModel, table=True):
    """An order to verify before it ships (核单)."""

    __tablename__ = "orders"
    __table_args__ = (sa.UniqueConstraint("source", "external_id", name="uq_orders_external"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    source: str = Field(default="default", max_length=64)
    external_id: str = Field(max_length=128, index=True)
    customer_name: str = Field(default="", max_length=255)
    phone: str = Field(max_length=20)
    lines: list[Any] = Field(default_factory=list, sa_column=_json())
    address: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    payment: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    ship_by: datetime = Field(sa_column=_ts())
    verdict: str | None = Field(default=None, max_length=16)
    verdict_details: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    verdict_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    verdict_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class WebhookDelivery(SQLModel, table=True):
    """One verdict on its way to the order system; ``dead`` rows form the dead-letter list."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_due", "status", "next_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)  # receivers dedupe on it
    order_id: int = Field(foreign_key="orders.id", index=True)
    url: str = Field(max_length=1024)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    attempts: int = 0
    status: str = Field(default="pending", max_length=16)  # pending, delivered, dead
    first_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    next_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Survey(SQLModel, table=True):
    __tablename__ = "surveys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SurveyResponse(SQLModel, table=True):
    """One customer's answers to one survey; kept when partial (hung up, skipped)."""

    __tablename__ = "survey_responses"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)  # e.g. the call id
    survey_id: int = Field(foreign_key="surveys.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    contact_ref: str = Field(default="", max_length=64)
    phone: str = Field(default="", max_length=20)
    agent_id: int | None = Field(default=None, foreign_key="users.id")
    channel: str = Field(default="agent", max_length=8)  # agent, ivr
    status: str = Field(default="partial", max_length=16)  # partial, completed, opted_out, ...
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class SurveyAnswer(SQLModel, table=True):
    """(response, question) is the natural key: answering again replaces, never duplicates."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "question_id", name="uq_survey_answers_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_responses.id", index=True)
    question_id: str = Field(max_length=32)
    value: Any = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    skipped: bool = False
    answered_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ReturnVisitTask(SQLModel, table=True):
    """A follow-up call after a delivery or service (回访), due N days after it."""

    __tablename__ = "return_visit_tasks"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "external_id", name="uq_return_visits_external"),
        sa.Index("ix_return_visits_due", "campaign_id", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    external_id: str = Field(max_length=128)
    customer_name: str = Field(default="", max_length=255)
    phone: str = Field(max_length=20)
    subject: str = Field(default="", max_length=255)  # what was delivered or serviced
    happened_at: datetime = Field(sa_column=_ts())
    due_at: datetime = Field(sa_column=_ts())
    status: str = Field(default="pending", max_length=16)  # pending, done, cancelled
    outcome: str = Field(default="", max_length=32)
    survey_response_id: int | None = Field(default=None, foreign_key="survey_responses.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AgentCampaign(SQLModel, table=True):
    """A campaign an agent may take (issue 13, People page). An agent with no row here may
    take any campaign; with rows, only those (enforced at ``POST /api/agent/login``)."""

    __tablename__ = "agent_campaigns"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", primary_key=True, index=True)
