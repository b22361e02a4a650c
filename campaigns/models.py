"""Campaign tables. A campaign is the unit managers run: a kind, a dialing
mode, its lists, its rules (issue 7 fills in the rest)."""

from __future__ import annotations

from datetime import datetime

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
