"""The compliance adapter's storage: DNC list, consent, registry snapshots, cap slots, audit.

The pure core (decision.py) never reads these tables; this module reads them into the
core's value objects, and writes what the core decided. Every write that a regulator may
ask about appends a row to the hash-chained audit trail in the same transaction (rule 36).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from compliance import chain
from compliance.caps import Slot
from compliance.decision import ConsentRecord, ConsentStatus
from compliance.decision import DncEntry as CoreDnc
from compliance.errors import InvalidNumberInput
from compliance.models import (
    AuditEntry,
    ConsentEvent,
    DialSlot,
    DncEntry,
    RegistryChunk,
    RegistrySnapshot,
)
from compliance.registry import Registry
from outdial.models import as_utc, utcnow
from outdial.storage import lock, session_scope

AUDIT_LOCK = "audit"
CHUNK_BYTES = 4 * 1024 * 1024
DNC_RETENTION = timedelta(days=5 * 365)  # rule 8: honoured for 5 years


def normalize(number: str, region: str = "CN") -> str:
    """A user-typed number as E.164, or :class:`InvalidNumberInput` naming the problem."""
    text = number.strip()
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumberInput(f"not a phone number: {text!r}", number=text) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumberInput(f"not a possible phone number: {text!r}", number=text)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- audit trail (rule 36) ---------------------------------------------------------------


def audit(session: Session, kind: str, body: dict[str, Any], at: datetime | None = None) -> str:
    """Append one row to the chain inside the caller's transaction; return its hash."""
    at = at or utcnow()
    lock(session, AUDIT_LOCK)  # no other writer can append between our read and our insert
    last = session.exec(select(AuditEntry.hash).order_by(col(AuditEntry.id).desc())).first()
    prev = last or chain.GENESIS
    row = {"at": at.astimezone(UTC).isoformat(), "kind": kind, "body": body}
    sealed = chain.seal(prev, row)
    session.add(
        AuditEntry(
            at=at,
            kind=kind,
            body=json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
            prev_hash=prev,
            hash=sealed[chain.HASH],
        )
    )
    session.flush()
    return str(sealed[chain.HASH])


@dataclass(frozen=True)
class AuditVerdict:
    rows: int
    first_bad_id: int | None
    head: str

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def _audit_rows(session: Session) -> Iterator[tuple[int, dict[str, Any]]]:
    q = select(AuditEntry).order_by(col(AuditEntry.id)).execution_options(yield_per=5000)
    for e in session.exec(q):
        assert e.id is not None
        yield (
            e.id,
            {
                "at": as_utc(e.at).isoformat(),
                "kind": e.kind,
                "body": json.loads(e.body),
                chain.PREV: e.prev_hash,
                chain.HASH: e.hash,
            },
        )


def audit_verify(engine: Engine, expected_head: str | None = None) -> AuditVerdict:
    """Walk the chain; report the id of the first tampered or missing row."""
    with session_scope(engine) as s:
        ids: list[int] = []
        rows: list[dict[str, Any]] = []
        for row_id, row in _audit_rows(s):
            ids.append(row_id)
            rows.append(row)
    bad = chain.verify(rows, expected_head=expected_head)
    # a gap in the ids means a row was deleted; the chain catches it at the next row
    head = rows[-1][chain.HASH] if rows else chain.GENESIS
    if bad is None:
        return AuditVerdict(len(rows), None, head)
    return AuditVerdict(
        len(rows), ids[bad] if bad < len(ids) else (ids[-1] + 1 if ids else 1), head
    )


# --- internal DNC list (rules 8, 9, 24) -----------------------------------------------------


def dnc_add(
    engine: Engine,
    number: str,
    source: str = "manual",
    reason: str = "",
    seller: str = "",
    region: str = "CN",
    at: datetime | None = None,
) -> tuple[DncEntry, bool]:
    """Suppress a number from now on; return (entry, created). Idempotent."""
    e164 = normalize(number, region)
    at = at or utcnow()
    with session_scope(engine) as s:
        existing = s.exec(select(DncEntry).where(DncEntry.number == e164)).first()
        if existing is not None:
            return existing, False
        entry = DncEntry(number=e164, source=source, reason=reason, seller=seller, captured_at=at)
        s.add(entry)
        audit(s, "dnc_add", {"number": e164, "source": source, "reason": reason}, at)
        s.flush()
        s.refresh(entry)
        return entry, True


def dnc_remove(engine: Engine, number: str, region: str = "CN", by: str = "") -> bool:
    """Lift a suppression (audited). Returns whether the number was on the list."""
    e164 = normalize(number, region)
    with session_scope(engine) as s:
        entry = s.exec(select(DncEntry).where(DncEntry.number == e164)).first()
        if entry is None:
            return False
        s.delete(entry)
        audit(s, "dnc_remove", {"number": e164, "by": by})
        return True


@dataclass(frozen=True)
class DncImport:
    read: int
    added: int
    already: int
    invalid: list[tuple[int, str]]  # (line number, text)


def dnc_import(
    engine: Engine, lines: Iterable[str], source: str = "import", region: str = "CN"
) -> DncImport:
    """Add every number of a file (one per line) in one transaction; report each line."""
    rows = ((lineno, raw.strip().split(",")[0].strip(), "") for lineno, raw in enumerate(lines, 1))
    return dnc_import_rows(
        engine, (r for r in rows if r[1] and not r[1].startswith("#")), source, region
    )


def dnc_import_rows(
    engine: Engine,
    rows: Iterable[tuple[int, str, str]],
    source: str = "import",
    region: str = "CN",
) -> DncImport:
    """Add (line, number as written, reason) rows in one transaction, audited once; a
    number already on the list, or twice in the rows, counts as ``already``."""
    read = 0
    numbers: dict[str, str] = {}  # E.164 -> reason of its first row
    invalid: list[tuple[int, str]] = []
    for lineno, text, reason in rows:
        read += 1
        try:
            numbers.setdefault(normalize(text, region), reason[:255])
        except InvalidNumberInput:
            invalid.append((lineno, text))
    now = utcnow()
    with session_scope(engine) as s:
        present = _present(s, list(numbers))
        new = [n for n in numbers if n not in present]
        s.add_all(
            DncEntry(number=n, source=source, reason=numbers[n], captured_at=now) for n in new
        )
        if new:
            audit(
                s, "dnc_import", {"added": len(new), "source": source, "sha256": _digest(new)}, now
            )
    return DncImport(read, len(new), read - len(new) - len(invalid), invalid)


def _present(s: Session, numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(numbers), 900):
        part = numbers[i : i + 900]
        found.update(s.exec(select(DncEntry.number).where(col(DncEntry.number).in_(part))))
    return found


def dnc_export(engine: Engine) -> list[DncEntry]:
    with session_scope(engine) as s:
        return list(s.exec(select(DncEntry).order_by(col(DncEntry.number))))


def dnc_lookup(engine: Engine, numbers: Sequence[str]) -> tuple[CoreDnc, ...]:
    """The internal-DNC entries for these numbers, as the core's value objects."""
    with session_scope(engine) as s:
        rows: list[DncEntry] = []
        for i in range(0, len(numbers), 900):
            part = list(numbers[i : i + 900])
            rows.extend(s.exec(select(DncEntry).where(col(DncEntry.number).in_(part))))
    return tuple(core_dnc(r) for r in rows)


def core_dnc(r: DncEntry) -> CoreDnc:
    """A stored DNC row as the core's value object."""
    return CoreDnc(r.number, r.seller or None, as_utc(r.captured_at), r.source)


def dnc_purge_expired(engine: Engine, now: datetime | None = None) -> int:
    """Drop entries older than the 5-year retention (rule 8), audited."""
    cutoff = (now or utcnow()) - DNC_RETENTION
    with session_scope(engine) as s:
        old = list(s.exec(select(DncEntry.number).where(col(DncEntry.captured_at) < cutoff)))
        if old:
            s.exec(delete(DncEntry).where(col(DncEntry.number).in_(old)))
            audit(s, "dnc_purge", {"count": len(old), "before": cutoff.isoformat()})
        return len(old)


# --- consent (rules 9, 10, 26, 30) --------------------------------------------------------


def consent_record(
    engine: Engine,
    number: str,
    status: ConsentStatus | str,
    seller: str = "",
    scope: Iterable[str] = ("*",),
    written: bool = False,
    channel: str = "",
    evidence: str = "",
    at: datetime | None = None,
    region: str = "CN",
) -> ConsentEvent:
    """Record a grant, refusal or revocation. A refusal or revocation also suppresses the
    number at once (rule 9: an opt-out clears consent and adds the number to internal DNC)."""
    e164 = normalize(number, region)
    status = ConsentStatus(status)
    at = (at or utcnow()).astimezone(UTC)  # SQLite keeps no offset: store UTC
    event = ConsentEvent(
        number=e164,
        seller=seller,
        status=status.value,
        scope=",".join(sorted(set(scope))),
        written=written,
        channel=channel,
        evidence=evidence,
        at=at,
    )
    with session_scope(engine) as s:
        s.add(event)
        audit(
            s,
            "consent",
            {"number": e164, "seller": seller, "status": status.value, "channel": channel},
            at,
        )
        refused = status is not ConsentStatus.GRANTED
        if refused and s.exec(select(DncEntry).where(DncEntry.number == e164)).first() is None:
            s.add(
                DncEntry(
                    number=e164,
                    source=channel or "consent",
                    reason=status.value,
                    captured_at=at,
                )
            )
            audit(
                s,
                "dnc_add",
                {"number": e164, "source": channel or "consent", "reason": status.value},
                at,
            )
        s.flush()
        s.refresh(event)
    return event


def consent_add(
    s: Session, number: str, status: str, channel: str, evidence: str, at: datetime, now: datetime
) -> None:
    """One grant or refusal of a bulk import (lists, consent files), in the caller's
    transaction; a refusal suppresses the number at once (rule 9). The caller audits the
    batch once."""
    at = at.astimezone(UTC)  # SQLite keeps no offset: store UTC
    s.add(
        ConsentEvent(
            number=number,
            status=ConsentStatus(status).value,
            channel=channel,
            evidence=evidence[:1024],
            at=at,
        )
    )
    if status == ConsentStatus.GRANTED:
        return
    if s.exec(select(DncEntry).where(DncEntry.number == number)).first() is None:
        s.add(DncEntry(number=number, source=channel, reason=status, captured_at=at))
        audit(s, "dnc_add", {"number": number, "source": channel, "reason": status}, now)


def consents_for(engine: Engine, number: str) -> tuple[ConsentRecord, ...]:
    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(ConsentEvent)
                .where(ConsentEvent.number == number)
                .order_by(col(ConsentEvent.at))
            )
        )
    return tuple(core_consent(r) for r in rows)


def core_consent(r: ConsentEvent) -> ConsentRecord:
    """A stored consent event as the core's value object."""
    return ConsentRecord(
        number=r.number,
        seller=r.seller or None,
        status=ConsentStatus(r.status),
        at=as_utc(r.at),
        scope=frozenset(r.scope.split(",")) if r.scope else frozenset({"*"}),
        written=r.written,
        expires_at=as_utc(r.expires_at) if r.expires_at else None,
        evidence=r.evidence,
        record_id=str(r.id),
    )


# --- registry snapshots (rules 7, 24) -------------------------------------------------------


def registry_save(engine: Engine, reg: Registry) -> RegistrySnapshot:
    """Store a snapshot (compressed sorted int64 chunks) and its date."""
    raw = reg.numbers.tobytes()
    digest = hashlib.sha256(raw).hexdigest()
    with session_scope(engine) as s:
        snap = RegistrySnapshot(name=reg.name, as_of=reg.snapshot, count=len(reg), sha256=digest)
        s.add(snap)
        s.flush()
        assert snap.id is not None
        for seq, start in enumerate(range(0, len(raw), CHUNK_BYTES)):
            data = zlib.compress(raw[start : start + CHUNK_BYTES], 1)
            s.add(RegistryChunk(snapshot_id=snap.id, seq=seq, data=data))
            s.flush()
        audit(
            s,
            "registry_load",
            {
                "registry": reg.name,
                "as_of": reg.snapshot.isoformat(),
                "count": len(reg),
                "sha256": digest,
            },
        )
        s.refresh(snap)
        return snap


def registry_latest(engine: Engine, name: str) -> Registry | None:
    """The newest snapshot of a registry, loaded into memory, or None if there is none."""
    with session_scope(engine) as s:
        snap = s.exec(
            select(RegistrySnapshot)
            .where(RegistrySnapshot.name == name)
            .order_by(col(RegistrySnapshot.as_of).desc(), col(RegistrySnapshot.id).desc())
        ).first()
        if snap is None:
            return None
        nums = array("q")
        for chunk in s.exec(
            select(RegistryChunk.data)
            .where(RegistryChunk.snapshot_id == snap.id)
            .order_by(col(RegistryChunk.seq))
        ):
            nums.frombytes(zlib.decompress(chunk))
        return Registry(snap.name, snap.as_of, nums)


def registry_dates(engine: Engine) -> dict[str, date]:
    """The newest snapshot date of every registry (the core blocks on a stale one)."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(RegistrySnapshot.name, func.max(RegistrySnapshot.as_of)).group_by(
                RegistrySnapshot.name
            )
        )
        return {name: as_of for name, as_of in rows}


# --- attempt caps (rules 13-16, 21, 29, 34) -------------------------------------------------


def take_slots(
    engine: Engine, slots: Sequence[Slot], now: datetime, attempt_ref: str = ""
) -> Slot | None:
    """Atomically check every cap slot and count this attempt under each.

    Returns None when the attempt was counted, or the first full slot (nothing counted).
    The keys' locks serialize two processes reaching for the last slot of the same key.
    """
    with session_scope(engine) as s:
        for name in sorted({f"cap:{zlib.crc32(sl.key.encode()) % 4096}" for sl in slots}):
            lock(s, name)
        for sl in slots:
            since = now - timedelta(seconds=sl.window_s)
            used = s.exec(
                select(func.count())
                .select_from(DialSlot)
                .where(DialSlot.key == sl.key, col(DialSlot.at) > since)
            ).one()
            if used >= sl.limit:
                return sl
        # one row per key: caps of several windows on one key count the same attempts
        keys = dict.fromkeys(sl.key for sl in slots)
        s.add_all(DialSlot(key=k, at=now, attempt_ref=attempt_ref) for k in keys)
    return None


def _digest(items: Iterable[str]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(item.encode())
        h.update(b"\n")
    return h.hexdigest()
