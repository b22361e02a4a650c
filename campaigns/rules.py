"""Campaign rules, pure: definitions, retries, callbacks, order verdicts, webhook retries.

Nothing here reads the clock, sleeps or touches storage; every instant comes in as an aware
datetime and every answer is data (issue 7). Adapters (campaigns/store.py, callbacks.py,
orders.py, webhooks.py) persist and schedule what these functions decide.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.errors import CallbackRefused, CampaignInvalid, VerdictInvalid


class Kind(StrEnum):
    GENERIC = "generic"
    RETURN_VISIT = "return_visit"
    ORDER_VERIFICATION = "order_verification"
    SATISFACTION_SURVEY = "satisfaction_survey"


class Mode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"


class Outcome(StrEnum):
    """Dial outcomes that never reached a person; each may be retried."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"
    FAILURE = "failure"


#: issue 7 defaults: busy 10 min, no answer 1 h, machine 4 h, failure 30 min, 5 attempts
DEFAULT_RETRY_SECONDS: Mapping[str, int] = {
    Outcome.BUSY: 600,
    Outcome.NO_ANSWER: 3600,
    Outcome.MACHINE: 4 * 3600,
    Outcome.FAILURE: 1800,
}
DEFAULT_MAX_ATTEMPTS = 5
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: seconds of the local day, half-open [start, end) like compliance/windows.py (rule 1)
Span = tuple[int, int]
Weekly = tuple[tuple[Span, ...], ...]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
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
    webhook_url: str = ""  # order verification: where verdicts go
    safe_harbor_wav: str = ""  # rules 4, 20: the abandoned-call message (an uploaded prompt)

    def disposition(self, code: str) -> Disposition | None:
        return next((d for d in self.dispositions if d.code == code), None)


# --- campaign definition --------------------------------------------------------------------


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
    name = str(data.get("name", "")).strip()
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
        callback_team_delay_minutes=_int(data, "callback_team_delay_minutes", 15, 0, 10_080, p),
        return_visit_delay_days=_int(data, "return_visit_delay_days", 3, 0, 365, p),
        survey=str(data.get("survey", "")),
        webhook_url=str(data.get("webhook_url", "")),
        safe_harbor_wav=str(data.get("safe_harbor_wav", "")),
    )
    if spec.webhook_url and not re.match(r"^https?://", spec.webhook_url):
        p.add("webhook_url", "webhook_url must be an http(s) URL")
    if p.items:
        msg = "; ".join(f"{i['field']}: {i['message']}" for i in p.items)
        raise CampaignInvalid(f"campaign definition invalid: {msg}", problems=p.items)
    return spec


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


def _int(data: Mapping[str, object], key: str, default: int, lo: int, hi: int, p: _Problems) -> int:
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
    unknown = set(map(str, value)) - set(DAYS)
    if unknown:
        p.add("schedule", f"unknown day(s) {sorted(unknown)}; use {', '.join(DAYS)}")
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
    max_attempts = _int(value, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 50, p)
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
        "safe_harbor_wav": spec.safe_harbor_wav,
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


# --- callbacks ------------------------------------------------------------------------------

#: given candidate zones, a local window and an instant: the first legal instant >= it, or None
NextLegal = Callable[[Sequence[str], Span, datetime], datetime | None]


def next_legal_time(zones: Sequence[str], window: Span, at: datetime) -> datetime | None:
    """First instant >= ``at`` inside ``window`` local time in every zone (rule 33).

    An empty zone set or an unknown zone answers None (rule 32: block). Implemented here with
    zoneinfo until compliance/windows.py settles its API; same half-open window convention.
    """
    tzs: list[ZoneInfo] = []
    for key in zones:
        if not zone_ok(key) or key == "Etc/Unknown":
            return None
        tzs.append(ZoneInfo(key))
    if not tzs:
        return None
    u = at.astimezone(UTC)
    limit = u + timedelta(days=8)
    while u <= limit:
        blocker = next((tz for tz in tzs if not _inside(window, u.astimezone(tz))), None)
        if blocker is None:
            return u
        u = _next_opening(window, blocker, u)
    return None


def _inside(window: Span, local: datetime) -> bool:
    tod = local.hour * 3600 + local.minute * 60 + local.second
    return window[0] <= tod < window[1]


def _next_opening(window: Span, tz: ZoneInfo, after: datetime) -> datetime:
    day = after.astimezone(tz).date()
    for i in range(3):
        start = time(window[0] // 3600, window[0] % 3600 // 60)
        cand = datetime.combine(day + timedelta(days=i), start, tzinfo=tz).astimezone(UTC)
        if cand > after:
            return cand
    return after + timedelta(days=1)  # unreachable for a valid span; keeps the loop finite


@dataclass(frozen=True)
class CallbackPlan:
    due_at: datetime  # UTC
    customer_zone: str
    local_time: str  # as the customer asked, ISO without offset


def plan_callback(
    local_time: datetime,
    customer_zone: str,
    candidate_zones: Sequence[str],
    window: Span,
    now: datetime,
    legal: NextLegal = next_legal_time,
) -> CallbackPlan:
    """Turn a customer-local time into a due instant, or refuse with the next legal time.

    Requested callbacks still obey the hour rules (rules 1, 14-16, 35); every candidate zone of
    the number counts (rule 33), the customer's own zone among them.
    """
    if not zone_ok(customer_zone):
        raise CallbackRefused(f"unknown time zone {customer_zone!r}", field="zone")
    tz = ZoneInfo(customer_zone)
    naive = local_time.replace(tzinfo=None)
    due = naive.replace(tzinfo=tz).astimezone(UTC)
    if due.astimezone(tz).replace(tzinfo=None) != naive:
        raise CallbackRefused(f"{naive:%Y-%m-%d %H:%M} does not exist in {customer_zone} (DST)")
    if due <= now:
        raise CallbackRefused("that time has already passed", due_at=due.isoformat())
    zones = list(dict.fromkeys([customer_zone, *candidate_zones]))
    ok = legal(zones, window, due)
    if ok != due:
        nxt = ok.astimezone(tz).replace(tzinfo=None).isoformat() if ok else None
        hint = f"; the next legal time is {nxt} ({customer_zone})" if nxt else ""
        raise CallbackRefused(
            f"{naive:%Y-%m-%d %H:%M} is outside legal calling hours "
            f"{format_span(window)} in {', '.join(zones)}{hint}",
            next_legal=nxt,
            next_legal_utc=ok.isoformat() if ok else None,
        )
    return CallbackPlan(due, customer_zone, naive.isoformat(timespec="minutes"))


def moves_to_team(
    owner_kind: str, status: str, due_at: datetime, now: datetime, delay_min: int
) -> bool:
    """A personal callback still open ``delay_min`` minutes after it fell due goes to the team."""
    return (
        owner_kind == "agent"
        and status == "pending"
        and now >= due_at + timedelta(minutes=delay_min)
    )


# --- order verification ---------------------------------------------------------------------


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"


CHANGEABLE = ("lines", "address", "payment", "delivery_time", "customer_name", "phone")


@dataclass(frozen=True)
class VerdictRecord:
    verdict: Verdict
    changes: Mapping[str, object] = field(default_factory=dict)
    reason: str = ""

    def details(self) -> dict[str, object]:
        return {"changes": dict(self.changes), "reason": self.reason}


def parse_verdict(data: Mapping[str, object]) -> VerdictRecord:
    """confirmed / changed(changes: field -> new value) / cancelled(reason) / unreachable."""
    try:
        verdict = Verdict(str(data.get("verdict", "")))
    except ValueError as exc:
        raise VerdictInvalid(
            f"verdict must be one of {', '.join(Verdict)}", field="verdict"
        ) from exc
    changes = data.get("changes") or {}
    reason = str(data.get("reason", "") or "").strip()
    if not isinstance(changes, Mapping):
        raise VerdictInvalid("changes must map field names to new values", field="changes")
    if verdict is Verdict.CHANGED:
        if not changes:
            raise VerdictInvalid("a changed verdict names the fields that changed", field="changes")
        bad = sorted(set(map(str, changes)) - set(CHANGEABLE))
        if bad:
            raise VerdictInvalid(
                f"cannot change {bad}; changeable: {', '.join(CHANGEABLE)}", field="changes"
            )
    elif changes:
        raise VerdictInvalid("only a changed verdict carries changes", field="changes")
    if verdict is Verdict.CANCELLED and not reason:
        raise VerdictInvalid("a cancelled verdict needs a reason", field="reason")
    return VerdictRecord(verdict, {str(k): v for k, v in changes.items()}, reason)


def overdue(ship_by: datetime, verdict: str | None, now: datetime) -> bool:
    """Deadline passed without a verdict: the order becomes unreachable (issue 7)."""
    return verdict is None and now >= ship_by


# --- webhooks -------------------------------------------------------------------------------

WEBHOOK_BASE_SECONDS = 30
WEBHOOK_CAP_SECONDS = 3600
WEBHOOK_GIVE_UP = timedelta(hours=24)


def webhook_retry_at(
    attempts: int, first_at: datetime, now: datetime, jitter: float
) -> datetime | None:
    """After ``attempts`` failed tries: the next try, or None (dead letter) past 24 h.

    Exponential backoff 30 s, 60 s, ... capped at 1 h, with "equal jitter": half the delay is
    fixed and half scales with ``jitter`` in [0, 1), so receivers are not hit in lockstep.
    """
    base = min(WEBHOOK_BASE_SECONDS * 2 ** max(attempts - 1, 0), WEBHOOK_CAP_SECONDS)
    j = min(max(jitter, 0.0), 1.0)
    nxt = now + timedelta(seconds=base / 2 + j * base / 2)
    if nxt > first_at + WEBHOOK_GIVE_UP:
        return None
    return nxt
