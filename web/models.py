"""Tables the web console owns: each user's remembered console language."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ConsolePref(SQLModel, table=True):
    """One row per user who chose a language in the console (else Accept-Language decides)."""

    __tablename__ = "console_prefs"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    locale: str = Field(default="", max_length=16)
