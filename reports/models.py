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


class AttemptSlot(SQLModel, table=True):
    """Attempt measures per 15-minute UTC slot of the dial time (slot = floor(epoch / 900)),
    campaign, agent, simulated flag and disposition, rolled up from ``attempts`` for slots that
    have closed (reports/attempt_rollup.py). ``disposition`` is kept only on contacts (the
    only rows whose success / final flags a KPI reads), so the flags are joined when a report
    reads the rows and a disposition redefined later still counts as it is now."""

    __tablename__ = "report_attempt_slots"
    __table_args__ = (sa.Index("ix_report_attempt_slots_slot", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    slot: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    campaign_id: int
    agent_user_id: int | None = None
    simulated: bool | None = None
    disposition: str | None = Field(default=None, max_length=64)
    dials: int = 0
    live: int = 0
    contacts: int = 0
    bridged: int = 0
    abandoned: int = 0
    ring_sum: float = 0.0
    ring_n: int = 0
    first_bridged: int = 0  # bridged, and the contact had no earlier bridged attempt (FCR)
    transfers: int = 0


class DirtyAttemptSlot(SQLModel, table=True):
    """A rolled-up slot whose attempts changed after it was rolled: written by a trigger on
    ``attempts`` (migration 0007_rollup_attempt_slots), read and deleted by the roll-up."""

    __tablename__ = "report_dirty_attempt_slots"

    id: int | None = Field(default=None, primary_key=True)
    slot: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
