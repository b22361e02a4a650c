"""The dial decision across rule groups: DNC (7, 8, 24), consent (9, 10, 26, 31), hours by
state (14-16, 33), caps via check (34), abandon gate (2, 18), failed lookups, campaign
policy, and launch checks (4, 5, 11, 20, 22, 23, 27)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.caps import Attempt, CapRule, KeyKind, Outcome
from compliance.decision import (
    CampaignSettings,
    Category,
    ConsentRecord,
    ConsentStatus,
    Context,
    DncEntry,
    Mode,
    Reason,
    Request,
    check,
    launch_checks,
    summarize,
)
from compliance.errors import NaiveTimeError
from compliance.gauges import US_BUCKET, US_ROLLING, AbandonReading
from compliance.numbers import LineType, candidate_zones, describe
from compliance.profiles import CampaignPolicy, Purpose, Ruleset, load_ruleset
from compliance.windows import daily, hhmm

US, UK, CN, EU = (load_ruleset(n) for n in ("us", "uk", "cn", "eu"))
NYC, MIAMI, LONDON, BEIJING = "+12125551234", "+13055551234", "+442071234567", "+8613800138000"
NOON_ET = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
SNAP = {"us-national": date(2026, 11, 20), "uk-tps": date(2026, 11, 20)}


def gauges(rate_bucket: float = 0.0, rate_rolling: float = 0.0) -> dict[str, AbandonReading]:
    def r(g: str, rate: float) -> AbandonReading:
        return AbandonReading(g, round(rate * 1000), 1000, NOON_ET, NOON_ET)

    return {US_BUCKET: r(US_BUCKET, rate_bucket), US_ROLLING: r(US_ROLLING, rate_rolling)}


def req(number: str = NYC, **kw: object) -> Request:
    base = Request(number, "c1", "telemarketing", Mode.PREVIEW, "acme", subject="loans")
    return replace(base, **kw)  # type: ignore[arg-type]


def ctx(*rulesets: Ruleset, **kw: object) -> Context:
    base = Context(rulesets=tuple(rulesets) or (US,), registry_snapshots=SNAP, abandon=gauges())
    return replace(base, **kw)  # type: ignore[arg-type]


def rules_of(decision: object) -> set[str]:
    return {r.rule for r in decision.reasons}  # type: ignore[attr-defined]


def test_allowed_decision_reports_zones_local_times_and_version() -> None:
    d = check(req(), ctx(), NOON_ET)
    assert d.allowed and d.reasons == () and d.next_allowed_at == NOON_ET
    assert d.zones == ("America/New_York",)
    assert dict(d.local_times)["America/New_York"].startswith("2026-11-23T12:00:00")
    assert d.ruleset_version == US.version
    assert d.as_dict()["allowed"] is True


def test_rule_14_florida_area_code_presumes_a_florida_resident() -> None:
    at = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 20:30 ET
    assert check(req(NYC), ctx(), at).allowed
    d = check(req(MIAMI), ctx(), at)
    assert not d.allowed and rules_of(d) == {"rule-14", "rule-33"}
    assert d.reasons[0] == Reason("rule-14", Category.BLOCK_HOURS, "America/New_York")
    # Florida's zones join the candidates (rule 32 (c)): 08:00 CT = 09:00 ET
    assert d.zones == ("America/New_York", "America/Chicago")
    assert d.next_allowed_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def test_rule_32_state_zones_cover_libphonenumber_gaps() -> None:
    # 850 (Pensacola is on Central time) maps to America/New_York only in libphonenumber
    at = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 08:30 ET, 07:30 CT
    d = check(req("+18505551234"), ctx(), at)
    assert "America/Chicago" in d.zones and not d.allowed
    assert Reason("rule-1", Category.BLOCK_HOURS, "America/Chicago") in d.reasons


def test_rule_14_known_address_state_applies_too() -> None:
    at = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert rules_of(check(req(NYC, address_state="FL"), ctx(), at)) == {"rule-14", "rule-33"}


def test_rule_33_address_zone_joins_the_candidate_zones() -> None:
    at = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 08:30 ET, 07:30 CT
    d = check(req(NYC, address_zone="America/Chicago"), ctx(), at)
    assert not d.allowed and {"rule-1", "rule-33"} <= rules_of(d)
    assert d.next_allowed_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_rule_32_invalid_number_blocks_with_no_next_time() -> None:
    d = check(req("+19999999999"), ctx(), NOON_ET)
    assert not d.allowed and {"rule-32", "rule-33"} <= rules_of(d)
    assert d.next_allowed_at is None


def test_rule_8_internal_dnc_effective_the_second_it_is_captured() -> None:
    captured = NOON_ET - timedelta(seconds=1)
    d = check(req(), ctx(internal_dnc=(DncEntry(NYC, None, captured, "ivr-opt-out"),)), NOON_ET)
    assert not d.allowed
    assert d.reasons == (Reason("rule-8", Category.DNC, f"internal DNC since {captured}"),)
    assert d.next_allowed_at is None
    other_seller = ctx(internal_dnc=(DncEntry(NYC, "globex", captured),))
    assert check(req(), other_seller, NOON_ET).allowed


def test_rule_7_stale_registry_snapshot_blocks_all_telemarketing() -> None:
    fresh = {"us-national": date(2026, 10, 23)}  # 31 days before 2026-11-23
    stale = {"us-national": date(2026, 10, 22)}  # 32 days
    assert check(req(), ctx(registry_snapshots=fresh), NOON_ET).allowed
    d = check(req(), ctx(registry_snapshots=stale), NOON_ET)
    assert rules_of(d) == {"rule-7"} and d.reasons[0].category is Category.DNC
    assert check(req(telemarketing=False), ctx(registry_snapshots=stale), NOON_ET).allowed
    assert not check(req(), ctx(registry_snapshots={}), NOON_ET).allowed


def test_rule_7_registry_hit_blocks_unless_an_exemption_record_exists() -> None:
    hit = ctx(registry_hits=frozenset({"us-national"}))
    assert rules_of(check(req(), hit, NOON_ET)) == {"rule-7"}
    ebr = ConsentRecord(
        NYC,
        "acme",
        ConsentStatus.GRANTED,
        NOON_ET - timedelta(days=30),
        expires_at=NOON_ET + timedelta(days=60),
        evidence="purchase 123",
    )
    assert check(req(), replace(hit, consents=(ebr,)), NOON_ET).allowed
    expired = replace(ebr, expires_at=NOON_ET)
    assert not check(req(), replace(hit, consents=(expired,)), NOON_ET).allowed


def test_rule_7_no_next_time_once_the_registry_copy_would_be_stale() -> None:
    hist = tuple(Attempt(NOON_ET - timedelta(hours=h), MIAMI, "acme", "loans") for h in (3, 2, 1))
    edge = {"us-national": date(2026, 10, 23)}  # 31 days old today, stale tomorrow
    d = check(req(MIAMI), ctx(registry_snapshots=edge, attempts=hist), NOON_ET)
    assert rules_of(d) == {"rule-14"} and d.next_allowed_at is None
    fresh = {"us-national": date(2026, 10, 24)}
    d = check(req(MIAMI), ctx(registry_snapshots=fresh, attempts=hist), NOON_ET)
    assert d.next_allowed_at == NOON_ET + timedelta(hours=21)


def test_rule_24_uk_tps_snapshot_older_than_28_days_blocks() -> None:
    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ok = ctx(UK, registry_snapshots={"uk-tps": date(2026, 10, 26)}, abandon={})
    stale = ctx(UK, registry_snapshots={"uk-tps": date(2026, 10, 25)}, abandon={})
    assert check(req(LONDON), ok, at).allowed
    assert rules_of(check(req(LONDON), stale, at)) == {"rule-24"}


def test_rule_10_automated_call_to_a_us_mobile_needs_written_consent_if_telemarketing() -> None:
    auto = req(automated=True, line_type=LineType.MOBILE)
    assert rules_of(check(auto, ctx(), NOON_ET)) == {"rule-10"}
    assert check(replace(auto, line_type=LineType.FIXED), ctx(), NOON_ET).allowed
    assert not check(replace(auto, line_type=None), ctx(), NOON_ET).allowed  # unknown = mobile
    oral = ConsentRecord(NYC, "acme", ConsentStatus.GRANTED, NOON_ET - timedelta(days=1))
    d = check(auto, ctx(consents=(oral,)), NOON_ET)
    assert [r.detail for r in d.reasons] == ["written consent required"]
    pewc = replace(oral, written=True, scope=frozenset({"telemarketing"}))
    assert check(auto, ctx(consents=(pewc,)), NOON_ET).allowed
    other_scope = replace(pewc, scope=frozenset({"collections"}))
    assert not check(auto, ctx(consents=(other_scope,)), NOON_ET).allowed


def test_rule_9_revocation_ends_consent_at_once() -> None:
    grant = ConsentRecord(
        NYC, "acme", ConsentStatus.GRANTED, NOON_ET - timedelta(days=9), written=True
    )
    revoke = ConsentRecord(NYC, "acme", ConsentStatus.REVOKED, NOON_ET - timedelta(seconds=1))
    auto = req(automated=True, line_type=LineType.MOBILE)
    assert check(auto, ctx(consents=(grant,)), NOON_ET).allowed
    d = check(auto, ctx(consents=(grant, revoke)), NOON_ET)
    assert {"rule-9", "rule-10"} <= rules_of(d) and d.next_allowed_at is None
    # a revocation blocks even calls that need no consent
    assert not check(req(), ctx(consents=(revoke,)), NOON_ET).allowed


def test_rule_26_china_needs_consent_and_a_refusal_stops_calls() -> None:
    at = datetime(2026, 11, 24, 3, tzinfo=UTC)  # 11:00 Asia/Shanghai
    c = ctx(CN, abandon={})
    assert rules_of(check(req(BEIJING), c, at)) == {"rule-26"}
    grant = ConsentRecord(BEIJING, "acme", ConsentStatus.GRANTED, at - timedelta(days=1))
    assert check(req(BEIJING), replace(c, consents=(grant,)), at).allowed
    refuse = replace(grant, status=ConsentStatus.REFUSED, at=at - timedelta(minutes=1))
    assert not check(req(BEIJING), replace(c, consents=(grant, refuse)), at).allowed


def test_rule_26_the_purpose_decides_which_lawful_bases_do() -> None:
    """Issue 16: a service call (核单, 回访) may rest on the contract; a marketing call needs
    consent or the person's request, and the reason says what is missing and how to record it."""
    at = datetime(2026, 11, 24, 3, tzinfo=UTC)  # 11:00 Asia/Shanghai
    c = ctx(CN, abandon={})
    service = req(BEIJING, call_purpose=Purpose.SERVICE)
    marketing = req(BEIJING, call_purpose=Purpose.MARKETING)
    contract = frozenset({"contract"})
    assert check(replace(service, lawful_bases=contract), c, at).allowed
    blocked = check(replace(marketing, lawful_bases=contract), c, at)
    assert [(r.rule, r.category) for r in blocked.reasons] == [("rule-26", Category.CONSENT)]
    detail = blocked.reasons[0].detail
    assert detail.startswith("no lawful basis for a marketing call (needs consent or request)")
    assert "outdial consent add" in detail and "--lawful-basis" not in detail
    none = check(service, c, at).reasons[0].detail
    assert "(needs consent, contract or request)" in none and "--lawful-basis contract" in none
    assert check(replace(marketing, lawful_bases=frozenset({"request"})), c, at).allowed
    grant = ConsentRecord(BEIJING, None, ConsentStatus.GRANTED, at - timedelta(days=1))
    assert check(marketing, replace(c, consents=(grant,)), at).allowed
    # a refusal beats every basis, the contract included (rules 9, 26)
    refuse = ConsentRecord(BEIJING, None, ConsentStatus.REFUSED, at - timedelta(minutes=1))
    d = check(replace(service, lawful_bases=contract), replace(c, consents=(refuse,)), at)
    assert not d.allowed and d.reasons[0].detail == "refused or revoked"
    # no purpose given: telemarketing is marketing
    assert not check(replace(req(BEIJING), lawful_bases=contract), c, at).allowed
    assert check(replace(req(BEIJING, telemarketing=False), lawful_bases=contract), c, at).allowed


def test_rule_31_eu_objection_is_absolute() -> None:
    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    obj = ConsentRecord("+33612345678", None, ConsentStatus.REFUSED, at - timedelta(days=400))
    d = check(req("+33612345678"), ctx(EU, consents=(obj,)), at)
    assert rules_of(d) == {"rule-31"} and d.reasons[0].category is Category.CONSENT


def test_rule_34_cap_blocks_then_frees_at_the_next_window_opening() -> None:
    at = datetime(2026, 11, 23, 22, tzinfo=UTC)  # 17:00 ET
    hist = tuple(Attempt(at - timedelta(hours=h), MIAMI, "acme", "loans") for h in (1, 2, 3))
    d = check(req(MIAMI), ctx(attempts=hist), at)
    assert rules_of(d) == {"rule-14"} and d.reasons[0].category is Category.CAP
    # the first attempt (14:00 ET) expires at 14:00 ET tomorrow, inside the window
    assert d.next_allowed_at == datetime(2026, 11, 24, 19, tzinfo=UTC)
    assert [(s.key, s.limit) for s in d.slots] == [("nss:+13055551234|acme|loans", 3)]


def test_rule_2_abandon_gate_stops_predictive_at_3_percent_on_either_gauge() -> None:
    pred = req(mode=Mode.PREDICTIVE)
    assert check(pred, ctx(abandon=gauges(0.029, 0.029)), NOON_ET).allowed
    d = check(pred, ctx(abandon=gauges(0.01, 0.03)), NOON_ET)
    assert rules_of(d) == {"rule-2"} and d.reasons[0].category is Category.ABANDON_GATE
    assert check(req(mode=Mode.PREVIEW), ctx(abandon=gauges(0.5, 0.5)), NOON_ET).allowed
    assert check(
        req(mode=Mode.PROGRESSIVE, agent_reserved=True), ctx(abandon=gauges(0.5, 0.5)), NOON_ET
    ).allowed
    assert not check(pred, ctx(abandon=None), NOON_ET).allowed  # no gauge reading


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("internal_dnc", "rule-8"),
        ("registry_hits", "rule-7"),
        ("consents", "rule-9"),
        ("attempts", "rule-34"),
    ],
)
def test_a_failed_lookup_blocks(field: str, rule: str) -> None:
    d = check(req(), ctx(**{field: None}), NOON_ET)
    assert not d.allowed and rule in rules_of(d) and d.next_allowed_at is None


def test_campaign_policy_can_tighten_and_a_looser_setting_is_clamped() -> None:
    narrow = CampaignPolicy("camp-1", hours=daily(hhmm("10:00"), hhmm("18:00")))
    at = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 09:30 ET
    d = check(req(), ctx(policy=narrow), at)
    assert rules_of(d) == {"campaign-hours"}
    assert d.ruleset_version == f"{US.version}+camp-1"
    wide = CampaignPolicy(
        "camp-2",
        hours=daily(0, 86_400),
        caps=(CapRule("campaign-cap", KeyKind.NUMBER, 86_400, 50),),
        abandon_cap=0.5,
    )
    late = datetime(2026, 11, 24, 3, tzinfo=UTC)  # 22:00 ET
    assert rules_of(check(req(), ctx(policy=wide), late)) == {"rule-1"}
    pred = req(mode=Mode.PREDICTIVE)
    assert not check(pred, ctx(policy=wide, abandon=gauges(0.04, 0.04)), NOON_ET).allowed


def test_naive_instants_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        check(req(), ctx(), datetime(2026, 11, 23, 12))


def test_summarize_counts_now_later_and_blocked_by_reason() -> None:
    dnc = ctx(internal_dnc=(DncEntry(NYC, None, NOON_ET),))
    night = datetime(2026, 11, 24, 3, tzinfo=UTC)  # 22:00 ET
    decisions = [
        check(req(), ctx(), NOON_ET),
        check(req(), ctx(), night),
        check(req(), dnc, NOON_ET),
    ]
    s = summarize(decisions, until=night + timedelta(hours=12))
    assert (s.now, s.later, s.blocked) == (1, 1, 1)
    assert s.by_reason == {"rule-1:BLOCK_HOURS": 1, "rule-8:DNC": 1}
    assert summarize(decisions, until=night).later == 0


def test_describe_gives_zones_line_type_and_area_code() -> None:
    info = describe("+14055551234")
    assert info.zones == ("America/Chicago",) and info.area_code == 405 and info.valid
    assert candidate_zones("+19999999999") == ("Etc/Unknown",)
    assert candidate_zones("not a number") == ("Etc/Unknown",)


def settings_(**kw: object) -> CampaignSettings:
    base = CampaignSettings(
        "+12125550100",
        frozenset({"+12125550100"}),
        Mode.PREDICTIVE,
        20,
        "asset:safe-harbor-v1",
        jurisdictions=("us",),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_launch_checks_pass_for_a_clean_campaign() -> None:
    assert launch_checks(settings_()) == []


@pytest.mark.parametrize("cli", [None, "", "anonymous", "Private", "2125550100", "+12125550199"])
def test_rules_11_23_27_caller_id_present_e164_owned_not_anonymous(cli: str | None) -> None:
    problems = launch_checks(settings_(caller_id=cli, jurisdictions=("us", "uk", "cn")))
    assert [(p.field, p.rules) for p in problems] == [
        ("caller_id", ("rule-11", "rule-23", "rule-27"))
    ]


def test_rules_5_22_ring_timeout_at_least_15_seconds() -> None:
    assert launch_checks(settings_(ring_timeout_s=15)) == []
    assert [p.rules for p in launch_checks(settings_(ring_timeout_s=14.9))] == [("rule-5",)]


def test_rules_4_20_safe_harbor_recording_for_modes_that_can_abandon() -> None:
    for mode in (Mode.PREDICTIVE, Mode.AGENTLESS, Mode.PROGRESSIVE):
        problems = launch_checks(
            settings_(mode=mode, safe_harbor_recording=None, jurisdictions=("uk",))
        )
        assert [p.rules for p in problems] == [("rule-20",)]
    assert launch_checks(settings_(mode=Mode.PREVIEW, safe_harbor_recording=None)) == []
    assert (
        launch_checks(
            settings_(mode=Mode.PROGRESSIVE, agent_reserved=True, safe_harbor_recording=None)
        )
        == []
    )


def test_launch_checks_report_a_policy_looser_than_its_profiles() -> None:
    wide = CampaignPolicy(hours=daily(hhmm("07:00"), hhmm("21:00")))
    problems = launch_checks(settings_(policy=wide, profiles=(US.base,)))
    assert [(p.field, p.rules) for p in problems] == [("hours", ("rule-1",))]


# --- invariants -----------------------------------------------------------------------------

NUMBERS = [
    NYC,
    MIAMI,
    "+14055551234",
    "+14105551234",
    LONDON,
    BEIJING,
    "+33612345678",
    "+18005551234",
]
request_st = st.builds(
    Request,
    number=st.sampled_from(NUMBERS),
    campaign_id=st.just("c1"),
    campaign_kind=st.sampled_from(["telemarketing", "collections"]),
    mode=st.sampled_from(list(Mode)),
    seller=st.sampled_from(["acme", "globex"]),
    subject=st.sampled_from([None, "loans"]),
    automated=st.booleans(),
    telemarketing=st.booleans(),
    line_type=st.sampled_from([None, *LineType]),
    address_state=st.sampled_from([None, "FL", "MD"]),
    agent_reserved=st.booleans(),
)
instant_st = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
attempts_st = st.lists(
    st.builds(
        Attempt,
        at=instant_st,
        number=st.sampled_from(NUMBERS),
        seller=st.sampled_from(["acme", "globex"]),
        subject=st.sampled_from([None, "loans"]),
        outcome=st.sampled_from(list(Outcome)),
    ),
    max_size=8,
)
RULESETS = [US, UK, CN, EU]


@settings(max_examples=200, deadline=None)
@given(request_st, instant_st, attempts_st, st.sampled_from(RULESETS), st.sampled_from(RULESETS))
def test_adding_a_profile_never_turns_a_block_into_an_allow(
    request: Request, at: datetime, attempts: list[Attempt], a: Ruleset, b: Ruleset
) -> None:
    one = ctx(
        a, attempts=tuple(attempts), abandon=gauges(0.01, 0.01) | {"uk-day": gauges()[US_BUCKET]}
    )
    two = replace(one, rulesets=(a, b))
    if not check(request, one, at).allowed:
        assert not check(request, two, at).allowed


@settings(max_examples=200, deadline=None)
@given(
    request_st,
    instant_st,
    attempts_st,
    st.integers(0, 23),
    st.integers(1, 24),
    st.integers(1, 5),
    st.floats(0.0, 0.05),
)
def test_a_stricter_campaign_setting_never_turns_a_block_into_an_allow(
    request: Request,
    at: datetime,
    attempts: list[Attempt],
    start: int,
    length: int,
    limit: int,
    cap: float,
) -> None:
    base = ctx(
        US,
        UK,
        attempts=tuple(attempts),
        abandon=gauges(0.02, 0.025) | {"uk-day": gauges(0.02)[US_BUCKET]},
    )
    policy = CampaignPolicy(
        "strict",
        hours=daily(start * 3600, min(86_400, (start + length) * 3600)),
        caps=(CapRule("campaign-cap", KeyKind.NUMBER, 86_400, limit),),
        abandon_cap=cap,
    )
    if not check(request, base, at).allowed:
        assert not check(request, replace(base, policy=policy), at).allowed


@settings(max_examples=200, deadline=None)
@given(request_st, instant_st, attempts_st, st.sampled_from(RULESETS))
def test_next_allowed_at_is_really_allowed_when_nothing_else_changes(
    request: Request, at: datetime, attempts: list[Attempt], rs: Ruleset
) -> None:
    grants = tuple(
        ConsentRecord(
            n, None, ConsentStatus.GRANTED, datetime(2025, 1, 1, tzinfo=UTC), written=True
        )
        for n in NUMBERS
    )
    c = ctx(
        rs,
        attempts=tuple(attempts),
        consents=grants,
        abandon=gauges(0.01, 0.01) | {"uk-day": gauges()[US_BUCKET]},
    )
    d = check(request, c, at)
    if d.next_allowed_at is not None:
        assert d.next_allowed_at >= at
        later = check(request, c, d.next_allowed_at)
        assert later.allowed, later.reasons
