"""The hopper's claims across engine nodes (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

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
