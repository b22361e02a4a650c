"""The hopper's claims across engine nodes (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import dialdata
from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns.rules import RetryPolicy
from dialer import hopper
from lists.models import Contact
from outdial.storage import session_scope

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def by_id(c: Contact) -> int:
    return c.id or 0


def states(engine: Engine, ids: list[int]) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        return [(c.status, c.claimed_by) for i in ids if (c := s.get(Contact, i)) is not None]


def test_start_up_recovery_gives_back_only_its_own_nodes_claims(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "h1", ["+8613800000201", "+8613800000202"])
    [a] = hopper.claim(engine, cid, 1, NOW, node="n0")  # n0 is between claim and attempt
    [b] = hopper.claim(engine, cid, 1, NOW, node="n1")  # n1 crashed right after its claim
    assert states(engine, [a.contact_id, b.contact_id]) == [("dialing", "n0"), ("dialing", "n1")]
    # n1 starts again: its own orphan claim goes back, n0's live claim is left alone
    hopper.recover_in_flight(engine, cid, RetryPolicy(), NOW, node="n1")
    assert states(engine, [a.contact_id, b.contact_id]) == [("dialing", "n0"), ("new", "n1")]
    assert [lead.contact_id for lead in hopper.claim(engine, cid, 5, NOW, node="n1")] == [
        b.contact_id
    ]


def test_a_claim_from_before_the_node_was_recorded_is_anyones_to_recover(engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(engine, "h2", ["+8613800000203"])
    [a] = hopper.claim(engine, cid, 1, NOW)  # claimed_by "" (as rows migrated by 0004_dialer)
    hopper.recover_in_flight(engine, cid, RetryPolicy(), NOW, node="n7")
    assert states(engine, [a.contact_id]) == [("new", "")]


def test_a_carrier_announcement_is_a_bad_number_not_a_no_answer(engine: Engine) -> None:
    """Issue 20: SIT "vacant" ends the contact (bad_number is not retried by default);
    SIT "reorder" is the network's trouble and is retried like a failed call."""
    numbers = ["+8613800000204", "+8613800000205"]
    cid = dialdata.campaign_with_contacts(engine, "h3", numbers)
    vacant, reorder = hopper.claim(engine, cid, 2, NOW)
    for i, (lead, sit) in enumerate([(vacant, "sit_vacant"), (reorder, "sit_reorder")]):
        hopper.open_attempt(engine, f"ann-{i}", cid, lead, "n1", NOW)
        why = f"{sit}: carrier announcement"
        done = hopper.Finished(f"ann-{i}", "failed", "answered", 200, why, False, None, None)
        att = hopper.close_attempt(
            engine, dataclasses.replace(done, amd="announcement"), RetryPolicy(), NOW
        )
        assert att is not None and att.amd == "announcement"
    with session_scope(engine) as s:
        got = [
            (c.status, c.last_outcome)
            for c in (s.get(Contact, vacant.contact_id), s.get(Contact, reorder.contact_id))
            if c
        ]
    assert got == [("done", "bad_number"), ("retry", "failure")]


def test_a_team_callbacks_record_is_claimed_as_the_core_rule_says(engine: Engine) -> None:
    """hopper.claim's SQL gives a due team callback's record to the claimer exactly when
    campaigns/callback_times.py team_callback_offered says so, for every mix of teams signed
    in and ready, inside and after the grace; a lead held for a team carries it."""
    from datetime import timedelta

    from campaigns.callback_times import TeamsOnline, team_callback_holder, team_callback_offered

    # (callback team, minutes since its time): A inside the grace, A after it, B, no team
    held = [("A", 5), ("A", 20), ("B", 5), (None, 5)]
    phones = [f"+86138000003{i:02d}" for i in range(len(held))]
    cid = dialdata.campaign_with_contacts(engine, "teams", phones)
    with session_scope(engine) as s:
        rows = sorted(s.exec(select(Contact).where(Contact.campaign_id == cid)), key=by_id)
        ids = [c.id or 0 for c in rows]
        for c, (team, ago) in zip(rows, held, strict=True):
            c.callback_at = c.next_due_at = NOW - timedelta(minutes=ago)
            c.status, c.callback_team = "retry", team
            s.add(c)
    cases = [
        TeamsOnline(frozenset(), frozenset(), 15),
        TeamsOnline(frozenset({"A", "B"}), frozenset({"B"}), 15),
        TeamsOnline(frozenset({"A", "B"}), frozenset({"A"}), 15),
        TeamsOnline(frozenset({"A"}), frozenset(), 15),
        TeamsOnline(frozenset({"B"}), frozenset({"B"}), 60),
    ]
    for online in cases:
        leads = hopper.claim(engine, cid, 10, NOW, teams=online)
        want = [
            i
            for i, (team, ago) in zip(ids, held, strict=True)
            if team_callback_offered(team, NOW - timedelta(minutes=ago), NOW, online)
        ]
        assert sorted(lead.contact_id for lead in leads) == want, online
        for lead in leads:
            team, ago = held[ids.index(lead.contact_id)]
            assert lead.team == team_callback_holder(
                team, NOW - timedelta(minutes=ago), NOW, online
            )
            hopper.unclaim(engine, lead)
    busy_a = TeamsOnline(frozenset({"A", "B"}), frozenset({"B"}), 15)
    assert ids[0] not in [
        lead.contact_id for lead in hopper.claim(engine, cid, 10, NOW, teams=busy_a)
    ]
