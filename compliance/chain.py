"""Hash-chain helpers for the append-only audit trail (rule 36).

Each row stores ``prev_hash`` (the previous row's ``hash``, or ``GENESIS`` for the first)
and ``hash = sha256(prev_hash || "\\n" || canonical_json(row without "hash"))``. Editing a
row breaks its own hash; deleting or reordering rows breaks the next row's ``prev_hash``;
dropping the newest rows is caught by comparing the last hash with a head kept elsewhere
(``expected_head``). The storage adapter appends with ``seal``; ``verify`` walks the rows.

Canonical JSON: sorted keys, no whitespace, UTF-8, no NaN; datetimes must already be ISO
strings (the adapter writes UTC, rule 36), so the bytes never depend on the platform.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from compliance.errors import ChainError

GENESIS = "0" * 64
HASH = "hash"
PREV = "prev_hash"


def canonical_json(row: Mapping[str, Any]) -> bytes:
    """Deterministic bytes for a row (all fields except ``hash``)."""
    body = {k: v for k, v in row.items() if k != HASH}
    try:
        text = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ChainError(f"audit row is not canonical JSON: {exc}") from exc
    return text.encode("utf-8")


def link(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of ``row`` chained after ``prev_hash``."""
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii"))
    h.update(b"\n")
    h.update(canonical_json(row))
    return h.hexdigest()


def seal(prev_hash: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` with ``prev_hash`` and ``hash`` set, ready to append."""
    out = {k: v for k, v in row.items() if k != HASH}
    out[PREV] = prev_hash
    out[HASH] = link(prev_hash, out)
    return out


def seal_all(rows: Iterable[Mapping[str, Any]], prev_hash: str = GENESIS) -> list[dict[str, Any]]:
    """Seal rows in order (tests and bulk imports)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        sealed = seal(prev_hash, row)
        out.append(sealed)
        prev_hash = sealed[HASH]
    return out


def verify(
    rows: Iterable[Mapping[str, Any]],
    prev_hash: str = GENESIS,
    expected_head: str | None = None,
) -> int | None:
    """Index of the first bad row, or ``None`` if the chain is intact.

    A row is bad if its ``prev_hash`` is not the previous row's hash (a row was removed or
    reordered before it) or its ``hash`` does not match its content (it was edited). When
    ``expected_head`` is given and the last hash differs, the index past the end is
    returned: rows are missing at the tail.
    """
    count = 0
    for i, row in enumerate(rows):
        count = i + 1
        if row.get(PREV) != prev_hash:
            return i
        try:
            digest = link(prev_hash, row)
        except ChainError:
            return i
        if row.get(HASH) != digest:
            return i
        prev_hash = digest
    if expected_head is not None and expected_head != prev_hash:
        return count
    return None
