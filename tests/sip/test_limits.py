"""How a worker's compiled capacity is split (sip/limits.py): pure, no PJSIP."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sip.errors import SipConfigError
from sip.limits import ModuleLimits, plan_worker, probe_limits

STOCK = ModuleLimits(4, 254, 32, 32, built_by_outdial=False)
OURS = ModuleLimits(128, 1024, 256, 256, built_by_outdial=True)


def test_stock_module_gets_one_line_and_says_why() -> None:
    plan = plan_worker(STOCK, 32)
    assert (plan.lines, plan.agent_legs, plan.spare_slots) == (1, 2, 1)  # as before issue 12
    assert "holds 4 calls per process" in plan.note and "instead of 32" in plan.note


def test_stock_module_agentless_gets_three_lines() -> None:
    plan = plan_worker(STOCK, 32, agent_legs=0)
    assert (plan.lines, plan.agent_legs) == (3, 0)


def test_outdial_build_holds_the_default_k_with_agent_legs() -> None:
    plan = plan_worker(OURS, 32)
    assert plan.note == ""
    assert plan.lines == 32 and plan.agent_legs == 36  # each reserved + 1 per 8 lines
    assert plan.calls <= OURS.max_calls
    assert plan.amd_ports == 32 and plan.recorders == 64 and plan.players == 68


def test_explicit_agent_legs_that_do_not_fit_are_a_config_error() -> None:
    with pytest.raises(SipConfigError, match="exceeds the 4 calls"):
        plan_worker(STOCK, 2, agent_legs=2)
    with pytest.raises(SipConfigError, match="agent_legs >= customer_lines"):
        plan_worker(OURS, 4, agent_legs=2)


def test_conference_ports_bound_k() -> None:
    tight = ModuleLimits(128, 100, 256, 256, built_by_outdial=True)
    plan = plan_worker(tight, 32)
    used = 1 + plan.lines + plan.agent_legs + plan.players + plan.recorders + plan.amd_ports
    assert plan.lines < 32 and used <= 100 and plan.note


@given(
    st.integers(3, 600),
    st.integers(8, 4000),
    st.integers(1, 512),
    st.integers(1, 512),
    st.integers(1, 200),
    st.booleans(),
)
def test_a_plan_never_exceeds_the_module(
    calls: int, ports: int, players: int, recs: int, want: int, agents: bool
) -> None:
    limits = ModuleLimits(calls, ports, players, recs, built_by_outdial=True)
    try:
        plan = plan_worker(limits, want, agent_legs=None if agents else 0)
    except SipConfigError:
        return  # nothing fits: the pool refuses to start
    assert 1 <= plan.lines <= want
    assert plan.calls <= calls
    assert plan.players <= players and plan.recorders <= recs
    assert (
        1 + plan.lines + plan.agent_legs + plan.players + plan.recorders + plan.amd_ports <= ports
    )
    if agents:
        assert plan.agent_legs > plan.lines  # every line's leg reserved, and a retry
    assert (plan.lines < want) == bool(plan.note)


@pytest.mark.sip
def test_the_installed_module_is_outdials_build() -> None:
    limits = probe_limits()  # a child interpreter imports pjsua2 and reads them
    assert limits.built_by_outdial, "pjsua2 is not outdial's build: run `make install`"
    assert limits.max_calls >= 2 * 32 + 1
