"""Consent and lawful basis from a call list (issue 16; compliance rules 9, 26, 30).

A list may carry a consent column (同意, 是否同意, consent, opt_in ...) with, optionally, the
date consent was given (同意日期, consent_date) and its evidence (同意凭证, evidence). Each
imported contact whose column says yes gets a consent grant (compliance's
``consent_events``: the number, the date, the evidence, ``channel = "import"``); an explicit
refusal (拒绝, 不同意, refused) is recorded as one, which suppresses the number at once
(rule 9). Anything else (否, no, empty) records nothing: no explicit consent is no consent
(rule 26 "视为拒绝"), and the compliance preview names what is missing.

A list may instead rest on one basis stated by the uploader for every row
(``lists import --lawful-basis contract``); that statement is written to the audit trail.

These columns stay custom fields (the agent sees them) and are never taken for a phone, a
name or a visit date ("同意日期" contains 日期).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import select

from compliance import store
from compliance.store import audit
from lists.models import Contact
from outdial.storage import session_scope

STATUS_HEADERS = frozenset(
    {
        "同意", "是否同意", "同意状态", "客户同意", "营销同意", "授权", "是否授权", "授权状态",
        "consent", "consented", "consentstatus", "hasconsent", "optin", "optedin",
    }
)  # fmt: skip
DATE_HEADERS = frozenset(
    {
        "同意日期", "同意时间", "授权日期", "授权时间", "consentdate", "consentat",
        "consentedat", "consenttime", "optindate",
    }
)  # fmt: skip
EVIDENCE_HEADERS = frozenset(
    {
        "同意凭证", "授权凭证", "同意证据", "同意方式", "同意来源", "consentevidence",
        "consentproof", "consentsource", "evidence",
    }
)  # fmt: skip
GRANTED = frozenset(
    {"是", "同意", "已同意", "授权", "已授权", "y", "yes", "true", "1", "granted", "consent",
     "consented", "optin", "optedin", "√", "✓", "ok"}
)  # fmt: skip
REFUSED = frozenset({"拒绝", "不同意", "已拒绝", "refused", "refuse", "revoked", "撤回", "optout"})
#: 2026/11/2, 2026.11.02, 2026年11月2日 10:30, 2026-11-02 10:30:05
_DATE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_PUNCT = re.compile(r"[\s_\-.:：#/()（）\[\]【】]+")


def _key(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def is_consent_header(header: str) -> bool:
    key = _key(header)
    return key in STATUS_HEADERS or key in DATE_HEADERS or key in EVIDENCE_HEADERS


@dataclass(frozen=True)
class ConsentColumns:
    status: str
    date: str | None = None
    evidence: str | None = None


def find_columns(headers: Iterable[str]) -> ConsentColumns | None:
    """The list's consent columns, or None when it has no consent (status) column."""
    status = date = evidence = None
    for h in headers:
        key = _key(h)
        if key in STATUS_HEADERS and status is None:
            status = h
        elif key in DATE_HEADERS and date is None:
            date = h
        elif key in EVIDENCE_HEADERS and evidence is None:
            evidence = h
    return ConsentColumns(status, date, evidence) if status else None


def status_of(value: object) -> str | None:
    """``granted``, ``refused`` or None (nothing said) for a consent cell."""
    key = _key(str(value or ""))
    if key in GRANTED:
        return "granted"
    if key in REFUSED:
        return "refused"
    return None


def parse_when(value: object, zone: str) -> datetime | None:
    """A consent date as written in a list (2026-11-20, 2026/11/20 10:00, 2026年11月20日);
    a time without an offset is the campaign's zone. None when it cannot be read."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)  # ISO, with or without an offset
    except ValueError:
        m = _DATE.match(text)
        if m is None:
            return None
        try:
            y, mo, d, h, mi, sec = (int(g or 0) for g in m.groups())
            at = datetime(y, mo, d, h, mi, sec)
        except ValueError:
            return None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(zone))


def record_import(
    engine: Engine,
    *,
    job_id: int,
    headers: list[str],
    list_info: dict[str, Any],
    lawful_basis: str,
    stated_by: str,
    zone: str,
    now: datetime,
) -> dict[str, Any]:
    """After an import: consent events from the consent column, and the uploader's
    statement of the list's lawful basis, with their audit rows. Returns the report part."""
    out: dict[str, Any] = {"lawful_basis": lawful_basis or None}
    cols = find_columns(headers)
    with session_scope(engine) as s:
        if lawful_basis:  # rule 30: the list records its legal basis, and who stated it
            audit(
                s,
                "lawful_basis",
                {**list_info, "lawful_basis": lawful_basis, "stated_by": stated_by},
                now,
            )
        if cols is None:
            return out
        counts = {"granted": 0, "refused": 0, "none": 0, "bad_date": 0}
        rows = s.exec(
            select(Contact.id, Contact.row_number, Contact.primary_number, Contact.custom).where(
                Contact.job_id == job_id
            )
        )
        for _cid, row_no, number, custom in rows:
            custom = custom or {}
            status = status_of(custom.get(cols.status))
            if status is None:
                counts["none"] += 1
                continue
            at = parse_when(custom.get(cols.date), zone) if cols.date else None
            if at is None:
                counts["bad_date"] += bool(cols.date and custom.get(cols.date))
                at = now
            evidence = str(custom.get(cols.evidence) or "") if cols.evidence else ""
            where = f"list {list_info.get('list')!r} row {row_no} (import job {job_id})"
            store.consent_add(s, number, status, "import", _evidence(evidence, where), at, now)
            counts[status] += 1
        audit(
            s,
            "consent_import",
            {**list_info, "column": cols.status, "stated_by": stated_by, **counts},
            now,
        )
    out["consent"] = {
        "column": cols.status,
        "date_column": cols.date,
        "evidence_column": cols.evidence,
        **counts,
    }
    return out


def _evidence(evidence: str, where: str) -> str:
    return f"{evidence}; {where}" if evidence else where


@dataclass(frozen=True)
class ConsentRow:
    row: int  # 1-based data row of the file
    number: str  # E.164
    status: str | None  # granted, refused, None (nothing said)
    at: datetime | None
    evidence: str


def read_consent_file(
    path: Path, region: str, zone: str
) -> tuple[list[ConsentRow], list[dict[str, Any]], bool]:
    """``outdial consent import``: (rows, rejected rows, has a consent column). Without a
    consent column every row with a number is a grant."""
    from compliance.errors import InvalidNumberInput
    from lists import columns, reader

    table = reader.read_table(path, None, None)
    frame = table.frame
    headers = [str(h) for h in frame.columns]
    cmap = columns.map_columns(headers)
    cols = find_columns(headers)
    out: list[ConsentRow] = []
    rejected: list[dict[str, Any]] = []
    for i, rec in enumerate(frame.to_dict("records")):
        row = table.first_row + i
        raw = str(rec.get(cmap.phones[0]) or "").strip()
        try:
            number = store.normalize(raw, region)
        except InvalidNumberInput as exc:
            rejected.append({"row": row, "number": raw, "reason": exc.message})
            continue
        status = status_of(rec.get(cols.status)) if cols else "granted"
        at = parse_when(rec.get(cols.date), zone) if cols and cols.date else None
        evidence = str(rec.get(cols.evidence) or "") if cols and cols.evidence else ""
        out.append(ConsentRow(row, number, status, at, evidence))
    return out, rejected, cols is not None
