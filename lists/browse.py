"""The contact browser: search a list by the last digits of a number or by name.

Each search is a range on an index, so it costs the same with 1 M contacts as with 100
(migration 0007_live_contact_search; bench/console_bench.py):

- last digits (``1234``, or a whole number ``+8613800001234``): the numbers that end with
  them, as ``number_reversed`` starting with ``4321`` on ``(list_id, number_reversed)``;
- a name: the names that start with it (``王`` finds 王伟 and 王芳; a Chinese name starts with
  the family name), on ``(list_id, name)`` in byte order, so letters match with their case;
- a name anywhere (``anywhere=True``, the page's "anywhere in the name" box): ``王`` also
  finds 李王. No index answers it: it reads every contact of the list (the bench times it).

A list's size (the count with no query) comes from lists.store.SizeCache, not a count per page.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from lists.models import Contact, reversed_number
from outdial.storage import session_scope

_DIGITS = re.compile(r"^\+?\d{2,15}$")
#: after every character a name can hold: "starts with q" is  q <= name < q + _LAST
_LAST = "\U0010ffff"


def is_digits(query: str) -> bool:
    """Is this query the last digits of a number (else it is a name)?"""
    return bool(_DIGITS.match(query.strip()))


def digits_after(prefix: str) -> str | None:
    """The smallest digit string greater than every string of digits starting with
    ``prefix`` ("0042" -> "0043", "0049" -> "005"); None for "99..." (no upper bound)."""
    head = prefix.rstrip("9")
    if not head:
        return None
    return head[:-1] + str(int(head[-1]) + 1)


def _byte_order(engine: Engine, column: Any) -> Any:
    # the index on names is in byte order: binary on SQLite, COLLATE "C" on PostgreSQL
    return column.collate("C") if engine.dialect.name == "postgresql" else column


def conditions(engine: Engine, query: str, anywhere: bool = False) -> list[Any]:
    """The WHERE terms (besides the list) a search query stands for."""
    q = query.strip()
    if not q:
        return []
    if is_digits(q):
        start = reversed_number(q.lstrip("+"))
        rev = col(Contact.number_reversed)
        after = digits_after(start)
        return [rev >= start] if after is None else [rev >= start, rev < after]
    if anywhere:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [col(Contact.name).like(f"%{escaped}%", escape="\\")]
    name = _byte_order(engine, col(Contact.name))
    return [name >= q, name < q + _LAST]


def search(
    engine: Engine,
    list_id: int,
    query: str = "",
    offset: int = 0,
    limit: int = 50,
    *,
    anywhere: bool = False,
    size: int | None = None,
) -> tuple[int, list[Contact]]:
    """(matches, one page of them, in import order). ``size``, if given, is the count when
    there is no query (the list's size from lists.store.SizeCache)."""
    terms = conditions(engine, query, anywhere)
    where = [col(Contact.list_id) == list_id, *terms]
    with session_scope(engine) as s:
        if not terms and size is not None:
            total = size
        else:
            total = int(
                s.execute(
                    sa.select(sa.func.count()).select_from(Contact).where(*where)
                ).scalar_one()
            )
        rows = s.exec(
            select(Contact).where(*where).order_by(col(Contact.id)).offset(offset).limit(limit)
        )
        return total, list(rows)


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
