"""Recording consent (issue 16; rules 9, 10, 26, 30): add, revoke, import, look up.

What ``outdial consent ...`` and ``/api/consent`` call. A grant needs evidence (rule 26:
"keep a consent whitelist with evidence"); a revocation suppresses the number at once
(rule 9, via :func:`compliance.store.consent_record`). Every change is in the audit trail.
The dial decision reads these events (compliance/gate.py, ``consents_for``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance import store
from compliance.decision import ConsentStatus
from compliance.models import ConsentEvent
from outdial.errors import InvalidInput
from outdial.models import as_utc, utcnow
from outdial.storage import session_scope


def event_json(e: ConsentEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "number": e.number,
        "status": e.status,
        "at": as_utc(e.at).isoformat(),
        "evidence": e.evidence,
        "channel": e.channel,
        "scope": e.scope,
        "seller": e.seller or None,
        "written": e.written,
    }


def add(
    engine: Engine,
    number: str,
    evidence: str,
    at: datetime | None = None,
    region: str = "CN",
    written: bool = False,
    channel: str = "manual",
) -> dict[str, Any]:
    """Record a consent grant for NUMBER, with the evidence (what was agreed, where)."""
    if not evidence.strip():
        raise InvalidInput(
            "consent needs its evidence, e.g. --evidence 'web form 2026-11-20, order 123' "
            "(rule 26: keep consent with evidence)",
            field="evidence",
        )
    _check_time(at)
    e = store.consent_record(
        engine,
        number,
        ConsentStatus.GRANTED,
        written=written,
        channel=channel,
        evidence=evidence.strip(),
        at=at,
        region=region,
    )
    return event_json(e)


def revoke(
    engine: Engine,
    number: str,
    reason: str = "",
    at: datetime | None = None,
    region: str = "CN",
    channel: str = "manual",
) -> dict[str, Any]:
    """Record a revocation: consent ends and the number is on the internal DNC list at once
    (rule 9)."""
    _check_time(at)
    e = store.consent_record(
        engine,
        number,
        ConsentStatus.REVOKED,
        channel=channel,
        evidence=reason,
        at=at,
        region=region,
    )
    return event_json(e)


def history(engine: Engine, number: str | None = None, region: str = "CN") -> list[dict[str, Any]]:
    """Consent events, oldest first; one number's, or the latest 1000 of all."""
    q = select(ConsentEvent)
    if number:
        q = q.where(ConsentEvent.number == store.normalize(number, region))
        q = q.order_by(col(ConsentEvent.at), col(ConsentEvent.id))
        with session_scope(engine) as s:
            return [event_json(e) for e in s.exec(q)]
    with session_scope(engine) as s:
        rows = list(s.exec(q.order_by(col(ConsentEvent.id).desc()).limit(1000)))
    return [event_json(e) for e in reversed(rows)]


def import_file(
    engine: Engine,
    path: Path,
    evidence: str = "",
    region: str = "CN",
    zone: str = "Asia/Shanghai",
    file_name: str | None = None,
) -> dict[str, Any]:
    """Consent from a file (CSV/XLSX, GBK too): a phone column and a consent column
    (同意/consent: yes or refused), optionally 同意日期/consent_date and 同意凭证/evidence.
    Without a consent column every row is a grant and ``evidence`` is required."""
    from lists import consent as list_consent  # pandas stays in lists/

    rows, rejected, has_status = list_consent.read_consent_file(path, region, zone)
    if not has_status and not evidence.strip():
        raise InvalidInput(
            "the file has no consent column (同意/consent): every row would be a grant, so "
            "say what the evidence is with --evidence",
            field="evidence",
        )
    now = utcnow()
    name = file_name or path.name
    counts = {"granted": 0, "refused": 0, "none": 0}
    with session_scope(engine) as s:
        for row in rows:
            if row.status is None:
                counts["none"] += 1
                continue
            where = f"file {name!r} row {row.row}"
            text = "; ".join(t for t in (row.evidence, evidence.strip(), where) if t)
            store.consent_add(s, row.number, row.status, "import", text, row.at or now, now)
            counts[row.status] += 1
        store.audit(s, "consent_import", {"file": name, "rejected": len(rejected), **counts}, now)
    return {"file": name, **counts, "rejected": rejected}


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 instant typed by a user (``Z`` allowed); None when empty."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"not an ISO date-time: {text!r}", field="at") from exc
    if value.tzinfo is None:
        raise InvalidInput("the time needs a zone, e.g. 2026-11-20T10:00:00+08:00", field="at")
    return value


def _check_time(at: datetime | None) -> None:
    if at is not None and at > datetime.now(UTC):
        raise InvalidInput("consent cannot be dated in the future", field="at")
