"""Compliance tables. The internal do-not-call list starts here (rule 8):
a number is suppressed from the instant its row is committed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


class DncEntry(SQLModel, table=True):
    """One number on the internal do-not-call list (rules 8, 9, 24)."""

    __tablename__ = "dnc_entries"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, index=True)  # E.164
    source: str = Field(default="manual", max_length=32)  # agent, ivr, api, import, manual
    reason: str = Field(default="", max_length=255)
    captured_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )
