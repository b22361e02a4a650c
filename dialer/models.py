"""The dialing engine's tables: attempts, agent sessions, and every state transition.

An attempt row is committed *before* its INVITE is sent (crash safety, issue 6): after a
crash, rows left in flight are closed on start-up and their contacts go back to the queue
per the retry rules. The engine also adds lead-selection columns to ``contacts``
(``priority``, ``deadline_at``, ``callback_at``) in its own migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from outdial.models import utcnow


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


class Attempt(SQLModel, table=True):
    """One dial attempt of one contact (KPI 呼出量 counts these rows)."""

    __tablename__ = "attempts"
    __table_args__ = (
        sa.Index("ix_attempts_campaign_state", "campaign_id", "state"),
        sa.Index("ix_attempts_contact", "contact_id"),
        sa.Index("ix_attempts_created_at", "created_at"),  # reports by time (0005_reports_…)
        sa.Index(  # first-contact resolution: an earlier bridged attempt (0006_reports_…)
            "ix_attempts_contact_bridged",
            "contact_id",
            "id",
            sqlite_where=sa.text("bridged_at IS NOT NULL"),
            postgresql_where=sa.text("bridged_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64, unique=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    contact_id: int = Field(foreign_key="contacts.id")
    number: str = Field(max_length=20)
    attempt_no: int = 1
    node: str = Field(default="", max_length=64)  # the engine instance that placed it
    state: str = Field(default="claimed", max_length=24)  # dialer.states.CallState values
    final: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=_ts())
    bridged_at: datetime | None = Field(default=None, sa_column=_ts())
    # an agent handed the customer on (transfer rate 转交率; 0005_reports_attempt_transfers)
    transferred_at: datetime | None = Field(default=None, sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts())
    sip_outcome: str = Field(default="", max_length=24)
    sip_status: int = 0
    reason: str = Field(default="", max_length=255)
    abandoned: bool = False
    amd: str = Field(default="", max_length=16)
    agent_user_id: int | None = Field(default=None, foreign_key="users.id")
    answer_to_bridge_ms: float | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None
    disposition: str = Field(default="", max_length=64)
    disposition_at: datetime | None = Field(default=None, sa_column=_ts())
    notes: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    # the simulated carrier answered it (0006_sim_attempts_simulated): not a real call
    simulated: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )


class AgentSession(SQLModel, table=True):
    """An agent logged in to a campaign, with the softphone they receive calls on."""

    __tablename__ = "agent_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    sip_uri: str = Field(max_length=255)
    state: str = Field(default="ready", max_length=16)
    pause_reason: str = Field(default="", max_length=64)
    since: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class StateChange(SQLModel, table=True):
    """Every timestamped transition of an agent or call machine (issue 6)."""

    __tablename__ = "state_changes"
    __table_args__ = (  # reports (0005_reports_attempt_transfers)
        sa.Index("ix_state_changes_machine_at", "machine", "at"),
        sa.Index("ix_state_changes_machine_entity_at", "machine", "entity", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    machine: str = Field(max_length=8)  # agent, call
    entity: str = Field(max_length=64, index=True)
    source: str = Field(max_length=24)
    event: str = Field(max_length=24)
    target: str = Field(max_length=24)
    reason: str = Field(default="", max_length=255)


class CampaignRun(SQLModel, table=True):
    """A campaign's desired state, durable across restarts (issue 16 item 5), and the
    heartbeat of the engine running it (what is true now, read from any process)."""

    __tablename__ = "campaign_runs"

    campaign_id: int = Field(foreign_key="campaigns.id", primary_key=True)
    desired: str = Field(default="stopped", max_length=16)  # running, paused, stopped
    node: str = Field(default="", max_length=64)  # the engine instance that runs it
    pid: int = 0  # its server process on that node
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    heartbeat_at: datetime | None = Field(default=None, sa_column=_ts())
    refusal: str = Field(
        default="", sa_column=sa.Column(sa.Text, nullable=False, server_default="")
    )
    refused_at: datetime | None = Field(default=None, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DeskDraft(SQLModel, table=True):
    """What an agent has typed on their desk for one call (notes, the kind's form), saved as
    they type so that a reload or a crash loses nothing (issue 14; 0006_desk_drafts)."""

    __tablename__ = "desk_drafts"
    __table_args__ = (sa.UniqueConstraint("user_id", "call_id", name="uq_desk_drafts_user_call"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    call_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class PreviewSkip(SQLModel, table=True):
    """A previewed record the agent skipped, with their reason: shown in the contact's
    history beside its attempts (issue 14; 0006_deskx_preview_skips). Not an attempt: no
    call was placed, so it counts in no rate."""

    __tablename__ = "preview_skips"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    user_id: int = Field(foreign_key="users.id")
    reason: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
