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
