"""The contact browser: search a list by name or the last digits of a number."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from lists.models import Contact
from outdial.storage import session_scope

_DIGITS = re.compile(r"^\+?\d{2,15}$")


def search(
    engine: Engine, list_id: int, query: str = "", offset: int = 0, limit: int = 50
) -> tuple[int, list[Contact]]:
    """(matches, one page of them): digits match the end of the number, else the name."""
    where = [col(Contact.list_id) == list_id]
    q = query.strip()
    if q and _DIGITS.match(q):
        where.append(col(Contact.primary_number).like(f"%{q.lstrip('+')}"))
    elif q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(col(Contact.name).like(f"%{escaped}%", escape="\\"))
    with session_scope(engine) as s:
        total = s.execute(sa.select(sa.func.count()).select_from(Contact).where(*where))
        rows = s.exec(
            select(Contact).where(*where).order_by(col(Contact.id)).offset(offset).limit(limit)
        )
        return int(total.scalar_one()), list(rows)


def sample_record(engine: Engine, campaign_id: int) -> dict[str, str] | None:
    """The campaign's first contact as a script sees it (``{name}``, ``{order_id}``, custom
    columns by their header), for previewing a script; None when it has no contact yet."""
    with session_scope(engine) as s:
        c = s.exec(
            select(Contact).where(col(Contact.campaign_id) == campaign_id).order_by(col(Contact.id))
        ).first()
        if c is None:
            return None
        custom = {str(k): str(v) for k, v in (c.custom or {}).items()}
        return {**custom, "name": c.name, "order_id": c.order_id, "address": c.address}
