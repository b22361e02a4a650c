"""Jurisdiction profiles as versioned data (rules 1, 7, 10, 13-18, 21, 24, 26-29, 31, 34)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.caps import CapRule, KeyKind
from compliance.errors import PolicyLooserError, ProfileError
from compliance.profiles import (
    PROFILE_DIR,
    CampaignPolicy,
    combine,
    load_ruleset,
    load_ruleset_file,
    parse_ruleset,
    use_operator_dir,
    validate_policy,
)
from compliance.windows import daily, hhmm


def test_every_shipped_profile_loads_with_a_version() -> None:
    names = sorted(p.stem for p in PROFILE_DIR.glob("*.json"))
    assert names == ["cn", "eu", "uk", "us"]
    for name in names:
        rs = load_ruleset(name)
        assert rs.id == name and rs.version.startswith(f"{name}-")


def test_rules_1_and_14_to_16_us_federal_and_state_windows() -> None:
    us = load_ruleset("us")
    assert us.base.hours.weekly[0] == (hhmm("08:00"), hhmm("21:00"))
    assert sorted(us.states) == ["FL", "MD", "OK"]  # AL/LA are [U], disabled (rule 17)
    for code, rule in (("FL", "rule-14"), ("OK", "rule-15"), ("MD", "rule-16")):
        st = us.states[code]
        assert st.hours.rule == rule and st.hours.weekly[3] == (hhmm("08:00"), hhmm("20:00"))
        assert [(c.key, c.window_s, c.limit) for c in st.caps] == [
            (KeyKind.NUMBER_SELLER_SUBJECT, 86_400, 3)
        ]
    assert us.state_of("+13055551234") == "FL"
    assert us.state_of("+14055551234") == "OK"
    assert us.state_of("+14105551234") == "MD"
    assert us.state_of("+12125551234") is None
    assert us.state_of("+442071234567") is None
    assert [p.id for p in us.profiles_for("FL", "AL", None)] == ["us", "us-fl"]


def test_rules_7_21_24_26_29_registries_cooldowns_consent_caps() -> None:
    us, uk, cn = load_ruleset("us"), load_ruleset("uk"), load_ruleset("cn")
    assert us.base.registry is not None and us.base.registry.max_age_days == 31
    assert uk.base.registry is not None and uk.base.registry.max_age_days == 28
    assert [c.hours for c in uk.base.cooldowns] == [72, None]
    assert [c.when for c in cn.base.consent] == ["always"]
    assert sorted((c.window_s, c.limit) for c in cn.base.caps) == [(86_400, 3), (2_592_000, 10)]


def _us() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PROFILE_DIR / "us.json").read_text())
    return data


def _broken(path: list[str | int], value: object) -> dict[str, Any]:
    data = copy.deepcopy(_us())
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["version"], KeyError, "version"),
        (["version"], 3, "version"),
        (["profile", "hours", "window"], ["08:00"], "profile.hours.window"),
        (["profile", "hours", "window"], ["21:00", "08:00"], "profile.hours.window"),
        (["profile", "hours", "rule"], "rule 1!", "profile.hours.rule"),
        (["profile", "caps", 0, "limit"], -1, "profile.caps[0].limit"),
        (["profile", "caps", 0, "key"], "number+planet", "profile.caps[0].key"),
        (["profile", "abandon", "cap"], 1.5, "profile.abandon.cap"),
        (["profile", "registry", "max_age_days"], True, "profile.registry.max_age_days"),
        (["states", "FL", "hours", "days"], {"funday": None}, "states.FL.hours.days.funday"),
        (["area_codes", "FL", 0], 99, "area_codes.FL[0]"),
        (["states", "FL", "zones"], ["America/Atlantis"], "states.FL.zones[0]"),
        (["states", "OK", "caps", 0, "window_hours"], 0, "states.OK.caps[0].window_hours"),
        (["profile", "cooldowns", 0, "after"], "sneezed", "profile.cooldowns[0].after"),
        (["profile", "consent", 0, "when"], "sometimes", "profile.consent[0].when"),
    ],
)
def test_loader_names_the_bad_field(path: list[str | int], value: object, field: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_ruleset(_broken(path, value), "us.json")
    assert err.value.field == field
    assert field in str(err.value)
    assert err.value.as_dict()["error"] == "profile_invalid"


def test_loader_rejects_a_missing_or_non_json_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError):
        load_ruleset_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ProfileError) as err:
        load_ruleset_file(bad)
    assert err.value.field == "<file>"


@pytest.mark.parametrize(
    "ref", ["/etc/passwd", "../../etc/hostname", "us.json", "US", "", "a" * 40, "us/../uk"]
)
def test_profiles_are_names_never_paths(ref: str) -> None:
    """Issue 18 finding 7: a request's profile= cannot open or probe a file."""
    with pytest.raises(ProfileError) as err:
        load_ruleset(ref)
    assert err.value.field == "profile" and "/" not in str(err.value.as_dict().get("profile", ""))


def test_an_operator_directory_adds_named_profiles(tmp_path: Path) -> None:
    (tmp_path / "acme.json").write_text((PROFILE_DIR / "uk.json").read_text(), encoding="utf-8")
    with pytest.raises(ProfileError):
        load_ruleset("acme")
    use_operator_dir(tmp_path)
    try:
        assert load_ruleset("acme").id == load_ruleset("uk").id
    finally:
        use_operator_dir(None)


def test_rule_34_campaign_may_only_be_stricter_validate_raises_naming_the_field() -> None:
    us = load_ruleset("us")
    fl = us.profiles_for("FL")
    validate_policy(CampaignPolicy(hours=daily(hhmm("09:00"), hhmm("19:00"))), fl)
    with pytest.raises(PolicyLooserError) as err:
        validate_policy(CampaignPolicy(hours=daily(hhmm("09:00"), hhmm("20:30"))), fl)
    assert err.value.field == "hours" and err.value.fields["profile"] == "us-fl"
    with pytest.raises(PolicyLooserError) as err:
        validate_policy(CampaignPolicy(abandon_cap=0.05), fl)
    assert err.value.field == "abandon_cap"
    loose = CapRule("campaign-cap", KeyKind.NUMBER_SELLER_SUBJECT, 86_400, 4)
    with pytest.raises(PolicyLooserError) as err:
        validate_policy(CampaignPolicy(caps=(loose,)), fl)
    assert err.value.field == "caps"


def test_combine_keeps_every_rule_and_the_lowest_abandon_cap() -> None:
    us, uk = load_ruleset("us"), load_ruleset("uk")
    eff = combine((*us.profiles_for("FL"), uk.base), CampaignPolicy("c", abandon_cap=0.02))
    assert [h.rule for h in eff.hours] == ["rule-1", "rule-14", "default-hours-uk"]
    assert min(a.cap for a in eff.abandon) == 0.02
    assert {r.name for r in eff.registries} == {"us-national", "uk-tps"}
    assert eff.version == f"{us.version}+{uk.version}+c"
