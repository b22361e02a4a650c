"""The JSON Schema (draft 2020-12) of a campaign definition, pure (issue 16.2).

Built from the same tables the parser reads (``rules.TOP_KEYS``, ``rules.INT_FIELDS``,
``rules.DISPOSITION_KEYS``, the enums, ``dialing.FIELDS``), so a key the parser knows and the
schema does not (or the reverse) is a ``KeyError`` here, not a silent drift. Served at
``GET /api/schemas/campaign.json``, printed by ``outdial campaigns schema`` and kept in
``docs/campaign.schema.json``; the OpenAPI description refers to it. A few checks stay in the
parser only (a real time zone, spans that end after they start, abandon_target ≤ abandon_cap,
leave_message needs amd): JSON Schema cannot say them, and the descriptions do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaigns import dialing, rules

SCHEMA_ID = "https://outdial.invalid/schemas/campaign.json"
_SPAN: dict[str, Any] = {
    "type": "string",
    "pattern": rules.SPAN_PATTERN,
    "examples": ["09:00-12:00"],
}
_DATE: dict[str, Any] = {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}


def _int_field(key: str, description: str) -> dict[str, Any]:
    default, lo, hi = rules.INT_FIELDS[key]
    return {
        "type": "integer",
        "minimum": lo,
        "maximum": hi,
        "default": default,
        "description": description,
    }


def _dialing_field(f: dialing.Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": f.type, "description": f.doc, "examples": [f.example]}
    if f.default is not None:
        out["default"] = f.default
    if f.minimum is not None:
        out["exclusiveMinimum" if f.exclusive_minimum else "minimum"] = f.minimum
    if f.maximum is not None:
        out["maximum"] = f.maximum
    if f.choices:
        out["enum"] = list(f.choices)
    return out


def dialing_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "How the campaign dials (issue 11.3); every key is optional.",
        "additionalProperties": False,
        "properties": {f.key: _dialing_field(f) for f in dialing.FIELDS},
    }


def _disposition_schema() -> dict[str, Any]:
    flags = {
        "contact": "a person was reached (counts in contacts, default true)",
        "success": "counts as a success (a contact; final unless said otherwise)",
        "callback": "asks for a callback time; never final",
        "do_not_call": "adds the number to the internal DNC at once (rule 9); final",
        "final": "the record is finished",
    }
    props: dict[str, Any] = {
        "code": {"type": "string", "pattern": rules.CODE_PATTERN, "examples": ["success"]},
        "label": {"type": "string", "examples": ["成功 / Success"]},
        **{k: {"type": "boolean", "description": d} for k, d in flags.items()},
    }
    return {
        "type": "object",
        "required": ["code"],
        "additionalProperties": False,
        "properties": {k: props[k] for k in rules.DISPOSITION_KEYS},
    }


def _top_fields() -> Mapping[str, dict[str, Any]]:
    def enum(values: Any, default: str, description: str) -> dict[str, Any]:
        out: dict[str, Any] = {"enum": [str(v) for v in values], "description": description}
        if default:
            out["default"] = default
        return out

    retry_props: dict[str, Any] = {
        str(o): {
            "type": "integer",
            "minimum": 1,
            "default": rules.DEFAULT_RETRY_SECONDS[o] // 60,
            "description": f"minutes before a {o} record is dialed again",
        }
        for o in rules.DEFAULT_RETRY_SECONDS
    }
    retry_props[rules.Outcome.BAD_NUMBER] = {  # issue 20: no default, not redialed unless set
        "type": "integer",
        "minimum": 1,
        "description": "minutes before a number a carrier called not in service is dialed "
        "again (unset: never)",
    }
    retry_props["max_attempts"] = _int_field("max_attempts", "dials per record at most")
    day: dict[str, Any] = {"oneOf": [_SPAN, {"type": "array", "items": _SPAN}]}
    return {
        "name": {"type": "string", "pattern": r"\S", "description": "unique campaign name"},
        "kind": enum(rules.Kind, "generic", "what the campaign is for"),
        "mode": enum(rules.Mode, "progressive", "dialing mode (agentless: surveys only)"),
        "purpose": enum(
            rules.PURPOSES,
            "",
            "service (own customers, contract) or marketing (consent where the profile "
            "requires it, rule 26); default: marketing for generic, service otherwise",
        ),
        "region": {"type": "string", "default": "CN", "description": "compliance profile"},
        "timezone": {
            "type": "string",
            "default": "Asia/Shanghai",
            "description": "IANA zone of the schedule and of the reports",
        },
        "active_from": {**_DATE, "description": "first day (campaign zone), or empty"},
        "active_until": {**_DATE, "description": "last day (campaign zone), or empty"},
        "schedule": {
            "type": "object",
            "description": "weekly hours per day, campaign zone; empty: compliance hours only",
            "additionalProperties": False,
            "properties": {d: day for d in rules.DAYS},
        },
        "retry": {"type": "object", "additionalProperties": False, "properties": retry_props},
        "caller_id": {
            "type": "string",
            "pattern": rules.E164_PATTERN,
            "description": "E.164 number the company owns (rules 11, 23, 27)",
            "examples": ["+861012345678"],
        },
        "script": {"type": "string", "description": "agent script; {field} from the record"},
        "dispositions": {"type": "array", "minItems": 1, "items": _disposition_schema()},
        "callback_hours": {**_SPAN, "default": "09:00-20:00"},
        "callback_team_delay_minutes": _int_field(
            "callback_team_delay_minutes", "minutes before a team callback goes to anyone"
        ),
        "return_visit_delay_days": _int_field(
            "return_visit_delay_days", "days after the event a return visit is due"
        ),
        "survey": {"type": "string", "description": "name of the survey attached"},
        "webhook_url": {
            "type": "string",
            "pattern": r"^(https?://.*)?$",
            "description": "order verification: where verdicts are POSTed",
        },
        "safe_harbor_wav": {"type": "string", "description": "deprecated: a file path"},
        "safe_harbor_prompt": {
            "type": "string",
            "description": "prompt name of the abandoned-call message (rules 4, 20)",
            "examples": ["safe_harbor"],
        },
        "dialing": dialing_schema(),
        "pause_reasons": {
            "type": "array",
            "minItems": 1,
            "description": "the agent's pause menu (default: break, lunch, training, "
            "meeting, coaching); a pause with another code is refused",
            "items": {
                "type": "object",
                "required": ["code"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": rules.CODE_PATTERN},
                    "label": {"type": "string", "maxLength": 64, "examples": ["小休"]},
                },
            },
        },
    }


#: keys a campaign file or POST may hold besides the definition: secrets, never stored in it
SECRET_FIELDS: Mapping[str, dict[str, Any]] = {
    "webhook_secret": {"type": "string", "description": "HMAC secret for verdict webhooks"},
    "webhook_secret_env": {
        "type": "string",
        "description": "name of an environment variable holding webhook_secret",
    },
}


def campaign_schema() -> dict[str, Any]:
    """The published schema: every key ``rules.parse_campaign`` accepts, and no other."""
    top = _top_fields()
    props = {k: top[k] for k in rules.TOP_KEYS}  # KeyError: a key the schema forgot
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "outdial campaign definition",
        "description": "A campaign file (TOML or JSON), the body of POST /api/campaigns and "
        "`definition` in `outdial campaigns show --json`. Unknown keys are refused.",
        "type": "object",
        "required": ["name", "caller_id"],
        "additionalProperties": False,
        "properties": {**props, **SECRET_FIELDS},
    }
