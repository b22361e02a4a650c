"""Campaign rules, pure: definitions, schedules, scripts, retries.

Nothing here reads the clock, sleeps or touches storage; every instant comes in as an aware
datetime and every answer is data (issue 7). Adapters (campaigns/store.py, files.py,
dialer/hopper.py, dialer/scheduling.py) persist and schedule what these functions decide.
Callback times live in campaigns/callback_times.py; order verdicts and the webhook retry
schedule in campaigns/verdicts.py (both pure too).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import PurePath
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.dialing import DialingMode, DialingSpec, dialing_to_dict, parse_dialing
from campaigns.errors import CampaignInvalid
from outdial.text import name_problem


class Kind(StrEnum):
    GENERIC = "generic"
    RETURN_VISIT = "return_visit"
    ORDER_VERIFICATION = "order_verification"
    SATISFACTION_SURVEY = "satisfaction_survey"


Mode = DialingMode  # the one dialing-mode enum (campaigns/dialing.py)


class Outcome(StrEnum):
    """Dial outcomes that never reached a person; each may be retried."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"
    FAILURE = "failure"
    # A carrier announcement said the number does not exist (issue 20): by default not
    # retried (no delay in DEFAULT_RETRY_SECONDS); a campaign may still set one.
    BAD_NUMBER = "bad_number"


#: issue 7 defaults: busy 10 min, no answer 1 h, machine 4 h, failure 30 min, 5 attempts
DEFAULT_RETRY_SECONDS: Mapping[str, int] = {
    Outcome.BUSY: 600,
    Outcome.NO_ANSWER: 3600,
    Outcome.MACHINE: 4 * 3600,
    Outcome.FAILURE: 1800,
}
DEFAULT_MAX_ATTEMPTS = 5
PURPOSES = ("service", "marketing")
#: a campaign's purpose by kind (issue 16; rule 26 concerns commercial calls only). Verifying
#: an order, a return visit and a promised callback serve one's own customer under the
#: contract. A satisfaction survey asks a customer about a service they had and sells
#: nothing, so it is a service call too (set purpose = "marketing" if it promotes). A generic
#: campaign says nothing about what it is for: marketing, the strict choice.
DEFAULT_PURPOSE: Mapping[str, str] = {
    "order_verification": "service",
    "return_visit": "service",
    "callback": "service",
    "satisfaction_survey": "service",
    "generic": "marketing",
}


def default_purpose(kind: str) -> str:
    """``service`` or ``marketing`` for a campaign kind; an unknown kind is marketing."""
    return DEFAULT_PURPOSE.get(str(kind), "marketing")


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: seconds of the local day, half-open [start, end) like compliance/windows.py (rule 1)
Span = tuple[int, int]
Weekly = tuple[tuple[Span, ...], ...]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PROMPT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # campaigns/prompts.py's prompt names
MISSING = "[missing: {}]"
_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True)
class Disposition:
    """An outcome code an agent sets; flags drive KPIs (shared/domain.md) and the engine."""

    code: str
    label: str
    contact: bool = True
    success: bool = False
    callback: bool = False
    do_not_call: bool = False
    final: bool = False


DEFAULT_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition("success", "Success / 成功", success=True, final=True),
    Disposition("not_interested", "Not interested / 无意向", final=True),
    Disposition("callback", "Call back / 预约回呼", callback=True),
    # rule 9: a "stop calling" disposition adds the number to the internal DNC at once
    Disposition("do_not_call", "Do not call / 勿扰", do_not_call=True, final=True),
    Disposition("wrong_number", "Wrong number / 错号", contact=False, final=True),
)


#: a carrier's special information tones (sip/amd_signal.py ``SIT_KINDS``) -> the outcome:
#: an intercept or a vacant code says the number is not in service; no circuit and
#: reorder are the network's trouble, retried like a failed call. A recorded
#: announcement with no SIT (sip/amd_announce.py: ``recorded_`` + the cause in its
#: file name): 空号 / not in service and 停机 (suspended) are bad numbers; 关机
#: (switched off) and 暂时无法接通 (unreachable) are a person away, retried.
SIT_OUTCOME: Mapping[str, Outcome] = {
    "sit_intercept": Outcome.BAD_NUMBER,
    "sit_vacant": Outcome.BAD_NUMBER,
    "sit_no_circuit": Outcome.FAILURE,
    "sit_reorder": Outcome.FAILURE,
    "recorded_vacant": Outcome.BAD_NUMBER,
    "recorded_suspended": Outcome.BAD_NUMBER,
    "recorded_switched_off": Outcome.FAILURE,
    "recorded_unreachable": Outcome.FAILURE,
}


def announcement_outcome(reason: str) -> Outcome:
    """The retry outcome of a call that reached a carrier announcement; ``reason`` starts
    with the SIT code (``sit_vacant: ...``). An unknown pattern is a failure (retried)."""
    return SIT_OUTCOME.get(reason.split(":", 1)[0].strip(), Outcome.FAILURE)


@dataclass(frozen=True)
class PauseReason:
    """A reason an agent gives for a pause (issue 14: the campaign's codes, required)."""

    code: str
    label: str


DEFAULT_PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("break", "Short break / 小休"),
    PauseReason("lunch", "Lunch / 午餐"),
    PauseReason("training", "Training / 培训"),
    PauseReason("meeting", "Meeting / 会议"),
    PauseReason("coaching", "Coaching / 辅导"),
)


@dataclass(frozen=True)
class RetryPolicy:
    delays: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RETRY_SECONDS))
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class CampaignSpec:
    """A validated campaign definition (what a TOML/JSON file, the CLI or the API describe)."""

    name: str
    kind: Kind = Kind.GENERIC
    mode: Mode = Mode.PROGRESSIVE
    region: str = "CN"
    timezone: str = "Asia/Shanghai"
    active_from: date | None = None
    active_until: date | None = None
    schedule: Weekly = ((),) * 7  # empty: no weekly limit beyond compliance windows
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    caller_id: str = ""
    script: str = ""
    dispositions: tuple[Disposition, ...] = DEFAULT_DISPOSITIONS
    callback_hours: Span = (9 * 3600, 20 * 3600)  # rule 28 default for CN; rules 1, 14-16
    callback_team_delay_minutes: int = 15
    return_visit_delay_days: int = 3
    survey: str = ""  # survey name attached (return visits, satisfaction surveys)
    #: service | marketing: which lawful bases the compliance profiles accept (rule 26);
    #: empty in a hand-made spec means the kind's default (``default_purpose``)
    purpose: str = ""
    webhook_url: str = ""  # order verification: where verdicts go
    #: rules 4, 20: the abandoned-call message, by the name of a prompt uploaded for this
    #: campaign (``outdial prompts add FILE --campaign NAME --name safe_harbor``); where the
    #: file lives under the data directory is the runtime's business (issue 16 item 4)
    safe_harbor_prompt: str = ""
    dialing: DialingSpec = field(default_factory=DialingSpec)  # issue 11.3
    pause_reasons: tuple[PauseReason, ...] = DEFAULT_PAUSE_REASONS  # the desk's pause menu

    def disposition(self, code: str) -> Disposition | None:
        return next((d for d in self.dispositions if d.code == code), None)

    def pause_reason(self, code: str) -> PauseReason | None:
        return next((r for r in self.pause_reasons if r.code == code), None)


# --- campaign definition --------------------------------------------------------------------

#: every key a definition may hold; anything else is refused by name (issue 11.3).
#: campaigns/schema.py describes exactly these (a test holds the two together).
TOP_KEYS: tuple[str, ...] = (
    "name", "kind", "mode", "purpose", "region", "timezone", "active_from", "active_until",
    "schedule", "retry", "caller_id", "script", "dispositions", "callback_hours",
    "callback_team_delay_minutes", "return_visit_delay_days", "survey", "webhook_url",
    "safe_harbor_wav", "safe_harbor_prompt", "dialing", "pause_reasons",
)  # fmt: skip
#: keys an older outdial wrote into stored definitions and this one no longer knows: dropped
#: when a stored definition is read (campaigns/store.py), refused in a file or a request
RETIRED_KEYS: frozenset[str] = frozenset()
PAUSE_REASON_KEYS = ("code", "label")
DISPOSITION_KEYS = ("code", "label", "contact", "success", "callback", "do_not_call", "final")
#: whole-number settings: (default, lowest, highest); the parser and the schema read these
INT_FIELDS: Mapping[str, tuple[int, int, int]] = {
    "callback_team_delay_minutes": (15, 0, 10_080),
    "return_visit_delay_days": (3, 0, 365),
    "max_attempts": (DEFAULT_MAX_ATTEMPTS, 1, 50),
}
SPAN_PATTERN = r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"
CODE_PATTERN = _CODE.pattern
E164_PATTERN = _E164.pattern
#: what a correct value looks like, shown with the error (issue 16.2)
EXAMPLES: Mapping[str, str] = {
    "name": 'name = "Spring return visits"',
    "kind": 'kind = "return_visit"',
    "mode": 'mode = "progressive"',
    "purpose": 'purpose = "service"',
    "timezone": 'timezone = "Asia/Shanghai"',
    "active_from": "active_from = 2026-03-01",
    "active_until": "active_until = 2026-06-30",
    "schedule": 'schedule.mon = ["09:00-12:00", "14:00-18:00"]',
    "retry": "retry.busy = 10   # minutes; retry.max_attempts = 5",
    "caller_id": 'caller_id = "+861012345678"',
    "script": 'script = "您好 {name}，……"',
    "dispositions": '[[dispositions]] code = "success"  label = "成功"  success = true',
    "callback_hours": 'callback_hours = "09:00-20:00"',
    "callback_team_delay_minutes": "callback_team_delay_minutes = 15",
    "return_visit_delay_days": "return_visit_delay_days = 3",
    "webhook_url": 'webhook_url = "https://orders.example.com/hooks/outdial"',
    "dialing": "[dialing] ring_timeout = 30",
    "pause_reasons": '[[pause_reasons]] code = "break"  label = "小休"',
}


def _hhmm(text: str) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
        raise ValueError(text)
    return int(m[1]) * 3600 + int(m[2]) * 60


def parse_span(text: str) -> Span:
    """``"09:00-20:00"`` -> (32400, 72000); raises ValueError on nonsense or an empty span."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(text)
    span = (_hhmm(start), _hhmm(end))
    if span[0] >= span[1]:
        raise ValueError(text)
    return span


def format_span(span: Span) -> str:
    return "-".join(f"{s // 3600:02d}:{s % 3600 // 60:02d}" for s in span)


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def zone_ok(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append({"field": where, "message": message})


def parse_campaign(data: Mapping[str, object]) -> CampaignSpec:
    """Validate a campaign definition; raise :class:`CampaignInvalid` naming every problem."""
    p = _Problems()
    for key in data:
        if str(key) not in TOP_KEYS:
            p.add(str(key), f"unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
    name = str(data.get("name", "")).strip()
    if name_problem(name):
        p.add("name", f"name: {name_problem(name)}")
    if not name:
        p.add("name", "a campaign needs a name")
    kind = _enum(Kind, data.get("kind", "generic"), "kind", p)
    mode = _enum(Mode, data.get("mode", "progressive"), "mode", p)
    tz = str(data.get("timezone", "Asia/Shanghai"))
    if not zone_ok(tz):
        p.add("timezone", f"unknown time zone {tz!r}")
    active = [_opt_date(data, k, p) for k in ("active_from", "active_until")]
    if active[0] and active[1] and active[1] < active[0]:
        p.add("active_until", "active_until is before active_from")
    caller_id = str(data.get("caller_id", "")).strip()
    if not _E164.match(caller_id):  # rules 11, 23, 27: a real, owned number; never anonymous
        p.add("caller_id", "caller ID must be an E.164 number such as +8610xxxxxxx")
    if mode is Mode.AGENTLESS and kind not in (Kind.SATISFACTION_SURVEY, None):
        p.add("mode", "agentless mode is only for satisfaction surveys (an IVR asks)")
    dialing, dialing_problems = parse_dialing(data.get("dialing"))
    for where, message in dialing_problems:
        p.add(where, message)
    script = str(data.get("script", ""))
    if template_fields(script) is None:
        p.add("script", "the script template has unbalanced { } (write {{ for a brace)")
    spec = CampaignSpec(
        name=name,
        kind=kind or Kind.GENERIC,
        mode=mode or Mode.PROGRESSIVE,
        region=str(data.get("region", "CN")).upper()[:2],
        timezone=tz,
        active_from=active[0],
        active_until=active[1],
        schedule=_schedule(data.get("schedule", {}), p),
        retry=_retry(data.get("retry", {}), p),
        caller_id=caller_id,
        script=script,
        dispositions=_dispositions(data.get("dispositions"), p),
        callback_hours=_span_field(data, "callback_hours", "09:00-20:00", p),
        callback_team_delay_minutes=_int(data, "callback_team_delay_minutes", p),
        return_visit_delay_days=_int(data, "return_visit_delay_days", p),
        survey=str(data.get("survey", "")),
        webhook_url=str(data.get("webhook_url", "")),
        safe_harbor_prompt=_prompt_name(data, p),
        purpose=_purpose(data, kind or Kind.GENERIC, p),
        dialing=dialing,
        pause_reasons=_pause_reasons(data.get("pause_reasons"), p),
    )
    if spec.webhook_url and not re.match(r"^https?://", spec.webhook_url):
        p.add("webhook_url", "webhook_url must be an http(s) URL")
    if p.items:
        for item in p.items:
            example = EXAMPLES.get(re.split(r"[.\[]", item["field"])[0])
            if example and "e.g." not in item["message"]:
                item["example"] = example
        msg = "; ".join(
            f"{i['field']}: {i['message']}" + (f" (e.g. {i['example']})" if "example" in i else "")
            for i in p.items
        )
        raise CampaignInvalid(f"campaign definition invalid: {msg}", problems=p.items)
    return spec


def _purpose(data: Mapping[str, object], kind: Kind, p: _Problems) -> str:
    value = str(data.get("purpose", "") or "").strip() or default_purpose(kind)
    if value not in PURPOSES:
        p.add(
            "purpose",
            f"unknown purpose {value!r}: service (calls under the customer's contract: "
            "order verification, return visits) or marketing (needs consent, rule 26)",
        )
        return default_purpose(kind)
    return value


def _prompt_name(data: Mapping[str, object], p: _Problems) -> str:
    """``safe_harbor_prompt``: a prompt's name. A definition saved before names were used
    holds ``safe_harbor_wav``, the uploaded file's path: its stem is that prompt's name."""
    name = str(data.get("safe_harbor_prompt", "") or "").strip()
    legacy = str(data.get("safe_harbor_wav", "") or "").strip()
    if not name and legacy:
        name = PurePath(legacy).stem
    if name and not _PROMPT.match(name):
        p.add(
            "safe_harbor_prompt",
            f"{name!r} is not a prompt name: upload the WAV with `outdial prompts add FILE "
            '--campaign NAME --name safe_harbor` and write safe_harbor_prompt = "safe_harbor"',
        )
        return ""
    return name


def _enum(cls: type[_E], value: object, where: str, p: _Problems) -> _E | None:
    try:
        return cls(str(value))
    except ValueError:
        p.add(where, f"unknown {where} {value!r} (one of {', '.join(e.value for e in cls)})")
        return None


def _opt_date(data: Mapping[str, object], key: str, p: _Problems) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return _date(value)
    except ValueError:
        p.add(key, f"{key} must be a date YYYY-MM-DD")
        return None


def _int(data: Mapping[str, object], key: str, p: _Problems) -> int:
    default, lo, hi = INT_FIELDS[key]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        p.add(key, f"{key} must be a whole number from {lo} to {hi}")
        return default
    return value


def _span_field(data: Mapping[str, object], key: str, default: str, p: _Problems) -> Span:
    try:
        return parse_span(str(data.get(key, default)))
    except ValueError:
        p.add(key, f"{key} must look like 09:00-20:00")
        return parse_span(default)


def _schedule(value: object, p: _Problems) -> Weekly:
    if not isinstance(value, Mapping):
        p.add("schedule", "schedule maps mon..sun to lists like ['09:00-12:00']")
        return ((),) * 7
    for day in sorted(set(map(str, value)) - set(DAYS)):
        p.add(f"schedule.{day}", f"unknown day {day!r}; use {', '.join(DAYS)}")
    out: list[tuple[Span, ...]] = []
    for day in DAYS:
        spans: list[Span] = []
        raw = value.get(day, [])
        for text in [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []:
            try:
                spans.append(parse_span(str(text)))
            except ValueError:
                p.add(f"schedule.{day}", f"{text!r} is not a span like 09:00-12:00")
        out.append(tuple(sorted(spans)))
    return tuple(out)


def _retry(value: object, p: _Problems) -> RetryPolicy:
    if not isinstance(value, Mapping):
        p.add("retry", "retry maps outcomes to minutes, plus max_attempts")
        return RetryPolicy()
    delays = dict(DEFAULT_RETRY_SECONDS)
    for key, minutes in value.items():
        if key == "max_attempts":
            continue
        if key not in set(Outcome):
            p.add(f"retry.{key}", f"unknown outcome (one of {', '.join(Outcome)})")
        elif isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            p.add(f"retry.{key}", "minutes must be a whole number of at least 1")
        else:
            delays[str(key)] = minutes * 60
    max_attempts = _int(value, "max_attempts", p)
    return RetryPolicy(delays, max_attempts)


def _dispositions(value: object, p: _Problems) -> tuple[Disposition, ...]:
    if value is None:
        return DEFAULT_DISPOSITIONS
    if not isinstance(value, list) or not value:
        p.add("dispositions", "dispositions must be a non-empty list")
        return DEFAULT_DISPOSITIONS
    out: list[Disposition] = []
    for i, raw in enumerate(value):
        where = f"dispositions[{i}]"
        if not isinstance(raw, Mapping) or not _CODE.match(str(raw.get("code", ""))):
            p.add(where, "each disposition needs a code of lower-case letters, digits, _")
            continue
        for key in raw:
            if str(key) not in DISPOSITION_KEYS:
                p.add(
                    f"{where}.{key}",
                    f"unknown disposition key (known: {', '.join(DISPOSITION_KEYS)})",
                )
        flags = {k: bool(raw.get(k, False)) for k in ("success", "callback", "do_not_call")}
        d = Disposition(
            code=str(raw["code"]),
            label=str(raw.get("label", raw["code"])),
            contact=bool(raw.get("contact", True)),
            final=bool(raw.get("final", flags["success"] or flags["do_not_call"])),
            **flags,
        )
        if d.callback and d.final:
            p.add(where, f"{d.code}: a callback code cannot be final")
        if d.do_not_call and not d.final:
            p.add(where, f"{d.code}: a do-not-call code must be final (rule 9)")
        if d.success and not d.contact:
            p.add(where, f"{d.code}: a success is a contact")
        if any(o.code == d.code for o in out):
            p.add(where, f"duplicate disposition code {d.code!r}")
        out.append(d)
    return tuple(out)


def _pause_reasons(value: object, p: _Problems) -> tuple[PauseReason, ...]:
    if value is None:
        return DEFAULT_PAUSE_REASONS
    if not isinstance(value, list) or not value:
        p.add("pause_reasons", "pause_reasons must be a non-empty list of code and label")
        return DEFAULT_PAUSE_REASONS
    out: list[PauseReason] = []
    for i, raw in enumerate(value):
        where = f"pause_reasons[{i}]"
        if not isinstance(raw, Mapping) or not _CODE.match(str(raw.get("code", ""))):
            p.add(where, "each pause reason needs a code of lower-case letters, digits, _")
            continue
        for key in raw:
            if str(key) not in PAUSE_REASON_KEYS:
                p.add(f"{where}.{key}", "unknown pause reason key (known: code, label)")
        reason = PauseReason(str(raw["code"]), str(raw.get("label", raw["code"]))[:64])
        if any(o.code == reason.code for o in out):
            p.add(where, f"duplicate pause reason code {reason.code!r}")
        out.append(reason)
    return tuple(out)


def spec_to_dict(spec: CampaignSpec) -> dict[str, object]:
    """The JSON/TOML form ``parse_campaign`` reads back unchanged."""
    return {
        "name": spec.name,
        "kind": spec.kind.value,
        "mode": spec.mode.value,
        "region": spec.region,
        "timezone": spec.timezone,
        "active_from": spec.active_from.isoformat() if spec.active_from else "",
        "active_until": spec.active_until.isoformat() if spec.active_until else "",
        "schedule": {
            d: [format_span(s) for s in spans] for d, spans in zip(DAYS, spec.schedule, strict=True)
        },
        "retry": {
            **{k: v // 60 for k, v in spec.retry.delays.items()},
            "max_attempts": spec.retry.max_attempts,
        },
        "caller_id": spec.caller_id,
        "script": spec.script,
        "dispositions": [
            {
                "code": d.code,
                "label": d.label,
                "contact": d.contact,
                "success": d.success,
                "callback": d.callback,
                "do_not_call": d.do_not_call,
                "final": d.final,
            }
            for d in spec.dispositions
        ],
        "callback_hours": format_span(spec.callback_hours),
        "callback_team_delay_minutes": spec.callback_team_delay_minutes,
        "return_visit_delay_days": spec.return_visit_delay_days,
        "survey": spec.survey,
        "webhook_url": spec.webhook_url,
        "safe_harbor_prompt": spec.safe_harbor_prompt,
        "purpose": spec.purpose or default_purpose(spec.kind),
        "dialing": dialing_to_dict(spec.dialing),
        "pause_reasons": [{"code": r.code, "label": r.label} for r in spec.pause_reasons],
    }


def ivr_transfer_allowed(spec: CampaignSpec) -> bool:
    """Can an agent hand this campaign's customers to the survey IVR?

    A satisfaction survey always can (its own survey, or the seeds' template); another
    kind only when a survey is attached to it (a return visit with its survey).
    """
    return spec.kind is Kind.SATISFACTION_SURVEY or bool(spec.survey)


def in_schedule(spec: CampaignSpec, now: datetime) -> bool:
    """Is the campaign inside its active dates and weekly schedule (campaign zone) at ``now``?

    Compliance windows still apply per number on top of this (rules 1, 33).
    """
    local = now.astimezone(ZoneInfo(spec.timezone))
    if spec.active_from and local.date() < spec.active_from:
        return False
    if spec.active_until and local.date() > spec.active_until:
        return False
    spans = spec.schedule[local.weekday()]
    if not any(spec.schedule):
        return True
    tod = local.hour * 3600 + local.minute * 60 + local.second
    return any(s <= tod < e for s, e in spans)


# --- scripts --------------------------------------------------------------------------------


def template_fields(template: str) -> list[str] | None:
    """The ``{field}`` names a script uses, or None when its braces are unbalanced."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError:
        return None


def render_script(template: str, record: Mapping[str, object]) -> tuple[str, list[str]]:
    """Fill ``{field}`` from a record; a missing or empty field shows as ``[missing: field]``."""
    out: list[str] = []
    missing: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = record.get(name)
        if value is None or value == "":
            missing.append(name)
            out.append(MISSING.format(name))
        else:
            out.append(str(value))
    return "".join(out), missing


# --- retries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryDecision:
    final: bool
    next_due_at: datetime | None
    reason: str  # "retry", "max_attempts", "not_retryable"


def retry_decision(
    policy: RetryPolicy, outcome: str, attempts: int, now: datetime
) -> RetryDecision:
    """After ``attempts`` dials (this one included) ended in ``outcome``: when to dial again."""
    delay = policy.delays.get(outcome)
    if delay is None:
        return RetryDecision(True, None, "not_retryable")
    if attempts >= policy.max_attempts:
        return RetryDecision(True, None, "max_attempts")
    return RetryDecision(False, now + timedelta(seconds=delay), "retry")
