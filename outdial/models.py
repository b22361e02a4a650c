"""Tables of the shared infrastructure: users, API tokens, login sessions.

Times are stored in UTC. SQLite hands them back naive; :func:`as_utc` makes
them aware again so comparisons behave the same on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    display_name: str = Field(default="", max_length=128)
    sip_uri: str = Field(default="", max_length=255)  # an agent's softphone
    team: str = Field(default="", max_length=64)  # an agent's team (班组); "" = none
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ApiToken(SQLModel, table=True):
    """An integration token. Only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=128)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSession(SQLModel, table=True):
    """A browser login. The cookie holds a random secret; the table holds its SHA-256."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


class NamedLock(SQLModel, table=True):
    """Rows whose update serializes writers across processes (see storage.lock)."""

    __tablename__ = "named_locks"

    name: str = Field(primary_key=True, max_length=128)
    n: int = Field(default=0)
