"""Campaign files: a TOML or JSON definition that can live in version control.

    name = "Spring return visits"
    kind = "return_visit"
    mode = "progressive"
    caller_id = "+861012345678"
    timezone = "Asia/Shanghai"
    active_from = 2026-03-01
    script = "您好 {name}，我们是……您的订单 {order_id} ……"
    return_visit_delay_days = 3
    callback_hours = "09:00-20:00"
    webhook_url = "https://orders.example.com/hooks/outdial"   # order verification
    # the webhook secret never goes in the file: outdial generates it (shown once, rotatable)
    # or the operator sets it in webhook_secrets_file (README, configuration)

    [schedule]
    mon = ["09:00-12:00", "14:00-20:00"]

    [retry]
    busy = 10          # minutes
    max_attempts = 5

    [dialing]          # campaigns/dialing.py; every key optional
    ring_timeout = 30
    amd = true

    [[dispositions]]
    code = "success"
    success = true

Loading validates everything (campaigns/rules.py) before anything is written; an unknown key
is refused by name. ``outdial campaigns new --kind KIND`` prints a complete one to start from.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from campaigns import rules, store
from campaigns.errors import CampaignInvalid
from campaigns.models import Campaign

#: keys that once named or carried a secret; refused so nobody can key the HMAC with, say,
#: the admin password's environment variable (issue 18, finding 1)
SECRET_KEYS = ("webhook_secret_env", "webhook_secret")


def read(path: Path) -> rules.CampaignSpec:
    """Parse and validate a campaign file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignInvalid(f"cannot read {path}: {exc}", path=str(path)) from exc
    data = parse_text(text, path.suffix.lower())
    return definition(data)


def parse_text(text: str, suffix: str) -> dict[str, Any]:
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise CampaignInvalid(f"campaign files are .toml or .json, not {suffix or 'no suffix'}")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CampaignInvalid(f"the campaign file does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise CampaignInvalid("a campaign file holds one object/table")
    return data


def definition(data: Mapping[str, Any]) -> rules.CampaignSpec:
    """Validate a definition; secrets are never part of one."""
    body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
    for key in SECRET_KEYS:
        if key in body:
            raise CampaignInvalid(
                f"{key} is not accepted: outdial generates each campaign's webhook secret "
                "(shown once, rotatable) or the operator sets it in webhook_secrets_file",
                field=key,
            )
    return rules.parse_campaign(body)


def load(engine: Engine, path: Path) -> tuple[Campaign, int, str | None]:
    """Create or update the campaign a file describes; (row, settings version, the webhook
    secret when one was generated now, else None)."""
    spec = read(path)
    row, version = store.save_spec(engine, spec)
    return row, version, store.ensure_webhook_secret(engine, row.id or 0)
