"""Compliance tables: the internal do-not-call list (rules 8, 9, 24), consent records
(rules 9, 10, 26, 30), national registry snapshots (rules 7, 24), attempt slots for the caps
(rules 13-16, 21, 29, 34) and the hash-chained audit trail (rule 36).

A number is suppressed from the instant its DNC row is committed; nothing here is ever
updated in place except a DNC row's removal, which is itself audited.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


def _ts(nullable: bool = False, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


class DncEntry(SQLModel, table=True):
    """One number on the internal do-not-call list (rules 8, 9, 24).

    ``seller`` empty means every seller of this outdial (the usual case: rule 8 scopes a
    request to the whole seller, all campaigns and vendors)."""

    __tablename__ = "dnc_entries"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, index=True)  # E.164
    source: str = Field(default="manual", max_length=32)  # agent, ivr, api, import, manual
    reason: str = Field(default="", max_length=255)
    seller: str = Field(default="", max_length=128)
    captured_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ConsentEvent(SQLModel, table=True):
    """A consent grant, refusal or revocation; the latest per (number, seller) counts."""

    __tablename__ = "consent_events"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, index=True)
    seller: str = Field(default="", max_length=128)  # empty: every seller
    status: str = Field(max_length=16)  # granted, refused, revoked
    scope: str = Field(default="*", max_length=255)  # comma-separated purposes, * = any
    written: bool = Field(default=False)  # prior express written consent (rule 10)
    channel: str = Field(default="", max_length=32)
    evidence: str = Field(default="", max_length=1024)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class RegistrySnapshot(SQLModel, table=True):
    """A national do-not-call registry snapshot (rules 7, 24): its date and size.

    The numbers are stored as the sorted int64 array of compliance/registry.py, in chunks,
    so every node of a PostgreSQL deployment loads the same snapshot."""

    __tablename__ = "registry_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, index=True)  # us-national, uk-tps, uk-ctps
    as_of: date
    count: int
    sha256: str = Field(max_length=64)
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RegistryChunk(SQLModel, table=True):
    __tablename__ = "registry_chunks"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="registry_snapshots.id", index=True)
    seq: int
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))


class DialSlot(SQLModel, table=True):
    """One counted dial attempt under a cap key (rule 34: count attempts, not connects)."""

    __tablename__ = "dial_slots"
    __table_args__ = (sa.Index("ix_dial_slots_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    at: datetime = Field(sa_column=_ts())
    attempt_ref: str = Field(default="", max_length=64)


class AuditEntry(SQLModel, table=True):
    """The append-only, hash-chained audit trail (rule 36)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts(index=True))
    kind: str = Field(max_length=32)  # decision, outcome, dnc_add, dnc_remove, consent, ...
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AmdReview(SQLModel, table=True):
    """A person's mark on a sampled machine verdict (rule 19): was it a person or a machine.

    The sampled calls are the attempts whose ``amd`` is ``machine_sampled``
    (compliance/amd_sampling.py); one mark per call, a second mark corrects the first."""

    __tablename__ = "amd_reviews"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64, unique=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    truth: str = Field(max_length=16)  # person | machine
    reviewed_by: str = Field(default="", max_length=128)
    reviewed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
