"""lists/browse.py: search a list by the last digits of a number or by name."""

from __future__ import annotations

import dialdata
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lists import browse


def test_search_by_last_digits_and_by_name(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    cid = dialdata.campaign_with_contacts(engine, "b", ["+8613800001234", "+8613900005678"])
    list_id = dialdata.rows(engine, "SELECT id FROM call_lists")[0][0]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET name='王_5%' WHERE primary_number LIKE '%5678'"))
    total, rows = browse.search(engine, list_id, "1234")
    assert total == 1 and rows[0].primary_number == "+8613800001234"
    assert browse.search(engine, list_id, "_5%")[0] == 1  # wildcards are literal
    assert browse.search(engine, list_id, "%")[0] == 1
    assert browse.search(engine, list_id, "")[0] == 2
    record = browse.sample_record(engine, cid)
    assert record is not None and record["name"] == "客户1" and record["product"] == "kettle"
