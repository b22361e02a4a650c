"""Jurisdiction profiles (versioned data files) and the campaign policy laid over them.

A profile file (``compliance/profiles/<id>.json``) holds one base profile and, for the US,
state profiles chosen by the number's area code or the contact's address state (rules
14-17). Every rule a profile carries cites its rule number, so a decision can be explained.

Combining: ``combine`` intersects windows, keeps every cap, cool-down, consent and registry
rule, and takes the lowest abandon cap; nothing a profile forbids can become allowed
(the strictest applicable rule wins).

Campaign policy choice: a campaign may only be stricter. ``combine`` *clamps* silently (a
looser campaign setting simply has no effect, so a bad setting can never cause an unlawful
dial), and ``validate_policy`` *raises* ``PolicyLooserError`` naming the field; the campaign
save/launch path calls it (``decision.launch_checks`` reports it as a problem).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from compliance.caps import CapRule, CooldownRule, KeyKind, Outcome
from compliance.errors import PolicyLooserError, ProfileError
from compliance.windows import (
    HolidayCalendar,
    HoursRule,
    WeeklyWindows,
    Window,
    daily,
    hhmm,
    within,
    zone,
)

PROFILE_DIR = Path(__file__).with_name("profiles")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConsentWhen(StrEnum):
    ALWAYS = "always"  # rule 26 (CN)
    AUTOMATED = "automated"  # rules 14-16 (FL, OK, MD)
    AUTOMATED_MOBILE = "automated_mobile"  # rule 10 (US wireless)
    AUTOMATED_TELEMARKETING = "automated_telemarketing"  # rule 24 (UK recorded marketing)


class Purpose(StrEnum):
    """Why a campaign calls (issue 16): rule 26 concerns commercial calls only; an order
    verification or a return visit to one's own customer rests on the contract."""

    SERVICE = "service"
    MARKETING = "marketing"


#: lawful bases a contact may carry (rules 26, 30, 31; PIPL art. 13, GDPR art. 6(1))
LAWFUL_BASES = ("consent", "contract", "request", "legitimate_interest", "legal_obligation")


@dataclass(frozen=True)
class ConsentRule:
    rule: str
    when: ConsentWhen
    written_if_telemarketing: bool = False  # PEWC (rule 10)
    #: per call purpose, the lawful bases that satisfy this rule (rule 26: a commercial call
    #: needs consent or the person's request; a service call may rest on the contract).
    #: Empty: only a live consent grant does (rules 10, 24).
    bases: tuple[tuple[Purpose, frozenset[str]], ...] = ()

    def accepts(self, purpose: Purpose) -> frozenset[str] | None:
        """The bases accepted for ``purpose``; None when the rule knows no bases."""
        if not self.bases:
            return None
        return next((b for p, b in self.bases if p is purpose), frozenset())


@dataclass(frozen=True)
class RegistryRule:
    """Scrub against ``name``; a snapshot older than ``max_age_days`` blocks telemarketing."""

    rule: str
    name: str
    max_age_days: int


@dataclass(frozen=True)
class AbandonRule:
    rule: str
    cap: float
    target: float
    gauges: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Profile:
    id: str
    version: str
    hours: HoursRule
    caps: tuple[CapRule, ...] = ()
    cooldowns: tuple[CooldownRule, ...] = ()
    consent: tuple[ConsentRule, ...] = ()
    registry: RegistryRule | None = None
    abandon: AbandonRule | None = None
    objection_rule: str = "rule-9"  # refusal / revocation / objection ends contact at once
    #: zones of the jurisdiction, added to the number's candidates when the profile applies
    #: (rule 32 (c)): e.g. Florida's 850 area code spans Eastern and Central time, while
    #: libphonenumber answers only America/New_York for it
    zones: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Ruleset:
    """One profile file: a base profile, state profiles and the area-code table."""

    id: str
    version: str
    base: Profile
    states: Mapping[str, Profile]
    area_codes: Mapping[int, str]

    def state_of(self, e164: str) -> str | None:
        """Area-code state of a NANP number (rules 14-16 presume residence by area code)."""
        if len(e164) == 12 and e164[:2] == "+1":
            return self._npa.get(e164[2:5])
        return None

    @cached_property
    def _npa(self) -> dict[str, str]:
        return {str(k): v for k, v in self.area_codes.items()}

    def profiles_for(self, *states: str | None) -> tuple[Profile, ...]:
        extra = [self.states[s] for s in dict.fromkeys(states) if s and s in self.states]
        return (self.base, *extra)


@dataclass(frozen=True, eq=False)
class CampaignPolicy:
    """A campaign's own settings; may only tighten its profiles (see module docstring)."""

    version: str = "campaign-default"
    hours: WeeklyWindows | None = None
    holidays: HolidayCalendar | None = None
    caps: tuple[CapRule, ...] = ()
    abandon_cap: float | None = None
    require_consent: bool = False


@dataclass(frozen=True, eq=False)
class Effective:
    """Everything ``decision.check`` applies, combined from profiles and the campaign."""

    profiles: tuple[Profile, ...]
    hours: tuple[HoursRule, ...]
    caps: tuple[CapRule, ...]
    cooldowns: tuple[CooldownRule, ...]
    consent: tuple[ConsentRule, ...]
    registries: tuple[RegistryRule, ...]
    abandon: tuple[AbandonRule, ...]
    objection_rules: tuple[str, ...]
    version: str
    zones: tuple[str, ...] = ()

    @cached_property
    def abandon_cap(self) -> float:
        """The lowest abandon cap of all profiles and the campaign (rules 2, 18)."""
        return min((a.cap for a in self.abandon), default=1.0)


def combine(profiles: tuple[Profile, ...], policy: CampaignPolicy | None) -> Effective:
    """The strictest combination: every profile's rules plus the campaign's tighter ones."""
    hours = [p.hours for p in profiles]
    caps = [c for p in profiles for c in p.caps]
    consent = [c for p in profiles for c in p.consent]
    abandon = [p.abandon for p in profiles if p.abandon is not None]
    versions = [p.version for p in profiles]
    if policy is not None:
        versions.append(policy.version)
        if policy.hours is not None or policy.holidays is not None:
            weekly = policy.hours if policy.hours is not None else daily(0, 86_400)
            hours.append(HoursRule("campaign-hours", weekly, policy.holidays))
        caps.extend(policy.caps)
        if policy.abandon_cap is not None:
            gauges = tuple(g for a in abandon for g in a.gauges) or ("us-rolling-30d",)
            abandon.append(AbandonRule("campaign-abandon", policy.abandon_cap, 0.0, gauges))
        if policy.require_consent:
            consent.append(ConsentRule("campaign-consent", ConsentWhen.ALWAYS))
    return Effective(
        profiles=profiles,
        hours=tuple(hours),
        caps=tuple(caps),
        cooldowns=tuple(c for p in profiles for c in p.cooldowns),
        consent=tuple(consent),
        registries=tuple(p.registry for p in profiles if p.registry is not None),
        abandon=tuple(abandon),
        objection_rules=tuple(dict.fromkeys(p.objection_rule for p in profiles)),
        version="+".join(dict.fromkeys(versions)),
        zones=tuple(dict.fromkeys(z for p in profiles for z in p.zones)),
    )


def validate_policy(policy: CampaignPolicy, profiles: tuple[Profile, ...]) -> None:
    """Raise ``PolicyLooserError`` naming the first campaign field looser than a profile."""
    for p in profiles:
        if policy.hours is not None and not within(policy.hours, p.hours.weekly):
            raise PolicyLooserError(
                f"campaign hours are wider than profile {p.id}", field="hours", profile=p.id
            )
        if p.abandon and policy.abandon_cap is not None and policy.abandon_cap > p.abandon.cap:
            raise PolicyLooserError(
                f"abandon cap {policy.abandon_cap} above {p.id}'s {p.abandon.cap}",
                field="abandon_cap",
                profile=p.id,
            )
        for c in policy.caps:
            for pc in p.caps:
                if pc.key == c.key and pc.window_s == c.window_s and c.limit > pc.limit:
                    raise PolicyLooserError(
                        f"cap {c.limit} per {c.window_s} s on {c.key} above {p.id}'s {pc.limit}",
                        field="caps",
                        profile=p.id,
                    )


# --- loading -------------------------------------------------------------------------------


class _Reader:
    """Typed access to a JSON dict that raises ``ProfileError`` naming the dotted field."""

    def __init__(self, data: Any, path: str, profile: str) -> None:
        if not isinstance(data, dict):
            raise ProfileError("expected an object", field=path or "<root>", profile=profile)
        self.data: dict[str, Any] = data
        self.path = path
        self.profile = profile

    def fail(self, key: str, message: str) -> ProfileError:
        return ProfileError(message, field=self._at(key), profile=self.profile)

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"expected {kind.__name__}")
        return value

    def sub(self, key: str) -> _Reader:
        return _Reader(self.data.get(key), self._at(key), self.profile)

    def items(self, key: str) -> list[_Reader]:
        xs = self.get(key, list, [])
        return [_Reader(x, f"{self._at(key)}[{i}]", self.profile) for i, x in enumerate(xs)]

    def rule(self) -> str:
        code: str = self.get("rule", str)
        # rule-N cites shared/compliance-rules.md; other codes name [U] defaults with no rule
        if not code or not all(ch.isalnum() or ch == "-" for ch in code):
            raise self.fail("rule", "must look like 'rule-N' or 'default-...'")
        return code

    def enum(self, key: str, kind: type[StrEnum], default: Any = ...) -> Any:
        raw = self.get(key, str, default)
        try:
            return kind(raw)
        except ValueError:
            raise self.fail(key, f"unknown value {raw!r}") from None


def _bases(c: _Reader) -> tuple[tuple[Purpose, frozenset[str]], ...]:
    """``"bases": {"service": ["consent", "contract"], "marketing": ["consent"]}``."""
    raw = c.get("bases", dict, {})
    out: list[tuple[Purpose, frozenset[str]]] = []
    for purpose, bases in raw.items():
        try:
            p = Purpose(purpose)
        except ValueError:
            raise c.fail("bases", f"unknown purpose {purpose!r}") from None
        if not isinstance(bases, list) or not set(bases) <= set(LAWFUL_BASES):
            raise c.fail(f"bases.{purpose}", f"expected a list of {', '.join(LAWFUL_BASES)}")
        out.append((p, frozenset(bases)))
    return tuple(out)


def _window(r: _Reader, key: str, raw: Any) -> Window | None:
    if raw is None:
        return None
    try:
        if not (isinstance(raw, list) and len(raw) == 2):
            raise ValueError
        lo, hi = hhmm(raw[0]), hhmm(raw[1])
    except (ValueError, TypeError, AttributeError):
        raise r.fail(key, 'expected ["HH:MM", "HH:MM"] or null') from None
    if not 0 <= lo < hi <= 86_400:
        raise r.fail(key, "window must satisfy 00:00 <= start < end <= 24:00")
    return (lo, hi)


def _hours(r: _Reader) -> HoursRule:
    h = r.sub("hours")
    base = _window(h, "window", h.get("window", list))
    days: list[Window | None] = [base] * 7
    overrides = h.get("days", dict, {})
    for name, raw in overrides.items():
        if name not in DAYS:
            raise h.fail(f"days.{name}", "unknown weekday")
        days[DAYS.index(name)] = _window(h, f"days.{name}", raw)
    weekly: WeeklyWindows = (days[0], days[1], days[2], days[3], days[4], days[5], days[6])
    return HoursRule(h.rule(), weekly, _holidays(r.sub("holidays")) if r.has("holidays") else None)


def _holidays(h: _Reader) -> HolidayCalendar:
    extra: list[tuple[date, Window | None]] = []
    for day, raw in h.get("extra", dict, {}).items():
        try:
            d = date.fromisoformat(day)
        except ValueError:
            raise h.fail(f"extra.{day}", "expected an ISO date") from None
        extra.append((d, _window(h, f"extra.{day}", raw)))
    return HolidayCalendar(
        rule=h.rule(),
        country=h.get("calendar", str, None),
        subdiv=h.get("subdiv", str, None),
        observed=h.get("observed", bool, True),
        window=_window(h, "window", h.data.get("window")),
        extra=tuple(extra),
    )


def _kinds(r: _Reader) -> frozenset[str]:
    return frozenset(str(k) for k in r.get("campaign_kinds", list, []))


def _positive(r: _Reader, key: str, kind: type) -> Any:
    v = r.get(key, kind)
    if v <= 0:
        raise r.fail(key, "must be positive")
    return v


def _profile(r: _Reader, pid: str, version: str) -> Profile:
    caps = tuple(
        CapRule(
            c.rule(),
            c.enum("key", KeyKind),
            int(_positive(c, "window_hours", int)) * 3600,
            _positive(c, "limit", int),
            _kinds(c),
        )
        for c in r.items("caps")
    )
    cooldowns = []
    for c in r.items("cooldowns"):
        hours, days = c.get("hours", int, None), c.get("local_days", int, None)
        if (hours is None) == (days is None):
            raise c.fail("hours", "give exactly one of hours / local_days")
        cooldowns.append(
            CooldownRule(
                c.rule(),
                c.enum("after", Outcome),
                c.enum("key", KeyKind, "number"),
                hours,
                days,
                c.get("exempt_if_agent_guaranteed", bool, False),
                _kinds(c),
            )
        )
    consent = tuple(
        ConsentRule(
            c.rule(),
            c.enum("when", ConsentWhen),
            c.get("written_if_telemarketing", bool, False),
            _bases(c),
        )
        for c in r.items("consent")
    )
    registry = None
    if r.has("registry"):
        g = r.sub("registry")
        registry = RegistryRule(g.rule(), g.get("name", str), _positive(g, "max_age_days", int))
    abandon = None
    if r.has("abandon"):
        a = r.sub("abandon")
        cap, target = a.get("cap", float), a.get("target", float)
        if not 0 < target <= cap <= 1:
            raise a.fail("cap", "need 0 < target <= cap <= 1")
        abandon = AbandonRule(a.rule(), cap, target, tuple(a.get("gauges", list)))
    return Profile(
        id=pid,
        version=version,
        hours=_hours(r),
        caps=caps,
        cooldowns=tuple(cooldowns),
        consent=consent,
        registry=registry,
        abandon=abandon,
        objection_rule=r.get("objection_rule", str, "rule-9"),
        zones=_zone_list(r),
    )


def _zone_list(r: _Reader) -> tuple[str, ...]:
    out: list[str] = []
    for i, key in enumerate(r.get("zones", list, [])):
        if not isinstance(key, str) or zone(key) is None:
            raise r.fail(f"zones[{i}]", "not an IANA time zone")
        out.append(key)
    return tuple(out)


def parse_ruleset(data: Any, source: str = "<dict>") -> Ruleset:
    """Validate a profile file's content; raises ``ProfileError`` naming the bad field."""
    top = _Reader(data, "", source)
    rid, version = top.get("id", str), top.get("version", str)
    top.profile = rid
    base = _profile(top.sub("profile"), rid, version)
    states: dict[str, Profile] = {}
    for code in top.get("states", dict, {}):
        s = top.sub("states").sub(code)
        if s.get("enabled", bool, True):
            states[code] = _profile(s, f"{rid}-{code.lower()}", version)
    area: dict[int, str] = {}
    for code, npas in top.get("area_codes", dict, {}).items():
        for i, npa in enumerate(npas):
            if not isinstance(npa, int) or not 200 <= npa <= 999:
                raise top.fail(f"area_codes.{code}[{i}]", "expected an area code 200-999")
            area[npa] = code
    return Ruleset(rid, version, base, MappingProxyType(states), MappingProxyType(area))


#: a profile is named, never a path (issue 18, finding 7): ``profile=../../etc/passwd`` on
#: /api/compliance/check must not open or probe files
PROFILE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_operator_dir: list[Path] = []  # set once at start-up from ``profiles_dir``


def use_operator_dir(directory: Path | None) -> None:
    """Also look profiles up by name in the operator's configured directory."""
    _operator_dir[:] = [directory] if directory is not None else []


def profile_names() -> list[str]:
    found = {p.stem for d in (PROFILE_DIR, *_operator_dir) for p in d.glob("*.json")}
    return sorted(n for n in found if PROFILE_NAME.match(n))


def load_ruleset(name: str) -> Ruleset:
    """Load a profile by name: ``us``/``uk``/``cn``/``eu`` from the package, or a
    ``NAME.json`` in the operator's configured directory. Never a path."""
    if not isinstance(name, str) or not PROFILE_NAME.match(name):
        raise ProfileError(
            "a profile is a name like us, uk, cn or eu (lower-case letters, digits, - or _)",
            field="profile",
        )
    for folder in (PROFILE_DIR, *_operator_dir):
        path = folder / f"{name}.json"
        if path.is_file():
            return load_ruleset_file(path, name)
    raise ProfileError(
        f"no profile named {name!r} (known: {', '.join(profile_names())})",
        field="profile",
        profile=name,
    )


def load_ruleset_file(path: Path, label: str | None = None) -> Ruleset:
    """Load a profile file the operator names (tests, the operator's directory)."""
    shown = label or path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("no such profile file", field="<file>", profile=shown) from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"not JSON: {exc}", field="<file>", profile=shown) from exc
    return parse_ruleset(data, str(path))
