"""Test data for the dialing engine: a campaign with contacts, inserted directly."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import store as campaigns
from compliance.amd_sampling import SAMPLED_MACHINE
from dialer import hopper
from dialer.core import CoreConfig, DialerCore
from lists.models import CallList, Contact, ImportJob
from outdial.storage import session_scope


def campaign_with_contacts(
    engine: Engine, name: str, numbers: list[str], mode: str = "progressive"
) -> int:
    camp = campaigns.create(engine, name, mode=mode)
    assert camp.id is not None
    add_contacts(engine, camp.id, numbers)
    return camp.id


def add_contacts(
    engine: Engine,
    campaign_id: int,
    numbers: list[str],
    timezones: tuple[str, ...] = ("Asia/Shanghai",),
    custom: list[dict[str, object]] | None = None,
) -> list[int]:
    """A ready list of new contacts for an existing campaign; their ids, in order."""
    ids: list[int] = []
    with session_scope(engine) as s:
        cl = CallList(campaign_id=campaign_id, name=f"l{campaign_id}", status="ready")
        s.add(cl)
        s.flush()
        assert cl.id is not None
        sha = hashlib.sha256(f"{campaign_id}:{','.join(numbers)}".encode()).hexdigest()
        job = ImportJob(list_id=cl.id, status="done", content_sha256=sha)
        s.add(job)
        s.flush()
        assert job.id is not None
        for i, n in enumerate(numbers, 1):
            contact = Contact(
                list_id=cl.id,
                campaign_id=campaign_id,
                job_id=job.id,
                row_number=i,
                primary_number=n,
                number_type="mobile",
                timezones=list(timezones),
                name=f"客户{i}",
                custom=custom[i - 1] if custom else {"product": "kettle"},
            )
            s.add(contact)
            s.flush()
            assert contact.id is not None
            ids.append(contact.id)
    return ids


def afternoon_zone(now: datetime) -> str:
    """The Etc/GMT zone where it is 13:xx or 14:xx now (POSIX signs: Etc/GMT-8 is UTC+8), so
    calling hours (rule 28, 09:00-20:00) are met whenever a real-SIP test runs."""
    offset = (13 - now.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def safe_harbor() -> str:
    """A real (silent-free, 1 s) 8 kHz mono 16-bit WAV for campaigns that can abandon."""
    import math
    import struct
    import tempfile
    import wave
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / "outdial-test-safe-harbor.wav"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(
                b"".join(
                    struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                    for i in range(8000)
                )
            )
        tmp.replace(path)
    return str(path)


def rows(db: Engine, sql: str, **params: Any) -> list[Any]:
    """The rows a raw SQL query returns (assertions over what the engine wrote)."""
    with db.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


async def until(pred: Any, timeout: float, what: str) -> None:
    """Wait for ``pred()`` to hold; fail naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


AMD_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # noon in London


def amd_campaign(engine: Engine, live: int, machines: int, sampled: int) -> tuple[int, list[str]]:
    """A GB campaign with ``live`` people, ``machines`` machine verdicts and ``sampled``
    machine verdicts that the core sent to an agent (its label, not a hand-written one)."""
    total = live + machines + sampled
    numbers = [f"+4420795{i:05d}" for i in range(total)]
    cid = campaign_with_contacts(engine, "uk-amd", numbers, mode="predictive")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET region='GB' WHERE id=:c"), {"c": cid})
    every = DialerCore(CoreConfig(amd=True, amd_sample_share=1.0))
    never = DialerCore(CoreConfig(amd=True, amd_sample_share=0.0))
    labels = ["human"] * live
    labels += [never.amd_label(f"m{i}", "machine") for i in range(machines)]
    labels += [every.amd_label(f"s{i}", "machine") for i in range(sampled)]
    sampled_ids: list[str] = []
    leads = hopper.claim(engine, cid, total, AMD_NOW)
    for i, (ld, label) in enumerate(zip(leads, labels, strict=True)):
        call_id = f"c{i}"
        hopper.open_attempt(engine, call_id, cid, ld, "n", AMD_NOW - timedelta(hours=1))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE attempts SET answered_at=:t, final=:f, amd=:a, state='completed' "
                    "WHERE call_id=:c"
                ),
                {"t": AMD_NOW - timedelta(hours=1), "f": True, "a": label, "c": call_id},
            )
        if label == SAMPLED_MACHINE:
            sampled_ids.append(call_id)
    return cid, sampled_ids
