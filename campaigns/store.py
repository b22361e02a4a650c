"""Campaign rows: create, find by name."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from campaigns.models import Campaign
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.storage import session_scope

KINDS = ("generic", "return_visit", "order_verification", "satisfaction_survey")
MODES = ("preview", "progressive", "predictive", "agentless")


def create(
    engine: Engine,
    name: str,
    kind: str = "generic",
    mode: str = "progressive",
    region: str = "CN",
    dedupe: str = "campaign",
) -> Campaign:
    if not name.strip():
        raise InvalidInput("a campaign needs a name", field="name")
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown campaign kind {kind!r} (one of {', '.join(KINDS)})", field="kind"
        )
    if mode not in MODES:
        raise InvalidInput(
            f"unknown dialing mode {mode!r} (one of {', '.join(MODES)})", field="mode"
        )
    if dedupe not in ("off", "list", "campaign"):
        raise InvalidInput("dedupe must be off, list or campaign", field="dedupe")
    row = Campaign(name=name.strip(), kind=kind, mode=mode, region=region.upper(), dedupe=dedupe)
    try:
        with session_scope(engine) as s:
            s.add(row)
            s.flush()
            s.refresh(row)
    except IntegrityError as exc:
        raise Conflict(f"campaign {name!r} already exists", name=name) from exc
    return row


def by_name(engine: Engine, name: str) -> Campaign:
    with session_scope(engine) as s:
        row = s.exec(select(Campaign).where(Campaign.name == name)).first()
    if row is None:
        raise NotFound(f"no campaign named {name!r}", name=name)
    return row


def get_or_create(engine: Engine, name: str, region: str = "CN") -> Campaign:
    try:
        return by_name(engine, name)
    except NotFound:
        try:
            return create(engine, name, region=region)
        except Conflict:  # created meanwhile by another process
            return by_name(engine, name)


def all_campaigns(engine: Engine) -> list[Campaign]:
    with session_scope(engine) as s:
        return list(s.exec(select(Campaign).order_by(col(Campaign.id))))
