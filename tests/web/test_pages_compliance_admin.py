"""The DNC page: import a file with its report, registry snapshots, removal by POST body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import consolekit
from sqlalchemy.engine import Engine

from compliance import store
from outdial.roles import Role

EN = {"Accept-Language": "en"}


def _file(text: str, filename: str, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)  # a UTF-8 file name, as browsers send it
    for k, v in fields.items():
        form.add_field(k, v)
    form.add_field("file", text.encode("gbk"), filename=filename, content_type="text/csv")
    return form


async def test_import_a_dnc_file_and_see_its_report(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    h = {"X-CSRF-Token": await consolekit.login(client, "mgr"), **EN}
    store.dnc_add(sqlite_engine, "13800001111")
    text = "手机号,原因\n13800001111,重复\n13800002222,投诉\n<b>x</b>,坏\n"
    resp = await client.post("/dnc/import", data=_file(text, "免打扰.csv"), headers=h)
    page = await resp.text()
    assert resp.status == 200, page
    assert "Import finished: 免打扰.csv" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page  # inert
    api = await client.post("/api/dnc/import", data=_file(text, "again.csv"), headers=h)
    assert (await api.json())["added"] == 0 and (await api.json())["duplicates"] == 2
    entries = {e.number: e.reason for e in store.dnc_export(sqlite_engine)}
    assert entries["+8613800002222"] == "投诉"
    empty = await client.post("/dnc/import", data=_file("", "empty.csv"), headers=h)
    assert empty.status == 200 and "cannot be read" in await empty.text()  # said, not a 500
    no_csrf = await client.post("/dnc/import", data=_file(text, "x.csv"))
    assert no_csrf.status == 403


async def test_registry_snapshot_upload_and_staleness(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    h = {"X-CSRF-Token": await consolekit.login(client, "mgr"), **EN}
    assert "No registry snapshot loaded yet" in await (await client.get("/dnc", headers=EN)).text()
    form = _file("2125551234\n2125551235\n", "reg.txt", name="us-national", as_of="2020-01-01")
    page = await (await client.post("/dnc/registry", data=form, headers=h)).text()
    assert "Snapshot loaded." in page and "us-national" in page and "stale" in page
    bad = _file("2125551234\n", "reg.txt", name="us-national", as_of="yesterday")
    assert "YYYY-MM-DD" in await (await client.post("/dnc/registry", data=bad, headers=h)).text()
    api = await (await client.get("/api/registry")).json()
    assert api["snapshots"][0]["count"] == 2 and api["snapshots"][0]["stale"] is True


async def test_remove_takes_the_number_from_the_body(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "root", Role.ADMIN)
    h = {"X-CSRF-Token": await consolekit.login(client, "root"), **EN}
    store.dnc_add(sqlite_engine, "13800001111")
    page = await (await client.get("/dnc", headers=EN)).text()
    assert "/dnc/remove" in page and "/dnc/+86" not in page and "%2B86" not in page
    resp = await client.post("/dnc/remove", data={"number": "+8613800001111"}, headers=h)
    assert resp.status == 200
    assert store.dnc_export(sqlite_engine) == []
    missing = await client.post("/dnc/remove", data={}, headers=h)
    assert missing.status == 400
