"""Tamper-evident audit trail: rule 36 (and the records rules 6, 12, 25 require)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.chain import GENESIS, canonical_json, seal, seal_all, verify
from compliance.errors import ChainError


def rows(n: int) -> list[dict[str, Any]]:
    return seal_all(
        {
            "seq": i,
            "kind": "decision",
            "number": "+12125551234",
            "reasons": ["rule-1"],
            "at": f"2026-11-23T13:{i % 60:02d}:00Z",
        }
        for i in range(n)
    )


def test_rule_36_intact_chain_verifies() -> None:
    chain = rows(5)
    assert chain[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(chain))
    assert verify(chain) is None
    assert verify([]) is None


def test_rule_36_canonical_json_ignores_key_order_and_whitespace() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json({"a": "é", "b": 1})
    assert canonical_json({"a": 1, "hash": "x"}) == b'{"a":1}'


def test_rule_36_non_json_values_are_refused() -> None:
    with pytest.raises(ChainError):
        canonical_json({"at": object()})
    with pytest.raises(ChainError):
        canonical_json({"rate": float("nan")})


def test_rule_36_deleted_row_is_reported_at_the_row_after_it() -> None:
    chain = rows(5)
    del chain[2]
    assert verify(chain) == 2


def test_rule_36_reordered_rows_are_detected() -> None:
    chain = rows(4)
    chain[1], chain[2] = chain[2], chain[1]
    assert verify(chain) == 1


def test_rule_36_truncated_tail_is_caught_against_the_kept_head() -> None:
    chain = rows(4)
    head = chain[-1]["hash"]
    assert verify(chain, expected_head=head) is None
    assert verify(chain[:3], expected_head=head) == 3


def test_rule_36_rehashing_an_edited_row_still_breaks_the_next_link() -> None:
    chain = rows(4)
    forged = seal(chain[1]["prev_hash"], {**chain[1], "reasons": []})
    chain[1] = forged
    assert verify(chain) == 2


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.data())
def test_rule_36_any_tampered_field_is_detected_at_that_row(n: int, data: st.DataObject) -> None:
    chain = rows(n)
    i = data.draw(st.integers(0, n - 1))
    key = data.draw(st.sampled_from(sorted(chain[i])))
    new = data.draw(st.one_of(st.text(max_size=5), st.integers(), st.none()))
    if chain[i][key] == new:
        return
    chain[i] = {**chain[i], key: new}
    bad = verify(chain)
    # editing prev_hash or hash shows at the row itself; no edit goes unnoticed
    assert bad == i
