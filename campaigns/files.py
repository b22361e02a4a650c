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
    webhook_secret_env = "SHOP_WEBHOOK_SECRET"  # the secret itself never goes in the file

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
import os
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from campaigns import rules, store
from campaigns.errors import CampaignInvalid
from campaigns.models import Campaign


def read(path: Path) -> tuple[rules.CampaignSpec, str | None]:
    """Parse and validate a campaign file; (spec, webhook secret from its env var or None)."""
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


def definition(data: Mapping[str, Any]) -> tuple[rules.CampaignSpec, str | None]:
    """Split secrets out of a definition and validate the rest."""
    body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
    secret: str | None = body.pop("webhook_secret", None)
    env = body.pop("webhook_secret_env", None)
    if env:
        secret = os.environ.get(str(env))
        if secret is None:
            raise CampaignInvalid(
                f"webhook_secret_env names {env!r}, which is not set", field="webhook_secret_env"
            )
    return rules.parse_campaign(body), secret


def load(engine: Engine, path: Path) -> tuple[Campaign, int]:
    """Create or update the campaign a file describes; (row, settings version)."""
    spec, secret = read(path)
    return store.save_spec(engine, spec, secret)
