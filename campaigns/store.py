"""Campaign rows and definitions: create, find, save a validated spec, record dispositions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaigns import rules, webhook_targets
from campaigns.models import (
    AgentCampaign,
    Campaign,
    CampaignSettings,
    Disposition,
    DispositionRecord,
)
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.models import utcnow
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


# --- issue 7: definitions, settings and dispositions -----------------------------------------


def get(engine: Engine, campaign_id: int) -> Campaign:
    with session_scope(engine) as s:
        row = s.get(Campaign, campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id}", campaign_id=campaign_id)
    return row


def resolve(engine: Engine, ref: int | str) -> Campaign:
    """A campaign by id (an int or all digits) or by name."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return get(engine, int(ref))
    return by_name(engine, str(ref))


def save_spec(
    engine: Engine, spec: rules.CampaignSpec, webhook_secret: str | None = None
) -> tuple[Campaign, int]:
    """Create or update a campaign from a validated definition; returns (row, version).

    The definition, its dispositions and the campaign row change in one transaction.
    """
    try:
        with session_scope(engine) as s:
            row = s.exec(select(Campaign).where(Campaign.name == spec.name)).first()
            if row is None:
                row = Campaign(name=spec.name)
            row.kind, row.mode, row.region = spec.kind.value, spec.mode.value, spec.region
            s.add(row)
            s.flush()
            assert row.id is not None
            settings = s.get(CampaignSettings, row.id)
            if settings is None:
                settings = CampaignSettings(campaign_id=row.id, version=0)
            settings.spec = rules.spec_to_dict(spec)
            settings.version += 1
            settings.updated_at = utcnow()
            if webhook_secret is not None:
                settings.webhook_secret = webhook_secret
            s.add(settings)
            _sync_dispositions(s, row.id, spec.dispositions)
            s.flush()
            s.refresh(row)
            version = settings.version
    except IntegrityError as exc:
        raise Conflict(f"campaign {spec.name!r} changed meanwhile; retry", name=spec.name) from exc
    return row, version


MAX_KEY = 100


def owner_key(owner_id: int | None, key: str, field: str = "idempotency_key") -> str:
    """An idempotency key scoped to the user who sent it (issue 18, finding 3): two agents
    reusing one key never see, overwrite or drop each other's rows. Required, short."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"{field} is required", field=field)
    if len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(f"{field} must be at most {MAX_KEY} printable characters", field=field)
    return f"{'sys' if owner_id is None else f'u{owner_id}'}/{key}"


def ensure_webhook_secret(engine: Engine, campaign_id: int) -> str | None:
    """Generate the campaign's webhook secret if it has a webhook and no secret yet; the new
    secret is returned (to be shown once), else None."""
    with session_scope(engine) as s:
        settings = s.get(CampaignSettings, campaign_id)
        if settings is None or not settings.spec.get("webhook_url") or settings.webhook_secret:
            return None
        settings.webhook_secret = webhook_targets.new_secret()
        s.add(settings)
        return settings.webhook_secret


def rotate_webhook_secret(engine: Engine, campaign_id: int) -> str:
    """A new webhook secret for the campaign, replacing the old one; shown once."""
    get(engine, campaign_id)  # NotFound first
    with session_scope(engine) as s:
        settings = s.get(CampaignSettings, campaign_id)
        if settings is None:
            settings = CampaignSettings(campaign_id=campaign_id, version=0)
        settings.webhook_secret = webhook_targets.new_secret()
        s.add(settings)
        return settings.webhook_secret


def _sync_dispositions(s: Session, campaign_id: int, wanted: Sequence[rules.Disposition]) -> None:
    have = {
        d.code: d for d in s.exec(select(Disposition).where(Disposition.campaign_id == campaign_id))
    }
    for d in wanted:
        row = have.pop(d.code, None) or Disposition(campaign_id=campaign_id, code=d.code)
        row.label, row.contact, row.success = d.label, d.contact, d.success
        row.callback, row.do_not_call, row.final = d.callback, d.do_not_call, d.final
        s.add(row)
    for gone in have.values():
        s.delete(gone)


def spec_of(engine: Engine, campaign: Campaign) -> rules.CampaignSpec:
    """The campaign's definition; a campaign made without one (e.g. by a list upload) gets
    the defaults for its kind and mode."""
    with session_scope(engine) as s:
        settings = s.get(CampaignSettings, campaign.id)
    if settings is None or not settings.spec:
        return rules.CampaignSpec(
            name=campaign.name,
            kind=rules.Kind(campaign.kind),
            mode=rules.Mode(campaign.mode),
            region=campaign.region,
            purpose=rules.default_purpose(campaign.kind),
        )
    stored = {k: v for k, v in settings.spec.items() if k not in rules.RETIRED_KEYS}
    return rules.parse_campaign(stored)


def settings_of(engine: Engine, campaign_id: int) -> CampaignSettings | None:
    with session_scope(engine) as s:
        return s.get(CampaignSettings, campaign_id)


def campaign_json(engine: Engine, campaign: Campaign) -> dict[str, Any]:
    """What the API and ``--json`` show: the row plus its definition (never the secret)."""
    settings = settings_of(engine, campaign.id or 0)
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "mode": campaign.mode,
        "status": campaign.status,
        "region": campaign.region,
        "created_at": campaign.created_at.isoformat(),
        "version": settings.version if settings else 0,
        "webhook_secret_set": bool(settings and settings.webhook_secret),
        "definition": rules.spec_to_dict(spec_of(engine, campaign)),
    }


def record_disposition(
    engine: Engine,
    campaign_id: int,
    idempotency_key: str,
    code: str,
    agent_id: int | None = None,
    contact_ref: str = "",
    note: str = "",
) -> tuple[DispositionRecord, bool]:
    """Commit a disposition before the call moves on; a retry with the same key is a no-op.

    Returns (row, created). The same key with a different code is a :class:`Conflict`. Keys
    belong to their agent (:func:`owner_key`): another agent's identical key is another row.
    """
    scoped = owner_key(agent_id, idempotency_key)
    campaign = get(engine, campaign_id)
    if spec_of(engine, campaign).disposition(code) is None:
        raise InvalidInput(f"campaign {campaign.name!r} has no disposition {code!r}", field="code")
    row = DispositionRecord(
        idempotency_key=scoped,
        campaign_id=campaign_id,
        code=code,
        agent_id=agent_id,
        contact_ref=contact_ref,
        note=note,
    )
    try:
        with session_scope(engine) as s:
            s.add(row)
        return row, True
    except IntegrityError:
        with session_scope(engine) as s:
            old = s.exec(
                select(DispositionRecord).where(DispositionRecord.idempotency_key == scoped)
            ).one()
        if old.code != code or old.campaign_id != campaign_id:
            raise Conflict(
                f"idempotency key {idempotency_key!r} already recorded {old.code!r}",
                existing=old.code,
            ) from None
        return old, False


# --- the campaigns an agent may take (issue 13: People page; the agent's desk reads them) ----


def assigned_campaigns(engine: Engine, user_id: int) -> list[int]:
    """The campaign ids assigned to an agent; [] means none assigned (any campaign)."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(AgentCampaign.campaign_id)
            .where(AgentCampaign.user_id == user_id)
            .order_by(col(AgentCampaign.campaign_id))
        )
        return list(rows)


def campaigns_for_agent(engine: Engine, user_id: int) -> list[Campaign]:
    """The campaigns an agent may take, by name: those assigned to them, or every campaign
    when none is (the agent's desk offers these; ``may_take`` decides a login)."""
    ids = set(assigned_campaigns(engine, user_id))
    every = sorted(all_campaigns(engine), key=lambda c: c.name)
    return [c for c in every if not ids or c.id in ids]


def may_take(engine: Engine, user_id: int, campaign_id: int) -> bool:
    ids = assigned_campaigns(engine, user_id)
    return not ids or campaign_id in ids


def set_agent_campaigns(engine: Engine, user_id: int, campaign_ids: Sequence[int]) -> list[int]:
    """Replace an agent's assignment ([] lets them take any campaign); unknown ids are an
    error, nothing is changed then."""
    wanted = sorted(set(campaign_ids))
    with session_scope(engine) as s:
        known = set(s.exec(select(Campaign.id).where(col(Campaign.id).in_(wanted))))
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise NotFound(f"no campaign {unknown[0]}", campaign_id=unknown[0])
        s.execute(sa.delete(AgentCampaign).where(col(AgentCampaign.user_id) == user_id))
        s.add_all(AgentCampaign(user_id=user_id, campaign_id=i) for i in wanted)
    return wanted
