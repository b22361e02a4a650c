"""Call-list tables: lists, their contacts, import jobs and the rows an import did not take.

A contact row is what the dialing engine reads: the hopper picks rows by
``(campaign_id, status, next_due_at)``; dedupe looks rows up by
``(campaign_id, primary_number)`` and ``(list_id, primary_number)``. Numbers are
E.164 and carry their candidate time zones (compliance rules 32–33).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


def _ts(nullable: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


def _json(nullable: bool = False) -> Any:
    return sa.Column(sa.JSON, nullable=nullable)


def reversed_number(number: str) -> str:
    """``primary_number`` back to front: "the last digits" become a prefix an index answers."""
    return number[::-1]


def _reversed_default(context: Any) -> str:
    # every insert through SQLAlchemy (ORM or Core, one row or many) fills it from the row's
    # number; lists/rows.py's driver-level bulk insert passes it itself
    return reversed_number(str(context.get_current_parameters().get("primary_number") or ""))


class ListStatus(StrEnum):
    IMPORTING = "importing"  # created by its first import, which has not finished
    READY = "ready"  # has taken at least one import; contacts are dialable
    FAILED = "failed"  # its first import failed; it holds no contacts


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ContactStatus(StrEnum):
    NEW = "new"  # dialable, never attempted
    SUPPRESSED = "suppressed"  # on the do-not-call list at import (rule 8): never dialed


class CallList(SQLModel, table=True):
    __tablename__ = "call_lists"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "name", name="uq_call_lists_campaign_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    name: str = Field(max_length=128)
    source_file: str = Field(default="", max_length=255)  # file name of the first import
    encoding: str = Field(default="", max_length=16)  # of the first import; xlsx for workbooks
    region: str = Field(default="CN", max_length=2)  # default region for numbers without +cc
    status: str = Field(default=ListStatus.IMPORTING, max_length=16)
    # rule 30 (PIPL): why these people may be called; recorded now, required by compliance later
    purpose: str = Field(default="", max_length=128)
    lawful_basis: str = Field(default="", max_length=32)  # consent, contract, legitimate_interest
    source: str = Field(default="", max_length=128)  # where the data came from (CRM, web form)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        # suppressed too: the live view's counts read the index alone (0006_console_…)
        sa.Index("ix_contacts_hopper", "campaign_id", "status", "suppressed", "next_due_at"),
        sa.Index("ix_contacts_campaign_number", "campaign_id", "primary_number"),
        # by list alone: an import appends one list_id, so this index costs little to fill;
        # dedupe within a list goes through the campaign index (0003_lists)
        sa.Index("ix_contacts_list", "list_id"),
        # the contact browser (lists/browse.py): last digits and name prefix (0007_live_...)
        # (ix_contacts_list_name, on (list_id, name) in byte order for name prefixes, is made
        # by that migration only: its collation is spelled differently on each database)
        sa.Index("ix_contacts_list_reversed", "list_id", "number_reversed"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="call_lists.id")
    campaign_id: int = Field(foreign_key="campaigns.id")
    job_id: int = Field(foreign_key="import_jobs.id")  # the import that added it
    row_number: int  # 1-based data row in its source file
    primary_number: str = Field(max_length=20)  # E.164
    # None until inserted: the column default then fills it from primary_number
    number_reversed: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(20), nullable=False, server_default="", default=_reversed_default
        ),
    )
    alternates: list[str] = Field(default_factory=list, sa_column=_json())  # E.164, in file order
    number_type: str = Field(max_length=24)  # mobile, fixed_line, fixed_line_or_mobile, voip, ...
    timezones: list[str] = Field(default_factory=list, sa_column=_json())  # IANA, rule 32
    name: str = Field(default="", max_length=255)
    order_id: str = Field(default="", max_length=128)
    address: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    custom: dict[str, str] = Field(default_factory=dict, sa_column=_json())
    suppressed: bool = Field(default=False)
    status: str = Field(default=ContactStatus.NEW, max_length=16)
    attempts: int = Field(default=0)
    next_due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_outcome: str = Field(default="", max_length=32)
    # lead selection (dialer/hopper.py; added by the dialer's migration): due callbacks first,
    # then the earliest deadline (an order's ship-by), then priority, then fewest attempts
    callback_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    deadline_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    priority: int = Field(default=0)
    # the agent (users.id) a pending personal callback waits for (issue 7): only an engine
    # where that agent is ready claims it; None once it moves to the team (0003_dialer)
    callback_owner_id: int | None = Field(default=None)
    # the team a due team callback's record is held for (campaigns/callback_times.py
    # team_callback_holder); None: no team callback, or one of no team (0007_follow)
    callback_team: str | None = Field(default=None, max_length=64)
    # the engine node that claimed it from the hopper; start-up recovery gives back only its
    # own node's claims (0004_dialer)
    claimed_by: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ImportJob(SQLModel, table=True):
    """One import of one file into one list. ``content_sha256`` makes a re-import a no-op."""

    __tablename__ = "import_jobs"
    __table_args__ = (sa.Index("ix_import_jobs_list_hash", "list_id", "content_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="call_lists.id", index=True)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    file_name: str = Field(default="", max_length=255)
    content_sha256: str = Field(max_length=64)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    rows_total: int = Field(default=0)
    rows_done: int = Field(default=0)
    report: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class RejectedRow(SQLModel, table=True):
    """A row an import did not turn into a contact, with why (reject reason or duplicate).

    One row per rejected source row, raw values as JSON: rejects are a few percent of
    a file, and managers download them to fix and re-import (``rejects.csv``).
    """

    __tablename__ = "rejected_rows"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="import_jobs.id", index=True)
    list_id: int = Field(foreign_key="call_lists.id", index=True)
    row_number: int
    reason: str = Field(max_length=32)
    raw: dict[str, str] = Field(default_factory=dict, sa_column=_json())
