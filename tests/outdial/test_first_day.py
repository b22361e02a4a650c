"""A campaign manager's first day, end to end (issue 16, "Proof"), as the README's quick start
shows it: on a fresh data directory, only the `outdial` CLI a user runs and the HTTP API of a
real `outdial serve`, over real SIP (SIPp is the carrier behind the trunk, with a customer who
stays on the line until we hang up, and the agent's auto-answering softphone).

campaigns new → edit → campaigns load → lists import (Chinese headers, a 同意 column) →
compliance preview → campaign start refused without the safe-harbor prompt → prompts add →
campaign start → the agent logs in over the API, gets the call with its script filled in,
hangs up (POST /api/agent/hangup) and sets a callback → callbacks list shows it → SIGTERM and
start the server again → the campaign is running by itself, the agent's session is back.

One concession to the clock: rule 28 lets a Chinese number be called 09:00-20:00 Shanghai time
only, so after the import the test moves the contacts into the zone where it is afternoon now
(as every real-SIP test does, tests/support/dialdata.py) — the test runs at any hour.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import dialdata
import pytest
import sqlalchemy as sa
from serverctl import OUTDIAL, Server, free_tcp_port, wait_for
from sippctl import SippPeer

from outdial import storage
from sip.pcap import write_all

pytestmark = [pytest.mark.sip, pytest.mark.slow]

SCENARIOS = Path(__file__).parent / "scenarios"
DIALER_SCENARIOS = Path(__file__).parents[1] / "dialer" / "scenarios"
CALLER_ID = "+8610010000"
NAME = "回访"
API = (
    "/api/login",
    "/api/agent/ws",
    "/api/agent/login",
    "/api/agent/hangup",
    "/api/agent/disposition",
)
WALKED: list[str] = []  # the CLI commands the walk ran


def outdial(
    env: dict[str, str], *args: str, ok: bool = True, look: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does; ``ok``: it must succeed. Each command but the test's own
    ``look``s is one the README's quick start must show (checked at the end)."""
    if not look:
        WALKED.append(" ".join(a for a in args[:2] if not a.startswith("-")))
    done = subprocess.run(
        [OUTDIAL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if ok:
        assert done.returncode == 0, f"outdial {' '.join(args)}: {done.stderr}{done.stdout}"
    return done


def edit(definition: str, zone: str) -> str:
    """What the manager changes in the generated file: name, caller ID, script, schedule."""
    text = definition.replace('name = "回访 (return visits)"', f'name = "{NAME}"')
    text, n = re.subn(r'caller_id = "[^"]*"', f'caller_id = "{CALLER_ID}"', text)
    assert n == 1, "the template has a caller_id line"
    # the script names the list's own columns (every column is a field the agent sees)
    text, n = re.subn(
        r"^script = .*$",
        'script = "您好，{name}，您{送货日期}签收的{商品}用得还好吗？"',
        text,
        flags=re.M,
    )
    assert n == 1
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    every_day = "".join(f'{d} = ["00:00-24:00"]\n' for d in days)  # any hour, any day
    text, n = re.subn(r"(\[schedule\][^\n]*\n)(?:\w+ = \[[^\n]*\n)+", rf"\g<1>{every_day}", text)
    assert n == 1, "the template has a [schedule] table"
    assert f'timezone = "{zone}"' in text
    return text


def test_a_campaign_managers_first_day(tmp_path: Path) -> None:
    data = tmp_path / "data"
    workdir = write_all(tmp_path / "sipp")
    customer = SippPeer(SCENARIOS / "customer.xml", workdir, calls=1, timeout=120)
    softphone = SippPeer(DIALER_SCENARIOS / "agent.xml", workdir, calls=1, timeout=120)
    env = {
        **os.environ,
        "OUTDIAL_DATA_DIR": str(data),
        "OUTDIAL_PORT": str(free_tcp_port()),
        "OUTDIAL_ADMIN_PASSWORD": "admin-pass-1",
        "OUTDIAL_SIP_TRUNK": f"127.0.0.1:{customer.port}",
        "OUTDIAL_OWNED_NUMBERS": CALLER_ID,
        "OUTDIAL_LOG_FORMAT": "json",
        "OUTDIAL_NEW_PASSWORD": "agent-pass-1",
    }
    servers: list[Server] = []
    try:
        _walk(env, data, tmp_path, customer, softphone, servers)
    finally:
        for server in servers:
            server.stop()
        customer.kill()
        softphone.kill()


def _walk(
    env: dict[str, str],
    data: Path,
    tmp: Path,
    customer: SippPeer,
    softphone: SippPeer,
    servers: list[Server],
) -> None:
    # --- 1. a campaign from the template for its kind ---------------------------------------
    outdial(env, "db", "upgrade")
    new = outdial(env, "campaigns", "new", "--kind", "return_visit")
    definition = tmp / "回访.toml"
    definition.write_text(edit(new.stdout, "Asia/Shanghai"), encoding="utf-8")
    loaded = json.loads(outdial(env, "campaigns", "load", str(definition), "--json").stdout)
    shown = json.loads(outdial(env, "campaigns", "show", NAME, "--json", look=True).stdout)
    cid = shown["id"]
    assert loaded and shown["kind"] == "return_visit" and shown["region"] == "CN"
    spec = shown["definition"]
    assert spec["caller_id"] == CALLER_ID and spec["purpose"] == "service"
    assert spec["schedule"]["sun"] == ["00:00-24:00"]
    assert spec["safe_harbor_prompt"] == "safe_harbor"  # the template names it already

    # --- 2. the list: Chinese headers, consent per row -------------------------------------
    delivered = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=7)).date()
    csv = tmp / "名单.csv"
    csv.write_text(
        "姓名,手机号,商品,送货日期,同意,同意日期,同意凭证\n"
        f"张三,13800100001,电热水壶,{delivered},是,2026-11-20,官网表单\n"
        f"李四,13800100002,电饭煲,{delivered},,,\n"
        f"王五,13800100003,微波炉,{delivered},拒绝,2026-11-21,电话录音\n",
        encoding="utf-8",
    )
    report = json.loads(
        outdial(env, "lists", "import", str(csv), "--campaign", NAME, "--json").stdout
    )
    assert report["imported"] == 3, report
    consent = report["consent"]
    assert (consent["column"], consent["granted"], consent["refused"], consent["none"]) == (
        "同意",
        1,
        1,
        1,
    ), report

    db = storage.make_engine(f"sqlite:///{data / 'outdial.db'}")
    zone = dialdata.afternoon_zone(datetime.now(UTC))  # rule 28, any hour (module docstring)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET timezones = :z"), {"z": json.dumps([zone])})

    # --- 3. the preview: who can be called, who lacks a lawful basis ------------------------
    preview = json.loads(outdial(env, "compliance", "preview", "--campaign", NAME, "--json").stdout)
    assert preview["purpose"] == "service" and preview["dialable_now"] == 1, preview
    (missing,) = preview["missing_basis"]
    assert missing["number"] == "+8613800100002" and "consent" in missing["missing"]
    assert preview["by_reason"]["rule-8:DNC"] == 1, preview  # the refusal (rule 9)

    # --- 4. the server; the start needs the safe-harbor prompt, by name ---------------------
    outdial(env, "users", "add", "li", "--role", "agent", "--sip-uri", softphone.uri("li"))
    servers.append(Server(env, tmp / "first.log", [OUTDIAL, "serve"]))
    refused = outdial(env, "campaign", "start", NAME, ok=False)
    assert refused.returncode != 0 and "outdial prompts add" in refused.stderr, refused
    wav = dialdata.safe_harbor()
    outdial(env, "prompts", "add", wav, "--campaign", NAME, "--name", "safe_harbor")
    started = json.loads(outdial(env, "campaign", "start", NAME, "--json").stdout)
    assert started["campaign"]["status"] == "running", started

    # --- 5. the agent takes the call, hangs up, sets a callback ------------------------------
    callback_at = asyncio.run(_agent_day(servers[0].url, cid, zone))
    customer.stop()
    softphone.stop()
    for peer in (customer, softphone):  # each got our BYE: one call, ended cleanly
        result = peer.wait(30)
        assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.stderr
    (cb,) = json.loads(outdial(env, "callbacks", "list", "--json").stdout)
    assert cb["phone"] == "+8613800100001" and cb["status"] == "pending", cb
    assert cb["campaign_id"] == cid and cb["owner_kind"] == "agent"
    assert datetime.fromisoformat(cb["due_at"]) == callback_at.astimezone(UTC)
    text = outdial(env, "callbacks", "list").stdout  # who to call back, and when
    assert "+8613800100001" in text and f"campaign {cid}" in text and "pending" in text, text

    # --- 6. SIGTERM, start again: the campaign runs by itself ------------------------------
    servers[0].stop()
    assert servers[0].proc.returncode == 0, servers[0].log.read_text()[-2000:]
    servers.append(Server(env, tmp / "second.log", [OUTDIAL, "serve"]))

    def running() -> Any:
        st = json.loads(outdial(env, "campaign", "status", NAME, "--json").stdout)
        return st if st["status"] == "running" else None

    status = wait_for("the campaign to resume by itself", running, timeout=60)
    assert status["agents_by_state"] == {"ready": 1}, status  # the agent's session is back
    assert status["calls_in_flight"] == 0 and status["records_by_status"]["retry"] == 1, status
    assert "(callback)" in status["idle"]["message"], status  # why it is not dialing now
    resumed = [
        json.loads(line)
        for line in (tmp / "second.log").read_text().splitlines()
        if "campaign resumed after a restart" in line
    ]
    assert [(r["campaign"], r["desired"]) for r in resumed] == [(cid, "running")], resumed

    # --- the README's quick start shows this path -----------------------------------------
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for command in dict.fromkeys([*WALKED, "serve"]):
        assert f"outdial {command}" in quick, f"the quick start does not show `outdial {command}`"
    for path in API:
        assert path in quick, f"the quick start does not show {path}"


async def _agent_day(url: str, cid: int, zone: str) -> datetime:
    """The agent over the API: log in, ready, the call on the WebSocket, hang up, callback."""
    jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of a server on 127.0.0.1
    async with aiohttp.ClientSession(url, cookie_jar=jar) as http:
        me = {"username": "li", "password": "agent-pass-1"}
        async with http.post("/api/login", json=me) as r:
            assert r.status == 200, await r.text()
            csrf = {"X-CSRF-Token": (await r.json())["csrf_token"]}

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(path, json=body, headers=csrf) as r:
                out: dict[str, Any] = await r.json()
                assert r.status == 200, (path, out)
                return out

        async with http.ws_connect("/api/agent/ws") as ws:
            hello = await ws.receive_json(timeout=30)
            assert hello["type"] == "hello"
            login = await post("/api/agent/login", {"campaign_id": cid})
            assert login["agent"]["state"] == "ready", login

            async def next_of(kind: str) -> dict[str, Any]:
                while True:
                    msg: dict[str, Any] = await ws.receive_json(timeout=60)
                    if msg["type"] == kind:
                        return msg

            connected = await next_of("call_connected")
            assert "张三" in connected["script"] and "电热水壶" in connected["script"], connected
            assert connected["script_missing"] == [], connected
            call_id = connected["call_id"]
            hung = await post("/api/agent/hangup", {"call_id": call_id})
            assert hung["hangup"]["hung_up"], hung
            await next_of("call_ended")
            day = datetime.now(UTC).date() + timedelta(days=2)
            at = datetime.combine(day, datetime.min.time()).replace(hour=14, tzinfo=ZoneInfo(zone))
            done = await post(
                "/api/agent/disposition",
                {"call_id": call_id, "code": "callback", "callback_at": at.isoformat()},
            )
            assert done["disposition"]["callback_at"] is not None, done
            return at
