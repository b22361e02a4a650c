"""The roles of outdial's users (issue 2) and what each is for."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role. Every HTTP route names the roles it admits; the default is deny."""

    ADMIN = "admin"  # users, tokens, system settings; everything a manager can do
    MANAGER = "manager"  # campaigns, lists, reports
    AGENT = "agent"  # own calls only
    SURVEYOR = "surveyor"  # survey design and results
    QA = "qa"  # quality control (质检, issue 19): scorecards, reviews, QA reports, alerts


ALL_ROLES: frozenset[Role] = frozenset(Role)
