"""Reading the audit trail back for people: the newest rows, filtered (the console's audit
page and ``GET /api/audit``). The trail itself is written and verified in store.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance.models import AuditEntry
from outdial.models import as_utc
from outdial.storage import session_scope


def recent(
    engine: Engine, kind: str = "", contains: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Newest first; ``kind`` exact (decision, outcome, dnc_add, ...), ``contains`` a piece
    of the body (a number's digits, a call id)."""
    q = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(max(1, min(limit, 1000)))
    if kind:
        q = q.where(col(AuditEntry.kind) == kind)
    if contains:
        escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(col(AuditEntry.body).like(f"%{escaped}%", escape="\\"))
    with session_scope(engine) as s:
        rows = list(s.exec(q))
    out = []
    for r in rows:
        try:
            body = json.loads(r.body)
        except ValueError:
            body = {"raw": r.body}
        out.append(
            {
                "id": r.id,
                "at": as_utc(r.at).isoformat(),
                "kind": r.kind,
                "body": body,
                "hash": r.hash,
            }
        )
    return out


def kinds(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return sorted({k for k in s.exec(select(AuditEntry.kind).distinct())})
