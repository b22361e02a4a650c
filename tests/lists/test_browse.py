"""lists/browse.py: search a list by the last digits of a number or by name, on SQLite and
PostgreSQL. The indexed searches (0007_live_contact_search) find exactly the contacts the
LIKE scans they replaced found: the old queries run here as the reference."""

from __future__ import annotations

import csv
from pathlib import Path

import dialdata
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lists import browse, importer, store
from lists.importer import ImportOptions
from lists.models import Contact

NAMES = ["王伟", "王芳", "李王", "Wang Wei", "wang li", "王_5%", "张三", "", "王", "张王伟"]


def _list_of(engine: Engine, numbers: list[str]) -> int:
    """A list with these numbers (ORM inserts: dialdata) and NAMES in turn."""
    cid = dialdata.campaign_with_contacts(engine, f"b{len(numbers)}", numbers)
    with engine.begin() as conn:
        ids = [
            r[0] for r in conn.execute(sa.text(f"SELECT id FROM contacts WHERE campaign_id={cid}"))
        ]
        for i, contact in enumerate(sorted(ids)):
            conn.execute(
                sa.text("UPDATE contacts SET name = :n WHERE id = :i"),
                {"n": NAMES[i % len(NAMES)], "i": contact},
            )
        return int(
            conn.execute(sa.text(f"SELECT id FROM call_lists WHERE campaign_id={cid}")).scalar_one()
        )


def _old(engine: Engine, list_id: int, where: str, arg: str) -> list[int]:
    """The search before 0007: LIKE over every contact of the list."""
    sql = f"SELECT id FROM contacts WHERE list_id = :l AND {where} ORDER BY id"
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text(sql), {"l": list_id, "a": arg})]


def _new(engine: Engine, list_id: int, q: str, anywhere: bool = False) -> list[int]:
    total, rows = browse.search(engine, list_id, q, 0, 1000, anywhere=anywhere)
    assert total == len(rows)
    return [c.id or 0 for c in rows]


NUMBERS = [
    "+8613800001234",
    "+8613900005678",
    "+8613812341234",
    "+8613899999999",
    "+14155550100",
    "+8613800000042",
    "+8613800420042",
    "+8613800009990",
]


def test_last_digits_find_what_like_found(engine: Engine) -> None:
    list_id = _list_of(engine, NUMBERS)
    queries = ["1234", "34", "0042", "999", "99", "9990", "0100", "+14155550100", "14155550100",
               "8613800001234", "5678", "00", "7777"]  # fmt: skip
    for q in queries:
        old = _old(engine, list_id, "primary_number LIKE :a", f"%{q.lstrip('+')}")
        assert _new(engine, list_id, q) == old, q
    assert len(_new(engine, list_id, "1234")) == 2 and _new(engine, list_id, "7777") == []
    assert len(_new(engine, list_id, "99")) == 1  # "99..." has no upper bound: still right


def test_name_prefix_and_anywhere(engine: Engine) -> None:
    list_id = _list_of(engine, [*NUMBERS, "+8613700000001", "+8613700000002"])
    for q in ["王", "王伟", "张", "Wang", "wang", "李", "王_5", "_5%", "%", "伟", "Zhao"]:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        old = _old(engine, list_id, "name LIKE :a ESCAPE '\\'", f"%{escaped}%")
        # anywhere in the name: exactly the old search
        assert _new(engine, list_id, q, anywhere=True) == old, q
        # the default: the names that start with the query, letters with their case
        names = dict(_names(engine, list_id))
        assert _new(engine, list_id, q) == [i for i in old if names[i].startswith(q)], q
    assert len(_new(engine, list_id, "王")) == 4  # 王伟 王芳 王_5% 王, not 李王 or 张王伟
    assert len(_new(engine, list_id, "王", anywhere=True)) == 6
    assert _new(engine, list_id, "_5%") == [] and len(_new(engine, list_id, "_5%", True)) == 1


def _names(engine: Engine, list_id: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        q = sa.text("SELECT id, name FROM contacts WHERE list_id = :l")
        return [(int(i), str(n)) for i, n in conn.execute(q, {"l": list_id})]


def test_every_insert_path_fills_the_reversed_number(engine: Engine, tmp_path: Path) -> None:
    """ORM (dialdata), Core (sa.insert, as the benches) and the importer's driver-level
    bulk insert all store number_reversed, so no contact is missing from a digits search."""
    list_id = _list_of(engine, ["+8613800001234"])
    with engine.begin() as conn:
        table = Contact.__table__  # type: ignore[attr-defined]
        row = conn.execute(sa.select(table).where(table.c.list_id == list_id))
        core = dict(row.mappings().one())
        core.pop("id"), core.pop("number_reversed")
        conn.execute(sa.insert(Contact), [{**core, "primary_number": "+8613811111234"}])
    path = tmp_path / "l.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["姓名", "手机号"], ["赵六", "13822221234"], ["钱七", "13833335678"]]
        )
    r = importer.import_file(engine, path, ImportOptions(campaign="imp", create_campaign=True))
    assert r["imported"] == 2
    assert len(_new(engine, list_id, "1234")) == 2
    assert [c.name for c in browse.search(engine, r["list_id"], "1234")[1]] == ["赵六"]
    with engine.connect() as conn:
        bad = conn.execute(
            sa.text("SELECT count(*) FROM contacts WHERE number_reversed = ''")
        ).scalar_one()
    assert bad == 0


def test_digits_after() -> None:
    assert browse.digits_after("0042") == "0043"
    assert browse.digits_after("0049") == "005"
    assert browse.digits_after("99") is None and browse.digits_after("1") == "2"


@pytest.mark.parametrize("empty", ["", "  "])
def test_sizes_counted_again_only_after_an_insert(engine: Engine, empty: str) -> None:
    list_id = _list_of(engine, NUMBERS)
    cache = store.SizeCache()
    assert cache.read(engine) == {list_id: len(NUMBERS)}
    total, rows = browse.search(engine, list_id, empty, size=cache.read(engine)[list_id])
    assert total == len(NUMBERS) and len(rows) == len(NUMBERS)
    other = _list_of(engine, ["+8613800007777"])  # a new contact: counted again
    assert cache.read(engine) == {list_id: len(NUMBERS), other: 1}


def test_sample_record(sqlite_engine: Engine) -> None:
    cid = dialdata.campaign_with_contacts(sqlite_engine, "b", ["+8613800001234"])
    record = browse.sample_record(sqlite_engine, cid)
    assert record is not None and record["name"] == "客户1" and record["product"] == "kettle"
