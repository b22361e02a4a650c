"""Attempt caps and cool-downs: rules 13, 14-16, 21, 29, 34."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.caps import (
    Attempt,
    CapRule,
    CooldownRule,
    KeyKind,
    Outcome,
    check_cooldowns,
    check_slots,
    slots_for,
)

N, N2 = "+13055551234", "+13055550000"
DAY = 86_400
FL_CAP = CapRule("rule-14", KeyKind.NUMBER_SELLER_SUBJECT, DAY, 3)
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def att(
    hours: float,
    *,
    number: str = N,
    seller: str = "acme",
    subject: str | None = "loans",
    outcome: Outcome = Outcome.NO_ANSWER,
) -> Attempt:
    return Attempt(T0 + timedelta(hours=hours), number, seller, subject, outcome)


def blocks(
    rules: list[CapRule],
    history: list[Attempt],
    now: datetime,
    *,
    seller: str = "acme",
    subject: str | None = "loans",
    kind: str = "telemarketing",
) -> list[tuple[str, datetime | None]]:
    slots = slots_for(rules, N, seller, subject, kind)
    return [(b.rule, b.free_at) for b in check_slots(slots, history, N, seller, subject, now)]


def test_rule_14_three_per_24h_fourth_blocked_until_first_expires() -> None:
    history = [att(0), att(1), att(2)]
    now = T0 + timedelta(hours=3)
    assert blocks([FL_CAP], history, now) == [("rule-14", T0 + timedelta(hours=24))]
    assert blocks([FL_CAP], history, T0 + timedelta(hours=24)) == []
    assert blocks([FL_CAP], history[:2], now) == []


def test_rule_34_every_attempt_counts_not_only_connects() -> None:
    history = [att(0, outcome=Outcome.BUSY), att(1, outcome=Outcome.FAILED), att(2)]
    assert blocks([FL_CAP], history, T0 + timedelta(hours=3))


def test_rule_14_counts_same_subject_across_campaigns_only() -> None:
    history = [att(0), att(1), att(2, subject="insurance")]
    assert blocks([FL_CAP], history, T0 + timedelta(hours=3)) == []
    history = [att(0), att(1), att(2, seller="other")]
    assert blocks([FL_CAP], history, T0 + timedelta(hours=3)) == []


def test_rule_34_missing_subject_counts_every_subject() -> None:
    history = [att(0, subject="a"), att(1, subject="b"), att(2, subject="c")]
    slots = slots_for([FL_CAP], N, "acme", None, "telemarketing")
    assert [s.kind for s in slots] == [KeyKind.NUMBER_SELLER]
    assert check_slots(slots, history, N, "acme", None, T0 + timedelta(hours=3))


def test_rule_29_number_key_counts_across_sellers_and_30_day_cap() -> None:
    rules = [
        CapRule("rule-29", KeyKind.NUMBER, DAY, 3),
        CapRule("rule-29", KeyKind.NUMBER, 30 * DAY, 10),
    ]
    history = [att(0, seller="a"), att(1, seller="b"), att(2, seller="c")]
    assert blocks(rules, history, T0 + timedelta(hours=3))
    spread = [att(26 * i, seller=f"s{i}") for i in range(10)]  # one per ~day, 10 in 30 days
    free = blocks(rules, spread, T0 + timedelta(hours=26 * 9 + 1))
    assert free == [("rule-29", spread[0].at + timedelta(days=30))]


def test_rule_34_slots_dedupe_equal_key_and_window_keeping_the_lowest_limit() -> None:
    loose = CapRule("campaign-cap", KeyKind.NUMBER_SELLER_SUBJECT, DAY, 5)
    slots = slots_for([loose, FL_CAP], N, "acme", "loans", "telemarketing")
    assert [(s.key, s.window_s, s.limit, s.rule) for s in slots] == [
        ("nss:+13055551234|acme|loans", DAY, 3, "rule-14")
    ]


def test_rule_13_seven_in_seven_days_applies_to_collections_only() -> None:
    regf = CapRule("rule-13", KeyKind.NUMBER_SELLER_SUBJECT, 7 * DAY, 7, frozenset({"collections"}))
    history = [att(20 * i) for i in range(7)]
    now = T0 + timedelta(hours=121)
    assert blocks([regf], history, now, kind="collections") == [
        ("rule-13", history[0].at + timedelta(days=7))
    ]
    assert blocks([regf], history, now, kind="telemarketing") == []


def cooldown(
    rules: list[CooldownRule],
    history: list[Attempt],
    now: datetime,
    *,
    guaranteed: bool = False,
    kind: str = "collections",
    zones: tuple[str, ...] = ("America/New_York",),
) -> list[tuple[str, datetime | None]]:
    out = check_cooldowns(
        rules,
        history,
        number=N,
        seller="acme",
        subject="loans",
        campaign_kind=kind,
        agent_guaranteed=guaranteed,
        zones=zones,
        now=now,
    )
    return [(b.rule, b.free_at) for b in out]


REGF_TALK = CooldownRule(
    "rule-13",
    Outcome.CONVERSATION,
    KeyKind.NUMBER_SELLER_SUBJECT,
    local_days=7,
    campaign_kinds=frozenset({"collections"}),
)


def test_rule_13_no_call_for_seven_days_after_a_conversation_day_one_is_the_call_day() -> None:
    talk = [att(0, outcome=Outcome.CONVERSATION)]  # Mon 2026-11-23 10:00 ET
    until = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Mon 2026-11-30 00:00 ET
    assert cooldown([REGF_TALK], talk, until - timedelta(seconds=1)) == [("rule-13", until)]
    assert cooldown([REGF_TALK], talk, until) == []
    assert cooldown([REGF_TALK], talk, T0 + timedelta(hours=1), kind="telemarketing") == []


def test_rule_13_unknown_zone_blocks_without_a_free_time() -> None:
    talk = [att(0, outcome=Outcome.CONVERSATION)]
    assert cooldown([REGF_TALK], talk, T0, zones=("Etc/Unknown",)) == [("rule-13", None)]


UK72 = CooldownRule("rule-21", Outcome.ABANDONED, hours=72, exempt_if_agent_guaranteed=True)
UK_MACHINE = CooldownRule("rule-21", Outcome.MACHINE, local_days=1, exempt_if_agent_guaranteed=True)


def test_rule_21_predictive_redial_at_71h59m_after_abandon_is_blocked_preview_allowed() -> None:
    history = [att(0, outcome=Outcome.ABANDONED, seller="someone-else")]
    at = T0 + timedelta(hours=71, minutes=59)
    assert cooldown([UK72], history, at) == [("rule-21", T0 + timedelta(hours=72))]
    assert cooldown([UK72], history, at, guaranteed=True) == []
    assert cooldown([UK72], history, T0 + timedelta(hours=72)) == []


def test_rule_21_no_same_day_repeat_after_a_machine_without_an_agent() -> None:
    history = [att(0, outcome=Outcome.MACHINE)]  # 15:00 London
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert cooldown([UK_MACHINE], history, T0 + timedelta(hours=2), zones=("Europe/London",)) == [
        ("rule-21", midnight)
    ]
    assert cooldown([UK_MACHINE], history, midnight, zones=("Europe/London",)) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 72 * 60), max_size=12), st.integers(0, 72 * 60), st.integers(1, 5))
def test_rule_34_a_lower_limit_never_frees_a_full_slot(
    minutes: list[int], now_min: int, limit: int
) -> None:
    history = [att(m / 60) for m in minutes]
    now = T0 + timedelta(minutes=now_min)
    loose = CapRule("rule-14", KeyKind.NUMBER_SELLER_SUBJECT, DAY, limit + 1)
    tight = CapRule("rule-14", KeyKind.NUMBER_SELLER_SUBJECT, DAY, limit)
    if blocks([loose], history, now):
        assert blocks([tight], history, now)
    free = blocks([tight], history, now)
    if free and free[0][1] is not None:  # at the free instant the slot really is free
        assert blocks([tight], [a for a in history if a.at <= now], free[0][1]) == []
