"""The manager's flow in a real Chromium against a real `outdial serve` whose trunk is SIPp:
start a campaign from the floor board, watch the live view while a real call reaches the
agent's SIPp softphone, pause it from the board (issue 13 "Proof": the board moves).

The campaign and its list are set up with the CLI (tests/web/test_console_browser.py drives
those pages); the agent works over the API. Rule 28 is met at any hour by moving the contacts
into the zone where it is afternoon now (tests/support/dialdata.py).
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

import aiohttp
import browserkit
import dialdata
import pytest
import sqlalchemy as sa
from serverctl import OUTDIAL, Server, free_tcp_port
from sippctl import SippPeer

from outdial import storage
from sip.pcap import write_all

pytestmark = [pytest.mark.browser, pytest.mark.sip, pytest.mark.slow]

TESTS = Path(__file__).parents[1]
CALLER_ID = "+8610010000"
NAME = "春季回访"


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([OUTDIAL, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, f"outdial {' '.join(args)}: {done.stderr}{done.stdout}"
    return done.stdout


def setup_campaign(env: dict[str, str], data: Path, tmp: Path, softphone: SippPeer) -> int:
    cli(env, "db", "upgrade")
    text = cli(env, "campaigns", "new", "--kind", "return_visit")
    text = text.replace('name = "回访 (return visits)"', f'name = "{NAME}"')
    text = re.sub(r'caller_id = "[^"]*"', f'caller_id = "{CALLER_ID}"', text)
    every_day = "".join(f'{d} = ["00:00-24:00"]\n' for d in ("mon", "tue", "wed", "thu", "fri",
                                                              "sat", "sun"))  # fmt: skip
    text = re.sub(r"(\[schedule\][^\n]*\n)(?:\w+ = \[[^\n]*\n)+", rf"\g<1>{every_day}", text)
    definition = tmp / "campaign.toml"
    definition.write_text(text, encoding="utf-8")
    cli(env, "campaigns", "load", str(definition))
    csv = tmp / "名单.csv"
    delivered = (datetime.now(UTC) - timedelta(days=7)).date()  # a return visit falls due
    csv.write_text(
        f"姓名,手机号,送货日期,同意\n张三,13800100001,{delivered},是\n", encoding="utf-8"
    )
    cli(env, "lists", "import", str(csv), "--campaign", NAME)
    db = storage.make_engine(f"sqlite:///{data / 'outdial.db'}")
    zone = dialdata.afternoon_zone(datetime.now(UTC))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE contacts SET timezones = :z"), {"z": json.dumps([zone])})
    db.dispose()
    cli(env, "users", "add", "li", "--role", "agent", "--sip-uri", softphone.uri("li"))
    cli(env, "prompts", "add", dialdata.safe_harbor(), "--campaign", NAME, "--name", "safe_harbor")
    shown = json.loads(cli(env, "campaigns", "show", NAME, "--json"))
    return int(shown["id"])


async def agent_takes_one_call(url: str, cid: int, connected: asyncio.Event) -> None:
    """The agent over the API: log in, the call arrives, hang up, a disposition."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(url, cookie_jar=jar) as http:
        r = await http.post("/api/login", json={"username": "li", "password": "agent-pass-1"})
        assert r.status == 200, await r.text()
        csrf = {"X-CSRF-Token": (await r.json())["csrf_token"]}

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(path, json=body, headers=csrf) as resp:
                out: dict[str, Any] = await resp.json()
                assert resp.status == 200, (path, out)
                return out

        async with http.ws_connect("/api/agent/ws") as ws:
            assert (await ws.receive_json(timeout=30))["type"] == "hello"
            await post("/api/agent/login", {"campaign_id": cid})
            while (msg := await ws.receive_json(timeout=90))["type"] != "call_connected":
                pass
            connected.set()
            await asyncio.sleep(2.0)  # on the call while the manager watches
            await post("/api/agent/hangup", {"call_id": msg["call_id"]})
            while (await ws.receive_json(timeout=60))["type"] != "call_ended":
                pass
            await post("/api/agent/disposition", {"call_id": msg["call_id"], "code": "satisfied"})


async def test_start_watch_and_pause_a_campaign_over_sipp(tmp_path: Path) -> None:
    data = tmp_path / "data"
    workdir = write_all(tmp_path / "sipp")
    customer = SippPeer(TESTS / "outdial" / "scenarios" / "customer.xml", workdir, calls=1)
    softphone = SippPeer(TESTS / "dialer" / "scenarios" / "agent.xml", workdir, calls=1)
    env = {
        **os.environ,
        "OUTDIAL_DATA_DIR": str(data),
        "OUTDIAL_PORT": str(free_tcp_port()),
        "OUTDIAL_ADMIN_PASSWORD": "admin-pass-1",
        "OUTDIAL_SIP_TRUNK": f"127.0.0.1:{customer.port}",
        "OUTDIAL_OWNED_NUMBERS": CALLER_ID,
        "OUTDIAL_NEW_PASSWORD": "agent-pass-1",
    }
    server: Server | None = None
    try:
        cid = setup_campaign(env, data, tmp_path, softphone)
        server = Server(env, tmp_path / "serve.log", [OUTDIAL, "serve"])
        connected = asyncio.Event()
        async with browserkit.chromium() as browser:
            w = await browserkit.new_page(browser, server.url, "en")
            page = w.page
            await browserkit.login(w, "admin", "admin-pass-1")
            row = page.locator(f"#campaign-{cid}")
            await row.get_by_role("button", name="Start").click()
            await page.locator(f"#campaign-{cid} .badge", has_text="dialing").wait_for()
            agent = asyncio.create_task(agent_takes_one_call(server.url, cid, connected))
            await page.goto(f"/campaigns/{cid}/live")
            await page.locator("#live-connection.ok").wait_for()
            waiting = asyncio.ensure_future(connected.wait())
            await asyncio.wait({agent, waiting}, timeout=90, return_when=asyncio.FIRST_COMPLETED)
            if agent.done():
                agent.result()  # the agent's failure, in its words
            assert connected.is_set(), "no call reached the agent in 90 s"
            await page.locator("#live .agents td", has_text="li").wait_for()
            await w.shot("live-sipp", "en")
            await page.goto("/")  # paused during the call: no new call, this one carries on
            await row.get_by_role("button", name="Pause").click()
            await page.locator(f"#campaign-{cid} .badge", has_text="paused").wait_for()
            await asyncio.wait_for(agent, 90)
            for _ in range(15):  # today's figures may be seconds old (outdial/memo.py)
                await page.goto("/")
                dials = await row.locator("td").nth(2).inner_text()
                if "1" in dials:
                    break
                await asyncio.sleep(1.0)
            await w.shot("board-sipp", "en")
            assert w.problems == [], w.problems
        assert "1" in dials, dials  # the board counted the real dial
        for peer in (customer, softphone):
            peer.stop()
            result = peer.wait(30)
            assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.stderr
    except BaseException:
        log = tmp_path / "serve.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        print("\n".join(x for x in lines if "aiohttp.access" not in x)[-6000:])
        print(subprocess.run([OUTDIAL, "campaign", "status", NAME, "--json"], env=env,
                             capture_output=True, text=True, check=False).stdout)  # fmt: skip
        raise
    finally:
        if server is not None:
            server.stop()
        customer.kill()
        softphone.kill()
