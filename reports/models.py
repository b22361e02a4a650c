"""The reports package's tables: KPI targets a manager sets (shown red/green)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


class KpiTarget(SQLModel, table=True):
    """A target for one KPI, e.g. connect_rate >= 0.35 or abandon_rate <= 0.03."""

    __tablename__ = "report_targets"

    kpi: str = Field(primary_key=True, max_length=32)
    op: str = Field(max_length=2)  # ">=" or "<="
    value: float
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )


class AgentTimeSlot(SQLModel, table=True):
    """Agent seconds in each state per 15-minute UTC slot (slot = floor(epoch / 900)), rolled
    up from ``state_changes`` for slots that have closed (reports/rollup.py). A row with a
    ``reason`` carries only the paused seconds of that reason code (``paused:<code>``)."""

    __tablename__ = "report_agent_slots"
    __table_args__ = (sa.Index("ix_report_agent_slots_slot", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    slot: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    entity: str = Field(max_length=64)  # users.id as text, as in state_changes
    campaign_id: int | None = None
    reason: str = Field(default="", max_length=64)
    ready: float = 0.0
    reserved: float = 0.0
    talk: float = 0.0
    wrap: float = 0.0
    paused: float = 0.0


class RollupMark(SQLModel, table=True):
    """How far a roll-up has gone: slots below ``until_slot`` are rolled up, from the source
    rows up to id ``last_id`` (a later row timed before ``until_slot`` re-opens those slots)."""

    __tablename__ = "report_rollup_marks"

    name: str = Field(primary_key=True, max_length=32)
    until_slot: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    last_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
