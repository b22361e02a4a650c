"""The compliance gate the dialing engine calls before every INVITE (rules 1-36).

It reads what the pure core needs from storage (internal DNC, registry snapshots, consent,
attempt history, the campaign's abandon gauges), asks :func:`compliance.decision.check`,
takes the cap slots atomically when the core allows (rule 34), and appends the decision to
the hash-chained audit trail (rule 36). A failed lookup blocks (precedence rule).

Choices (issue 4 is silent on them):
- A campaign's jurisdiction profiles follow its region unless set explicitly: CN → cn,
  US → us, GB → uk, an EU member state → eu.
- A campaign's **purpose** (issue 16; campaigns/rules.py ``default_purpose``) decides: a
  service call (return visits, order verification, surveys by default) is not
  telemarketing, so no registry scrub, and the CN profile accepts the contract as its
  lawful basis; a marketing call (generic campaigns by default) is telemarketing and needs
  consent or the person's request (rule 26). A record's bases are its list's (stated by the
  uploader, ``lists import --lawful-basis``) plus a live consent grant (consent_events).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from threading import Lock
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance import store
from compliance.caps import Attempt as CapAttempt
from compliance.caps import Outcome as CapOutcome
from compliance.decision import Context, Decision, Mode, Request, check
from compliance.gauges import (
    UK_DAY,
    US_BUCKET,
    US_ROLLING,
    AbandonReading,
    uk_day_bounds,
    us_bucket_bounds,
)
from compliance.numbers import LineType
from compliance.profiles import CampaignPolicy, Purpose, Ruleset, load_ruleset
from compliance.registry import Registry
from outdial.models import as_utc
from outdial.storage import session_scope

EU = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
SERVICE_KINDS = {"return_visit", "order_verification", "satisfaction_survey"}
GAUGE_TTL = 2.0  # seconds a gauge reading is reused between dials
BASIS_TTL = 30.0  # seconds a list's stated lawful basis is reused between dials
HISTORY = timedelta(days=31)
REGISTRIES = {"us": ("us-national",), "uk": ("uk-tps", "uk-ctps")}


def profiles_for_region(region: str) -> tuple[str, ...]:
    """The jurisdiction profiles a campaign's region implies; () when there is none."""
    region = region.upper()
    if region == "GB":
        return ("uk",)
    if region in EU:
        return ("eu",)
    if region in {"CN", "US"}:
        return (region.lower(),)
    return ()


@dataclass(frozen=True)
class GateVerdict:
    allowed: bool
    next_allowed_at: datetime | None = None
    reason: str = ""
    decision: Decision | None = None


@dataclass
class CampaignFacts:
    """What the gate knows about the campaign it guards."""

    campaign_id: int
    kind: str
    mode: str
    region: str
    started_at: datetime
    profiles: tuple[str, ...] = ()
    seller: str = "default"
    automated: bool = False
    amd_false_positive_rate: float = 0.0
    policy: CampaignPolicy | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    purpose: str = ""  # service | marketing; empty: by kind (SERVICE_KINDS are service)
    # a runtime dialing the simulated carrier (dialer/hopper.py SIMULATED_NODE): its gauges
    # count simulated calls only, and a real runtime's never count them (issue 17)
    simulated: bool = False

    @property
    def call_purpose(self) -> Purpose:
        if self.purpose:
            return Purpose(self.purpose)
        return Purpose.SERVICE if self.kind in SERVICE_KINDS else Purpose.MARKETING


_registry_cache: dict[tuple[str, str], Registry] = {}
_registry_lock = Lock()


#: prefix of the cap slot keys a simulated runtime takes (compliance/store.py ``take_slots``)
SIM_SLOT = "sim:"


class DbGate:
    """The engine's :class:`dialer.engine.ComplianceGate`, backed by the database."""

    def __init__(self, db: Engine, facts: CampaignFacts) -> None:
        self.db, self.facts = db, facts
        names = facts.profiles or profiles_for_region(facts.region)
        if not names:
            from compliance.errors import ProfileError

            raise ProfileError(
                f"no jurisdiction profile for region {facts.region!r}; set the campaign's "
                "profiles (us, uk, cn, eu)",
                field="profiles",
            )
        self.rulesets: tuple[Ruleset, ...] = tuple(load_ruleset(n) for n in names)
        self.registry_names = tuple(r for n in names for r in REGISTRIES.get(n, ()))
        self._gauges: tuple[float, dict[str, AbandonReading]] | None = None
        self._list_bases: dict[int, tuple[float, frozenset[str]]] = {}

    # --- the protocol -------------------------------------------------------------------------
    def check(self, lead: Any, at: datetime, call_id: str) -> GateVerdict:
        request = self.request(
            lead.number,
            lead.zones,
            lead.data.get("number_type", ""),
            self.list_bases(lead.data.get("list_id")),
        )
        decision = check(request, self.context(lead.number, at), at)
        allowed, reason = decision.allowed, ",".join(r.rule for r in decision.reasons)
        nxt = decision.next_allowed_at
        if allowed and decision.slots:
            slots = decision.slots
            if self.facts.simulated:  # a pool of its own: never fills a real number's caps
                slots = tuple(dataclasses.replace(sl, key=SIM_SLOT + sl.key) for sl in slots)
            full = store.take_slots(self.db, slots, at, call_id)
            if full is not None:  # another process took the last slot meanwhile (rule 34)
                allowed, reason, nxt = False, full.rule, at + timedelta(minutes=5)
        body = {
            "call_id": call_id,
            "campaign_id": self.facts.campaign_id,
            "number": lead.number,
            "seller": self.facts.seller,
            **decision.as_dict(),
            "allowed": allowed,
        }
        if reason and not decision.reasons:
            body["reasons"] = [{"rule": reason, "category": "CAP", "detail": "slot taken"}]
        with session_scope(self.db) as s:
            store.audit(s, "decision", _jsonable(body), at)
        return GateVerdict(allowed, nxt, reason, decision)

    def abandon_gauge(self, at: datetime) -> tuple[int, int]:
        """(abandoned, live answers) of the campaign's strictest gauge right now, for the
        pacer to steer by (rules 2, 18): the legal figure survives restarts, the pacer's own
        counts would not."""
        readings = self.abandon_readings(at).values()
        worst = max(readings, key=lambda r: (r.rate, r.live))
        return worst.abandoned, worst.live

    def record_outcome(self, finished: Any, lead: Any, at: datetime) -> None:
        body = {
            "call_id": finished.call_id,
            "campaign_id": self.facts.campaign_id,
            "number": lead.number,
            "state": finished.state,
            "sip_outcome": finished.sip_outcome,
            "sip_status": finished.sip_status,
            "abandoned": finished.abandoned,
            "amd": finished.amd,
            "agent_user_id": finished.agent_user_id,
            "answer_to_bridge_ms": None
            if finished.answer_to_bridge is None
            else round(finished.answer_to_bridge * 1000, 1),
        }
        with session_scope(self.db) as s:
            store.audit(s, "outcome", _jsonable(body), at)
        self._gauges = None  # an outcome may move the abandon gauge

    def launch_problems(self) -> list[str]:
        """Before a start: a campaign none of whose callable records has a lawful basis its
        profiles accept for its purpose would dial nothing (rule 26); say how to record one.
        A cheap check (a few queries), not the preview: one record with a basis passes."""
        from compliance.models import ConsentEvent
        from lists.models import CallList, Contact

        purpose = self.facts.call_purpose
        accepted: set[str] = set()
        for r in self.rulesets:
            for rule in r.base.consent:
                got = rule.accepts(purpose)
                accepted |= got or set()
        if not accepted or not self.facts.campaign_id:
            return []
        callable_ = sa.and_(
            col(Contact.campaign_id) == self.facts.campaign_id,
            col(Contact.suppressed).is_(False),
            col(Contact.status).in_(("new", "retry")),
        )
        with session_scope(self.db) as s:
            n = s.execute(sa.select(sa.func.count()).where(callable_)).scalar_one()
            if not n:
                return []
            by_list = s.execute(
                sa.select(sa.func.count())
                .select_from(Contact)
                .join(CallList, col(CallList.id) == col(Contact.list_id))
                .where(callable_, col(CallList.lawful_basis).in_(sorted(accepted)))
            ).scalar_one()
            granted = 0
            if not by_list and "consent" in accepted:
                granted = s.execute(
                    sa.select(sa.func.count())
                    .select_from(Contact)
                    .where(
                        callable_,
                        col(Contact.primary_number).in_(
                            sa.select(col(ConsentEvent.number)).where(
                                col(ConsentEvent.status) == "granted"
                            )
                        ),
                    )
                ).scalar_one()
        if by_list or granted:
            return []
        from compliance.decision import missing_basis

        name = self.facts.extra.get("name", "NAME")
        return [
            f"none of its {n} records can be called: "
            + missing_basis(purpose, frozenset(accepted))
            + f"; `outdial compliance preview --campaign {name}` lists them (rule 26)"
        ]

    # --- building the core's inputs -----------------------------------------------------------
    def list_bases(self, list_id: Any) -> frozenset[str]:
        """The lawful basis the uploader stated for a whole list (issue 16); read again
        after ``BASIS_TTL`` seconds, so a re-import's new statement counts while dialing."""
        if not isinstance(list_id, int):
            return frozenset()
        cached = self._list_bases.get(list_id)
        if cached is not None and time.monotonic() - cached[0] < BASIS_TTL:
            return cached[1]
        from lists.models import CallList

        with session_scope(self.db) as s:
            row = s.get(CallList, list_id)
        basis = row.lawful_basis if row is not None else ""
        bases = frozenset({basis} if basis else ())
        self._list_bases[list_id] = (time.monotonic(), bases)
        return bases

    def request(
        self,
        number: str,
        zones: tuple[str, ...],
        number_type: str,
        bases: frozenset[str] = frozenset(),
    ) -> Request:
        f = self.facts
        line = {"mobile": LineType.MOBILE, "fixed_line": LineType.FIXED}.get(
            number_type, LineType.UNKNOWN
        )
        return Request(
            number=number,
            campaign_id=str(f.campaign_id),
            campaign_kind=f.kind,
            mode=Mode(f.mode),
            seller=f.seller,
            automated=f.automated or f.mode == "agentless",
            telemarketing=f.call_purpose is Purpose.MARKETING,
            call_purpose=f.call_purpose,
            lawful_bases=bases,
            line_type=line,
            zones=tuple(zones) or None,
            agent_reserved=f.mode == "preview",
        )

    def context(self, number: str, at: datetime) -> Context:
        dates = store.registry_dates(self.db)  # read once per dial, used twice
        return Context(
            rulesets=self.rulesets,
            policy=self.facts.policy,
            internal_dnc=store.dnc_lookup(self.db, [number]),
            registry_snapshots=dates,
            registry_hits=self.registry_hits(number, dates),
            consents=store.consents_for(self.db, number),
            attempts=self._history(number, at),
            abandon=self.abandon_readings(at),
        )

    def registry_hits(self, number: str, dates: dict[str, date]) -> frozenset[str]:
        hits = set()
        for name in self.registry_names:
            reg = _load_registry(self.db, name, dates)
            if reg is not None and number in reg:
                hits.add(name)
        return frozenset(hits)

    def _history(self, number: str, at: datetime) -> tuple[CapAttempt, ...]:
        from dialer.models import Attempt

        with session_scope(self.db) as s:
            rows = s.exec(
                select(Attempt).where(
                    Attempt.number == number,
                    col(Attempt.created_at) > at - HISTORY,
                    # caps and cool-downs of real calls never count the simulated carrier's
                    col(Attempt.simulated).is_(self.facts.simulated),
                )
            )
            return tuple(
                CapAttempt(
                    as_utc(a.created_at),
                    a.number,
                    self.facts.seller,
                    None,
                    _cap_outcome(a),
                    str(a.campaign_id),
                )
                for a in rows
            )

    def abandon_readings(self, at: datetime) -> dict[str, AbandonReading]:
        if not self.facts.campaign_id:  # a profile alone: no campaign, no calls yet
            return {g: AbandonReading(g, 0, 0, at, at) for g in (US_BUCKET, US_ROLLING, UK_DAY)}
        cached = self._gauges
        if cached is not None and time.monotonic() - cached[0] < GAUGE_TTL:
            return cached[1]
        start = as_utc(self.facts.started_at)
        b0, b1 = us_bucket_bounds(start, at)
        r0 = at - timedelta(days=30)
        d0, d1 = uk_day_bounds(at.astimezone(UTC).date())
        readings = {
            US_BUCKET: self._reading(US_BUCKET, b0, b1),
            US_ROLLING: self._reading(US_ROLLING, r0, at),
            UK_DAY: self._reading(UK_DAY, d0, d1, self.amd_fp_rate()),
        }
        self._gauges = (time.monotonic(), readings)
        return readings

    def amd_fp_rate(self) -> float:
        """Rule 19: the campaign's AMD false-positive estimate from people's marks on
        sampled machine verdicts (compliance/amd_reviews.py); a configured rate is a floor."""
        from compliance import amd_reviews
        from compliance.amd_sampling import LAB_RATE

        marks = amd_reviews.estimate(self.db, self.facts.campaign_id)
        return max(self.facts.amd_false_positive_rate, marks.gauge_rate(LAB_RATE))

    def _reading(self, gauge: str, t0: datetime, t1: datetime, fp: float = 0.0) -> AbandonReading:
        """Rule 2: abandoned / live answers; machines count in neither (rule 19 adds an
        estimate of AMD false positives to the abandoned count on the UK gauge)."""
        from dialer.models import Attempt

        machine = col(Attempt.amd) == "machine"
        carrier = col(Attempt.amd) == "announcement"  # "not in service" is no answer (issue 20)
        in_window = sa.and_(
            col(Attempt.campaign_id) == self.facts.campaign_id,
            col(Attempt.answered_at) >= t0,
            col(Attempt.answered_at) < t1,
            # the legal gauge is of real calls; the simulated carrier's are never mixed in
            col(Attempt.simulated).is_(self.facts.simulated),
        )
        with session_scope(self.db) as s:
            live, abandoned, machines = s.exec(
                select(
                    sa.func.count().filter(sa.not_(sa.or_(machine, carrier))),
                    sa.func.count().filter(col(Attempt.abandoned).is_(True)),
                    sa.func.count().filter(machine),
                ).where(in_window)
            ).one()
        extra = int(fp * machines + 0.5)
        return AbandonReading(gauge, int(abandoned) + extra, int(live), t0, t1)


def _cap_outcome(a: Any) -> CapOutcome:
    if not a.final:
        return CapOutcome.DIALED
    if a.abandoned:
        return CapOutcome.ABANDONED
    if a.amd == "machine":
        return CapOutcome.MACHINE
    return {
        "busy": CapOutcome.BUSY,
        "no_answer": CapOutcome.NO_ANSWER,
        "completed": CapOutcome.LIVE,
    }.get(a.state, CapOutcome.FAILED)


def _load_registry(db: Engine, name: str, dates: dict[str, date]) -> Registry | None:
    if name not in dates:
        return None
    key = (name, dates[name].isoformat())
    with _registry_lock:
        reg = _registry_cache.get(key)
        if reg is None:
            reg = store.registry_latest(db, name)
            if reg is not None:
                if len(_registry_cache) >= 4:  # old snapshots: keep memory bounded
                    _registry_cache.clear()
                _registry_cache[key] = reg
        return reg


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def gate_for(db: Engine, campaign_id: int, **overrides: Any) -> DbGate:
    """The gate for a campaign row (what dialer/runtime.py uses)."""
    from campaigns.models import Campaign
    from outdial.errors import NotFound

    with session_scope(db) as s:
        camp = s.get(Campaign, campaign_id)
        if camp is None:
            raise NotFound(f"no campaign {campaign_id}", campaign_id=campaign_id)
        facts = CampaignFacts(
            campaign_id, camp.kind, camp.mode, camp.region, as_utc(camp.created_at)
        )
    from campaigns import store as campaigns_store

    facts.purpose = campaigns_store.spec_of(db, camp).purpose
    facts.extra["name"] = camp.name
    for key, value in overrides.items():
        setattr(facts, key, value)
    return DbGate(db, facts)


# --- what-if checks for managers (no slots taken, nothing audited) ---------------------------


def parse_instant(text: str | None) -> datetime:
    """A dial instant typed by a manager (ISO 8601 with a zone, ``Z`` allowed); now if empty."""
    from outdial.errors import InvalidInput

    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"not an ISO date-time: {text!r}", field="at") from exc
    if value.tzinfo is None:
        raise InvalidInput("the time needs a zone, e.g. 2026-11-23T13:30:00Z", field="at")
    return value


def what_if(db: Engine, gate: DbGate, number: str, at: datetime) -> Decision:
    """The decision a dial would get at ``at``, without taking cap slots or auditing it."""
    from compliance.errors import NumberFormatError
    from compliance.numbers import candidate_zones, describe

    try:
        info = describe(number)
        kind = info.line_type.value if info.line_type is not LineType.UNKNOWN else ""
        kind = "fixed_line" if kind == "fixed" else kind
    except NumberFormatError:
        kind = ""
    request = gate.request(number, candidate_zones(number), kind, _bases_of(gate, number))
    return check(request, gate.context(number, at), at)


def _bases_of(gate: DbGate, number: str) -> frozenset[str]:
    """The lawful bases the campaign's lists state for this number (issue 16)."""
    if not gate.facts.campaign_id:
        return frozenset()
    from lists.models import Contact

    with session_scope(gate.db) as s:
        list_ids = s.exec(
            select(Contact.list_id).where(
                Contact.campaign_id == gate.facts.campaign_id, Contact.primary_number == number
            )
        ).all()
    return frozenset(b for i in set(list_ids) for b in gate.list_bases(i))


def profile_gate(db: Engine, profile: str, mode: str = "predictive") -> DbGate:
    """A gate for a jurisdiction profile alone (``--profile us``), no campaign."""
    facts = CampaignFacts(0, "generic", mode, "", datetime.now(UTC), profiles=(profile,))
    return DbGate(db, facts)


def preview(db: Engine, campaign_id: int, at: datetime, until: datetime) -> Any:
    """Before launch: how many of the campaign's records are dialable now, later (by
    ``until``), and blocked, by reason (issue 4)."""
    return preview_report(db, campaign_id, at, until)[0]


def preview_report(
    db: Engine, campaign_id: int, at: datetime, until: datetime
) -> tuple[Any, dict[str, Any]]:
    """The preview's summary, plus the campaign's purpose, the records blocked for want
    of a lawful basis, and example records per reason (set-based: compliance/preview.py)."""
    from compliance.preview import preview_report as report

    return report(db, campaign_id, at, until)
