"""A campaign's Prompts page (web/pages_prompts.py): the uploaded prompt listed by its name."""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import Any

import aiohttp
import consolekit
from sqlalchemy.engine import Engine

from campaigns import store
from outdial.roles import Role


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", (i % 40) * 500) for i in range(8000)))
    return path


async def test_the_prompts_table_names_a_prompt_not_a_person(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Its first column once read 姓名 (a person's name) in Chinese."""
    camp = store.create(sqlite_engine, "rv")
    client = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path))
    consolekit.user(sqlite_engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "zh-CN"}
    form = aiohttp.FormData()
    form.add_field("name", "safe_harbor")
    wav = _wav(tmp_path / "sorry.wav").read_bytes()
    form.add_field("file", wav, filename="sorry.wav", content_type="audio/wav")
    done = await client.post(f"/campaigns/{camp.id}/prompts", data=form, headers=h)
    assert done.status == 200, await done.text()
    page = await (await client.get(f"/campaigns/{camp.id}/prompts", headers=h)).text()
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert "录音名称" in head and "姓名" not in head and "safe_harbor" in page


async def test_a_prompt_shows_its_name_length_and_player_never_a_server_path(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """The page once printed where the server keeps each WAV (its data directory)."""
    camp = store.create(engine, "rv")
    data_dir = tmp_path / "srv-data"
    data_dir.mkdir()
    client = await aiohttp_client(consolekit.app_for(engine, data_dir))
    consolekit.user(engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    h = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    form = aiohttp.FormData()
    form.add_field("name", "sorry")
    wav = _wav(tmp_path / "sorry.wav").read_bytes()
    form.add_field("file", wav, filename="sorry.wav", content_type="audio/wav")
    done = await client.post(f"/campaigns/{camp.id}/prompts", data=form, headers=h)
    assert done.status == 200 and str(data_dir) not in await done.text()
    page = await (await client.get(f"/campaigns/{camp.id}/prompts", headers=h)).text()
    assert str(data_dir) not in page and "sorry.wav" not in page
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "<td>sorry</td><td>0:01</td>" in row  # one second of audio at 8 kHz
    src = f"/campaigns/{camp.id}/prompts/sorry/audio"
    assert f'<audio controls preload="none" src="{src}">' in row
    audio = await client.get(src)
    assert audio.status == 200 and (await audio.read())[:4] == b"RIFF"
