"""The dial decision: ``check(request, context, now) -> Decision`` (rules 1-36).

Pure: the adapter reads storage (DNC entries, registry lookups, consent records, attempt
history, abandon gauges) into a ``Context`` and passes the instant. Every check runs, so a
decision lists every reason; the strictest wins, and any lookup the adapter could not make
(a ``None`` field, an unknown zone, a missing registry snapshot or gauge) blocks.

Reasons carry a rule code (``rule-1``, ``rule-33``, ...) and a rule 36 category.
``next_allowed_at`` is when the call becomes allowed if nothing else changes; it is ``None``
when time alone cannot heal the block (DNC, consent, stale registry, abandon gate, failed
lookup) or no opening exists within the horizon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from campaigns.dialing import DialingMode
from compliance.caps import Attempt, CapBlock, Slot, check_cooldowns, check_slots, slots_for
from compliance.errors import NaiveTimeError, PolicyLooserError
from compliance.gauges import AbandonReading
from compliance.numbers import LineType, candidate_zones, is_e164
from compliance.profiles import (
    LAWFUL_BASES,
    CampaignPolicy,
    ConsentRule,
    ConsentWhen,
    Effective,
    Profile,
    Purpose,
    Ruleset,
    combine,
    validate_policy,
)
from compliance.windows import evaluate, local_times, next_allowed


class Category(StrEnum):
    """Decision categories of the audit trail (rule 36)."""

    BLOCK_HOURS = "BLOCK_HOURS"
    DNC = "DNC"
    CONSENT = "CONSENT"
    CAP = "CAP"
    HOLIDAY = "HOLIDAY"
    ABANDON_GATE = "ABANDON_GATE"


Mode = DialingMode  # the one dialing-mode enum (campaigns/dialing.py, issue 11.6)


#: modes that can leave a live answer without an agent (rules 2-4, 18, 20, 21)
CAN_ABANDON = frozenset({Mode.PREDICTIVE, Mode.AGENTLESS})


def agent_guaranteed(mode: Mode, agent_reserved: bool) -> bool:
    """Preview, or progressive with the agent reserved (rule 21)."""
    return mode is Mode.PREVIEW or (mode is Mode.PROGRESSIVE and agent_reserved)


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ConsentRecord:
    """A consent event (rules 9, 10, 26, 30). ``seller=None`` covers every seller;
    ``scope`` holds purposes (``"*"`` = any); ``written`` marks PEWC (rule 10)."""

    number: str
    seller: str | None
    status: ConsentStatus
    at: datetime
    scope: frozenset[str] = frozenset({"*"})
    written: bool = False
    expires_at: datetime | None = None
    evidence: str = ""
    record_id: str | None = None


@dataclass(frozen=True)
class DncEntry:
    """An internal do-not-call entry; ``seller=None`` suppresses for every seller (rule 8)."""

    number: str
    seller: str | None
    captured_at: datetime
    source: str = ""


@dataclass(frozen=True)
class Request:
    number: str
    campaign_id: str
    campaign_kind: str  # "telemarketing", "collections", "informational", ...
    mode: Mode
    seller: str
    subject: str | None = None
    automated: bool = False
    telemarketing: bool = True
    line_type: LineType | None = None  # None = unknown, treated as mobile
    address_zone: str | None = None
    address_state: str | None = None
    zones: tuple[str, ...] | None = None  # from the contact row; derived here if None
    agent_reserved: bool = False
    purpose: str | None = None  # consent scope needed; defaults to campaign_kind
    #: the campaign's purpose (issue 16); None: marketing if telemarketing, else service
    call_purpose: Purpose | None = None
    #: bases the record carries besides a consent grant: its list's, stated by the uploader
    lawful_bases: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Context:
    """What the adapter feeds in. ``None`` means the lookup failed, which blocks."""

    rulesets: tuple[Ruleset, ...]
    policy: CampaignPolicy | None = None
    internal_dnc: tuple[DncEntry, ...] | None = ()
    registry_snapshots: Mapping[str, date] = field(default_factory=dict)
    registry_hits: frozenset[str] | None = frozenset()
    consents: tuple[ConsentRecord, ...] | None = ()
    attempts: tuple[Attempt, ...] | None = ()
    abandon: Mapping[str, AbandonReading] | None = None


@dataclass(frozen=True)
class Reason:
    rule: str
    category: Category
    detail: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: datetime | None
    zones: tuple[str, ...]
    ruleset_version: str
    at: datetime  # the dial instant the decision was made for
    slots: tuple[Slot, ...] = ()  # the adapter takes these atomically before originate

    @property
    def local_times(self) -> tuple[tuple[str, str], ...]:
        """(zone, ISO local time) of the dial instant per zone; computed on demand (rule 36)."""
        return local_times(self.zones, self.at)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for the CLI and the audit row (rule 36)."""
        return {
            "allowed": self.allowed,
            "reasons": [
                {"rule": r.rule, "category": str(r.category), "detail": r.detail}
                for r in self.reasons
            ],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "zones": list(self.zones),
            "local_times": {z: t for z, t in self.local_times},
            "ruleset_version": self.ruleset_version,
            "slots": [[s.key, s.window_s, s.limit] for s in self.slots],
        }


@lru_cache(maxsize=4096)
def _effective(
    rulesets: tuple[Ruleset, ...], policy: CampaignPolicy | None, states: tuple[str | None, ...]
) -> Effective:
    profiles: tuple[Profile, ...] = tuple(p for r in rulesets for p in r.profiles_for(*states))
    return combine(profiles, policy)


def effective_for(request: Request, context: Context) -> Effective:
    """Profiles for this number: base profiles plus area-code and address states (rule 14)."""
    states = (*(r.state_of(request.number) for r in context.rulesets), request.address_state)
    return _effective(context.rulesets, context.policy, states)


def _zones(request: Request, eff: Effective) -> tuple[str, ...]:
    """Union of the number's zones, the address zone and the applicable states' zones
    (rule 32 (a)-(c))."""
    zones = request.zones
    if zones is None:
        zones = candidate_zones(request.number, request.address_zone)
    extra = [z for z in (request.address_zone, *eff.zones) if z and z not in zones]
    return (*zones, *dict.fromkeys(extra)) if extra else zones


def check(request: Request, context: Context, now: datetime) -> Decision:
    """Decide one dial at ``now`` (aware). See the module docstring for the contract."""
    if now.utcoffset() is None:
        raise NaiveTimeError("check() needs an aware datetime", at=now.isoformat())
    eff = effective_for(request, context)
    zones = _zones(request, eff)
    timed: list[Reason] = []  # blocks that end by themselves (hours, caps, cool-downs)
    hard: list[Reason] = []  # blocks time cannot heal
    if not is_e164(request.number):
        hard.append(Reason("rule-32", Category.BLOCK_HOURS, "number is not E.164"))
    win = evaluate(eff.hours, zones, now)
    # an unknown zone (rule 32) or an empty zone set (rule 33) cannot heal by waiting
    zones_known = bool(zones) and not any(b.rule == "rule-32" for b in win.blocks)
    for b in win.blocks:
        cat = Category.HOLIDAY if b.holiday else Category.BLOCK_HOURS
        reason = Reason(b.rule, cat, ",".join(b.zones))
        (timed if zones_known else hard).append(reason)
    hard += _dnc(request, context)
    hard += _registry(request, context, eff, now)
    hard += _consent(request, context, eff, now)
    hard += _abandon(request, context, eff)
    slots = slots_for(
        eff.caps, request.number, request.seller, request.subject, request.campaign_kind
    )
    free_at = now
    if context.attempts is None:
        hard.append(Reason("rule-34", Category.CAP, "attempt history unavailable"))
    else:
        for cb in _cap_blocks(request, context.attempts, eff, slots, zones, now):
            reason = Reason(cb.rule, Category.CAP, cb.detail)
            if cb.free_at is None:
                hard.append(reason)
            else:
                timed.append(reason)
                free_at = max(free_at, cb.free_at)
    reasons = tuple(dict.fromkeys([*timed, *hard]))
    nxt: datetime | None = None
    if not reasons:
        nxt = now
    elif not hard:
        nxt = next_allowed(eff.hours, zones, free_at)
        deadline = _valid_until(request, context, eff, now)
        if nxt is not None and deadline is not None and nxt >= deadline:
            nxt = None  # by then the registry copy is stale or the consent has expired
    return Decision(not reasons, reasons, nxt, zones, eff.version, now, slots)


def _cap_blocks(
    request: Request,
    attempts: tuple[Attempt, ...],
    eff: Effective,
    slots: tuple[Slot, ...],
    zones: tuple[str, ...],
    now: datetime,
) -> list[CapBlock]:
    """Full rolling-window slots (rules 13-16, 29, 34) and running cool-downs (13, 21)."""
    blocks = (
        check_slots(slots, attempts, request.number, request.seller, request.subject, now)
        if attempts
        else []
    )
    if attempts:
        blocks += check_cooldowns(
            eff.cooldowns,
            attempts,
            number=request.number,
            seller=request.seller,
            subject=request.subject,
            campaign_kind=request.campaign_kind,
            agent_guaranteed=agent_guaranteed(request.mode, request.agent_reserved),
            zones=zones,
            now=now,
        )
    return blocks


def _dnc(request: Request, context: Context) -> list[Reason]:
    """Internal DNC suppresses every call of the seller from the moment of capture (rule 8)."""
    if context.internal_dnc is None:
        return [Reason("rule-8", Category.DNC, "internal DNC lookup failed")]
    for e in context.internal_dnc:
        if e.number == request.number and (e.seller is None or e.seller == request.seller):
            return [Reason("rule-8", Category.DNC, f"internal DNC since {e.captured_at}")]
    return []


def _registry(request: Request, context: Context, eff: Effective, now: datetime) -> list[Reason]:
    """Registry scrub for telemarketing (rules 7, 24): stale snapshot or a hit blocks."""
    if not request.telemarketing or not eff.registries:
        return []
    out: list[Reason] = []
    today = now.astimezone(UTC).date()
    for reg in eff.registries:
        snap = context.registry_snapshots.get(reg.name)
        if snap is None:
            out.append(Reason(reg.rule, Category.DNC, f"no {reg.name} snapshot"))
        elif (today - snap).days > reg.max_age_days:
            out.append(Reason(reg.rule, Category.DNC, f"{reg.name} snapshot {snap} is stale"))
        elif context.registry_hits is None:
            out.append(Reason(reg.rule, Category.DNC, f"{reg.name} lookup failed"))
        elif reg.name in context.registry_hits and _grant(request, context, now) is None:
            out.append(Reason(reg.rule, Category.DNC, f"on {reg.name} (snapshot {snap})"))
    return out


def _valid_until(
    request: Request, context: Context, eff: Effective, now: datetime
) -> datetime | None:
    """When today's allow-reasons run out by themselves: the registry copy turns stale
    (rules 7, 24) or the consent relied on expires."""
    ends: list[datetime] = []
    if request.telemarketing:
        for reg in eff.registries:
            snap = context.registry_snapshots.get(reg.name)
            if snap is not None:
                stale = snap + timedelta(days=reg.max_age_days + 1)
                ends.append(datetime(stale.year, stale.month, stale.day, tzinfo=UTC))
    grant = _grant(request, context, now)
    if grant is not None and grant.expires_at is not None:
        ends.append(grant.expires_at)
    return min(ends) if ends else None


def _grant(request: Request, context: Context, now: datetime) -> ConsentRecord | None:
    """The live grant covering this purpose, unless a later refusal/revocation ended it."""
    if not context.consents:
        return None
    purpose = request.purpose or request.campaign_kind
    best: ConsentRecord | None = None
    last_objection: datetime | None = None
    for c in context.consents:
        if c.number != request.number or c.seller not in (None, request.seller):
            continue
        if c.status is ConsentStatus.GRANTED:
            if c.at > now or (c.expires_at is not None and c.expires_at <= now):
                continue
            in_scope = "*" in c.scope or purpose in c.scope
            if in_scope and (best is None or c.at > best.at):
                best = c
        elif last_objection is None or c.at > last_objection:
            last_objection = c.at
    if best is not None and last_objection is not None and last_objection >= best.at:
        return None  # rule 9: refusal or revocation ends consent at once
    return best


def _objected(request: Request, context: Context, now: datetime) -> bool:
    objected = any(
        c.number == request.number
        and c.seller in (None, request.seller)
        and c.status is not ConsentStatus.GRANTED
        for c in context.consents or ()
    )
    return objected and _grant(request, context, now) is None


def _needs(rule: ConsentRule, request: Request) -> bool:
    when = rule.when
    if when is ConsentWhen.ALWAYS:
        return True
    if not request.automated:
        return False
    if when is ConsentWhen.AUTOMATED_MOBILE:
        return request.line_type is not LineType.FIXED  # unknown counts as mobile
    if when is ConsentWhen.AUTOMATED_TELEMARKETING:
        return request.telemarketing
    return True  # AUTOMATED


def _consent(request: Request, context: Context, eff: Effective, now: datetime) -> list[Reason]:
    """Objections always block (rules 9, 24, 26, 31); some profiles need a grant (10, 26)."""
    if context.consents is None:
        return [
            Reason(
                eff.objection_rules[0] if eff.objection_rules else "rule-9",
                Category.CONSENT,
                "consent lookup failed",
            )
        ]
    out: list[Reason] = []
    objected = _objected(request, context, now)
    if objected:
        out += [Reason(r, Category.CONSENT, "refused or revoked") for r in eff.objection_rules]
    grant = _grant(request, context, now)
    purpose = call_purpose(request)
    for rule in eff.consent:
        if not _needs(rule, request):
            continue
        accepted = rule.accepts(purpose)
        if accepted is not None:  # rule 26: which bases do depends on the call's purpose
            have = request.lawful_bases | ({"consent"} if grant is not None else frozenset())
            if not objected and not have & accepted:  # a refusal is reason enough
                out.append(Reason(rule.rule, Category.CONSENT, missing_basis(purpose, accepted)))
            continue
        if grant is None:
            out.append(Reason(rule.rule, Category.CONSENT, "no consent in scope"))
        elif rule.written_if_telemarketing and request.telemarketing and not grant.written:
            out.append(Reason(rule.rule, Category.CONSENT, "written consent required"))
    return out


def call_purpose(request: Request) -> Purpose:
    if request.call_purpose is not None:
        return request.call_purpose
    return Purpose.MARKETING if request.telemarketing else Purpose.SERVICE


#: how to record each basis, for the message of a blocked record (issue 16)
HOW_TO_RECORD = {
    "consent": "record consent with `outdial consent add NUMBER --evidence TEXT`, "
    "`outdial consent import FILE` or a 同意/consent column in the list",
    "contract": "import the list with `--lawful-basis contract`",
}


def missing_basis(purpose: Purpose, accepted: frozenset[str]) -> str:
    """``no lawful basis for a marketing call (needs consent or request): record ...``"""
    names = [b for b in LAWFUL_BASES if b in accepted]
    how = "; or ".join(HOW_TO_RECORD[b] for b in ("contract", "consent") if b in accepted)
    needs = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f"no lawful basis for a {purpose.value} call (needs {needs})" + (
        f": {how}" if how else ""
    )


def _abandon(request: Request, context: Context, eff: Effective) -> list[Reason]:
    """Abandon gate (rules 2, 18): modes that can abandon stop at the cap on any gauge."""
    if request.mode not in CAN_ABANDON and not (
        request.mode is Mode.PROGRESSIVE and not request.agent_reserved
    ):
        return []
    out: list[Reason] = []
    cap = eff.abandon_cap
    for a in eff.abandon:
        for g in a.gauges:
            reading = context.abandon.get(g) if context.abandon is not None else None
            if reading is None:
                out.append(Reason(a.rule, Category.ABANDON_GATE, f"no {g} reading"))
            elif reading.rate >= cap:
                out.append(
                    Reason(a.rule, Category.ABANDON_GATE, f"{g} {reading.rate:.2%} >= {cap:.2%}")
                )
    return out


@dataclass(frozen=True)
class Summary:
    """Pre-launch preview counts: dialable now, later (by ``until``), blocked by reason."""

    now: int
    later: int
    blocked: int
    by_reason: Mapping[str, int]


def summarize(decisions: Iterable[Decision], until: datetime) -> Summary:
    """Count decisions for ``outdial compliance preview`` (each reason counted once per row)."""
    now = later = blocked = 0
    by_reason: dict[str, int] = {}
    for d in decisions:
        if d.allowed:
            now += 1
            continue
        if d.next_allowed_at is not None and d.next_allowed_at <= until:
            later += 1
        else:
            blocked += 1
        for code in {f"{r.rule}:{r.category}" for r in d.reasons}:
            by_reason[code] = by_reason.get(code, 0) + 1
    return Summary(now, later, blocked, by_reason)


# --- launch checks --------------------------------------------------------------------------

ANONYMOUS = frozenset({"", "anonymous", "private", "restricted", "unknown", "unavailable"})
_CLI_RULES = {"us": "rule-11", "uk": "rule-23", "cn": "rule-27"}
_RING_RULES = {"us": "rule-5", "uk": "rule-22"}
_MESSAGE_RULES = {"us": "rule-4", "uk": "rule-20"}


@dataclass(frozen=True)
class CampaignSettings:
    caller_id: str | None
    owned_numbers: frozenset[str]
    mode: Mode
    ring_timeout_s: float | None
    safe_harbor_recording: str | None = None
    agent_reserved: bool = False
    jurisdictions: tuple[str, ...] = ("us", "uk", "cn")
    policy: CampaignPolicy | None = None
    profiles: tuple[Profile, ...] = ()


@dataclass(frozen=True)
class Problem:
    rules: tuple[str, ...]
    field: str
    message: str


def _codes(table: Mapping[str, str], jurisdictions: tuple[str, ...]) -> tuple[str, ...]:
    picked = tuple(table[j] for j in jurisdictions if j in table)
    return picked or tuple(table.values())


def launch_checks(s: CampaignSettings) -> list[Problem]:
    """Problems that stop a campaign from starting (rules 4, 5, 11, 20, 22, 23, 27)."""
    out: list[Problem] = []
    cli_rules = _codes(_CLI_RULES, s.jurisdictions)
    cli = (s.caller_id or "").strip()
    if cli.lower() in ANONYMOUS:
        out.append(Problem(cli_rules, "caller_id", "caller ID missing or anonymous"))
    elif not is_e164(cli):
        out.append(Problem(cli_rules, "caller_id", f"caller ID {cli!r} is not E.164"))
    elif cli not in s.owned_numbers:
        out.append(Problem(cli_rules, "caller_id", f"caller ID {cli} is not company-owned"))
    if s.ring_timeout_s is None or s.ring_timeout_s < 15:
        out.append(
            Problem(
                _codes(_RING_RULES, s.jurisdictions),
                "ring_timeout_s",
                "ring timeout must be at least 15 s",
            )
        )
    can_abandon = s.mode in CAN_ABANDON or (s.mode is Mode.PROGRESSIVE and not s.agent_reserved)
    if can_abandon and not s.safe_harbor_recording:
        out.append(
            Problem(
                _codes(_MESSAGE_RULES, s.jurisdictions),
                "safe_harbor_prompt",
                f"{s.mode} mode can abandon: a safe-harbor recording is required (upload one "
                "with `outdial prompts add FILE --campaign NAME --name safe_harbor` and set "
                'safe_harbor_prompt = "safe_harbor" in the definition)',
            )
        )
    if s.policy is not None:
        try:
            validate_policy(s.policy, s.profiles)
        except PolicyLooserError as exc:
            rule = {"hours": "rule-1", "abandon_cap": "rule-2"}.get(exc.field, "rule-34")
            out.append(Problem((rule,), exc.field, exc.message))
    return out
