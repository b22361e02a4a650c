"""CSV exports of a list: its rejected rows (to fix and re-import) and its contacts.

Cells are stored exactly as imported; on the way out they pass outdial/exports.py, the one
export path with the one formula-escaping rule (OWASP "CSV injection"). Files are UTF-8
with a BOM so Chinese Excel opens them correctly.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Engine

from lists import store
from outdial import exports

BOM = exports.BOM
escape_cell = exports.escape_cell
_lines = exports.csv_lines


def rejects_csv(engine: Engine, list_id: int) -> Iterator[str]:
    """``row, reason`` then the row's original columns, for every row not imported."""
    store.get_list(engine, list_id)
    rejects = list(store.iter_rejects(engine, list_id))
    headers: list[str] = []
    for r in rejects:
        headers.extend(h for h in r.raw if h not in headers)

    def rows() -> Iterator[list[object]]:
        yield ["row", "reason", *headers]
        for r in rejects:
            yield [r.row_number, r.reason, *(r.raw.get(h, "") for h in headers)]

    return _lines(rows())


CONTACT_HEADERS = [
    "id",
    "row",
    "primary_number",
    "alternates",
    "number_type",
    "timezones",
    "name",
    "order_id",
    "address",
    "suppressed",
    "status",
    "attempts",
]


def contacts_csv(engine: Engine, list_id: int) -> Iterator[str]:
    """Every contact of a list with its custom fields as extra columns."""
    store.get_list(engine, list_id)
    custom: list[str] = []
    for c in store.iter_contacts(engine, list_id):
        custom.extend(k for k in c.custom if k not in custom)

    def rows() -> Iterator[list[object]]:
        yield [*CONTACT_HEADERS, *custom]
        for c in store.iter_contacts(engine, list_id):
            yield [
                c.id,
                c.row_number,
                c.primary_number,
                " ".join(c.alternates),
                c.number_type,
                " ".join(c.timezones),
                c.name,
                c.order_id,
                c.address,
                "yes" if c.suppressed else "no",
                c.status,
                c.attempts,
                *(c.custom.get(k, "") for k in custom),
            ]

    return _lines(rows())
