"""Test data for the dialing engine: a campaign with contacts, inserted directly."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine

from campaigns import store as campaigns
from lists.models import CallList, Contact, ImportJob
from outdial.storage import session_scope


def campaign_with_contacts(
    engine: Engine, name: str, numbers: list[str], mode: str = "progressive"
) -> int:
    camp = campaigns.create(engine, name, mode=mode)
    assert camp.id is not None
    with session_scope(engine) as s:
        cl = CallList(campaign_id=camp.id, name="l1", status="ready")
        s.add(cl)
        s.flush()
        assert cl.id is not None
        job = ImportJob(
            list_id=cl.id, status="done", content_sha256=hashlib.sha256(name.encode()).hexdigest()
        )
        s.add(job)
        s.flush()
        assert job.id is not None
        for i, n in enumerate(numbers, 1):
            s.add(
                Contact(
                    list_id=cl.id,
                    campaign_id=camp.id,
                    job_id=job.id,
                    row_number=i,
                    primary_number=n,
                    number_type="mobile",
                    timezones=["Asia/Shanghai"],
                    name=f"客户{i}",
                    custom={"product": "kettle"},
                )
            )
    return camp.id
