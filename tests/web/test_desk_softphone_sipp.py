"""The test call at sign-in over real SIP (issue 14, desk item 1): SIPp is the agent's softphone.

Three agents sign in at the desk of one running campaign: li's softphone answers by itself
(it checks the auto-answer hints), wang's refuses (486), zhao's rings and never answers. The
SIP worker pool rings each once; within a few seconds each desk says, in the agent's language,
whether the softphone answered. wang retries from the page; each agent can go on regardless.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import consolekit
import dialdata
import pytest
from sippctl import SippPeer
from sqlalchemy.engine import Engine

from dialer.softphone_check import ANSWER_WITHIN
from outdial.roles import Role
from sip.config import PoolConfig, SipConfig, TrunkConfig
from sip.pcap import write_all
from sip.pool import SipPool
from web.api_dialer import RUNTIME

pytestmark = [pytest.mark.sip, pytest.mark.slow]

TESTS = Path(__file__).parents[1]
ANSWERS = TESTS / "dialer" / "scenarios" / "agent.xml"  # requires the auto-answer hints
REFUSES = TESTS / "sip" / "scenarios" / "agent_reject.xml"
RINGS = TESTS / "sip" / "scenarios" / "uas_ring.xml"
EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh-CN"}


async def until_said(client: Any, timeout: float) -> str:
    """The desk's test-call line once it no longer rings (as the fragment's polling sees it)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        text = await (await client.get("/desk/phone-test", headers=EN)).text()
        if "phone-test-ringing" not in text and "phone-test-" in text:
            return text
        assert loop.time() < end, text
        await asyncio.sleep(0.2)


async def test_the_desk_says_whether_the_softphone_answered_the_test_call(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    workdir = write_all(tmp_path / "sipp")
    phones = {
        "li": SippPeer(ANSWERS, workdir, calls=1, timeout=60),
        "wang": SippPeer(REFUSES, workdir, calls=2, timeout=60),
        "zhao": SippPeer(RINGS, workdir, calls=1, timeout=60),
    }
    await asyncio.sleep(0.3)  # SIPp binds
    sip = SipConfig(
        rtp_port_start=random.randrange(30000, 38000, 400),
        trunk=TrunkConfig("127.0.0.1", 9),  # no customer is dialed: the campaign is paused
    )
    pool = PoolConfig(sip, min_workers=1, max_workers=1, customer_lines=4)
    app = consolekit.app_for(engine, tmp_path, sip_factory=lambda cid: SipPool(pool))
    # one record, never dialed (the campaign is paused): a campaign with none completes
    cid = dialdata.campaign_with_contacts(engine, "软电话测试", ["+8613800100001"])
    clients = {}
    try:
        first = await aiohttp_client(app)
        await app[RUNTIME].start(cid)
        await app[RUNTIME].pause(cid)  # test calls ring while the campaign dials no one
        for name, phone in phones.items():
            consolekit.user(engine, name, Role.AGENT)
            client = first if name == "li" else await aiohttp_client(first.server)
            h = {"X-CSRF-Token": await consolekit.login(client, name), **EN}
            signed = await client.post(
                "/desk/signin", data={"campaign_id": str(cid), "sip_uri": phone.uri(name)},
                headers=h,
            )  # fmt: skip
            assert signed.status == 204, await signed.text()  # never held up by the test
            clients[name] = (client, h)
        li, wang, zhao = (clients[n][0] for n in ("li", "wang", "zhao"))

        said = await until_said(li, 10)
        assert "Softphone answered the test call" in said and "phone-test-answered" in said
        zh = await (await li.get("/desk/phone-test", headers=ZH)).text()
        assert "软电话已接听测试呼叫" in zh
        said = await until_said(wang, 10)
        assert "did not answer the test call" in said and "auto-answer is on" in said
        assert "SIP 486" in said and "Test my softphone again" in said
        said = await until_said(zhao, ANSWER_WITHIN + 8)
        assert "did not answer the test call" in said
        zh = await (await zhao.get("/desk", headers=ZH)).text()
        assert "您的软电话没有接听测试呼叫" in zh and "再测一次软电话" in zh
        for name in ("li", "wang", "zhao"):  # everyone can still work
            client = clients[name][0]
            state = await (await client.get("/desk/state")).json()
            assert state["agent"]["state"] == "ready", state
            assert state["agent"]["softphone_test"]["result"] in ("answered", "no_answer")

        again = await wang.post("/desk/phone-test", headers=clients["wang"][1])  # a retry
        assert again.status == 200 and "phone-test-ringing" in await again.text()
        assert "SIP 486" in await until_said(wang, 10)
        assert app[RUNTIME].running[cid].engine.failures.get("softphone_test", 0) == 0
        await app[RUNTIME].stop(cid)
        for name, phone in phones.items():
            result = phone.wait(30)
            calls = 2 if name == "wang" else 1
            assert (result.successful, result.failed) == (calls, 0), (name, result.stderr)
    finally:
        for phone in phones.values():
            phone.kill()
