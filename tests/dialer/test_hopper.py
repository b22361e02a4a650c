"""The hopper's claims across engine nodes (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import dialdata
from sqlalchemy.engine import Engine

from campaigns.rules import RetryPolicy
from dialer import hopper
from lists.models import Contact
from outdial.storage import session_scope

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


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
