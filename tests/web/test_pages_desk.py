"""The agent's desk, server side (issue 14): sign-in in words, the screen pop of the agent's own
call only, drafts kept, a callback outside the legal window refused, the order's verdict, one
desk tab per agent. The campaign dials a fake SIP peer (tests/support/consolekit.py)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import consolekit
import dialdata
from sqlalchemy.engine import Engine

from campaigns import orders, return_visits, rules
from campaigns import store as campaigns
from outdial import auth
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort
from web.api_dialer import RUNTIME

EN = {"Accept-Language": "en"}
PHONE = "+8613800100001"


def order_campaign(engine: Engine) -> int:
    spec = rules.parse_campaign(
        {"name": "核单", "kind": "order_verification", "caller_id": "+8610010000",
         "script": "您好 {name}，核对订单 {external_id}"}
    )  # fmt: skip
    camp, _ = campaigns.save_spec(engine, spec)
    order = {
        "external_id": "SO-1",
        "customer_name": "王女士",
        "phone": PHONE,
        "lines": [{"sku": "KT-1", "name": "电热水壶", "qty": 1, "price": "199.00"}],
        "address": {"text": "浦东新区世纪大道 1 号"},
        "payment": {"method": "cod", "amount": "199.00"},
        "ship_by": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }
    orders.upsert_orders(engine, camp, [order])
    assert camp.id is not None
    return camp.id


async def until_call(client: Any, timeout: float = 15.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        state = await (await client.get("/desk/state")).json()
        if state.get("call_id") and state["agent"]["state"] in ("talk", "wrap"):
            return dict(state)
        assert loop.time() < end, f"no call reached the agent: {state}"
        await asyncio.sleep(0.1)


async def test_sign_in_refused_in_words_when_nothing_runs(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "li", Role.AGENT)
    cid = dialdata.campaign_with_contacts(engine, "idle", ["+8613800000001"])
    csrf = await consolekit.login(client, "li")
    home = await client.get("/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/desk"  # an agent's home
    page = await (await client.get("/desk", headers=EN)).text()
    assert "No campaign is running now" in page
    zh = await (await client.get("/desk", headers={"Accept-Language": "zh-CN"})).text()
    assert "我的坐席" in zh
    resp = await client.post(
        "/desk/signin", data={"campaign_id": str(cid), "sip_uri": "sip:li@127.0.0.1"},
        headers={"X-CSRF-Token": csrf, **EN},
    )  # fmt: skip
    assert resp.status == 400 and "not running now" in await resp.text()


async def test_the_agents_call_from_screen_pop_to_disposition(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    app = consolekit.app_for(
        engine,
        tmp_path,
        sip_factory=lambda cid: FakeSipPort(lambda t: FakeScript(delay=0.1, bye_after=1.0)),
    )
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    consolekit.user(engine, "wang", Role.AGENT)
    consolekit.user(engine, "boss", Role.MANAGER)
    cid = order_campaign(engine)
    mgr = await aiohttp_client(client.server)
    mcsrf = await consolekit.login(mgr, "boss")
    assert (
        await mgr.post(f"/campaigns/{cid}/start", headers={"X-CSRF-Token": mcsrf})
    ).status == 200
    csrf = await consolekit.login(client, "li")
    h = {"X-CSRF-Token": csrf, **EN}
    bad = await client.post(
        "/desk/signin", data={"campaign_id": str(cid), "sip_uri": "not a phone"}, headers=h
    )
    assert bad.status == 400 and "sip:user@host" in await bad.text()
    ok = await client.post(
        "/desk/signin", data={"campaign_id": str(cid), "sip_uri": "sip:li@127.0.0.1"}, headers=h
    )
    assert ok.status == 204 and ok.headers["HX-Redirect"] == "/desk"
    desk = await (await client.get("/desk", headers=EN)).text()
    assert 'id="state-badge"' in desk and "Alt+R" in desk and "My callbacks due today" in desk

    state = await until_call(client)
    call_id = state["call_id"]
    pop = await (await client.get(f"/desk/call/{call_id}", headers=EN)).text()
    assert "王女士" in pop and "电热水壶" in pop and "SO-1" in pop  # record, items, script
    assert PHONE not in pop and "0001" in pop  # the number as the agent may see it
    assert "您好 王女士，核对订单 SO-1" in pop
    assert "Legal calling hours" in pop and "09:00-20:00" in pop
    # the default dispositions in the agent's language only, not "Success / 成功"
    codes = re.findall(r'name="code" value="(\w+)".*?</kbd> ([^<]+)</button>', pop, re.S)
    assert ("success", "Success") in codes and "成功" not in pop
    zh = await (
        await client.get(f"/desk/call/{call_id}", headers={"Accept-Language": "zh-CN"})
    ).text()
    zh_codes = re.findall(r'name="code" value="(\w+)".*?</kbd> ([^<]+)</button>', zh, re.S)
    assert ("success", "成功") in zh_codes and ("do_not_call", "勿扰") in zh_codes
    assert "Success" not in zh

    # another agent may not read nor touch li's call
    other = await aiohttp_client(client.server)
    ocsrf = await consolekit.login(other, "wang")
    assert (await other.get(f"/desk/call/{call_id}")).status == 403
    stolen = await other.post(
        f"/desk/call/{call_id}/draft", data={"notes": "x"}, headers={"X-CSRF-Token": ocsrf}
    )
    assert stolen.status == 403

    # what li types is kept: the screen pop comes back with it
    saved = await client.post(
        f"/desk/call/{call_id}/draft",
        data={"notes": "客户要求下午送货", "verdict": "changed"},
        headers=h,
    )
    assert saved.status == 204
    again = await (await client.get(f"/desk/call/{call_id}", headers=EN)).text()
    draft = re.search(r'data-draft="([^"]*)"', again)
    assert draft is not None and "客户要求下午送货" in draft.group(1).replace("&#34;", '"')

    verdict = await client.post(
        f"/desk/call/{call_id}/verdict",
        data={"verdict": "changed", "change_delivery_time": "2026-12-09 下午"},
        headers=h,
    )
    assert verdict.status == 200 and "Verdict saved" in await verdict.text()
    # the durability barrier (issue 11.2): "saved" is said only once the verdict is committed,
    # while the call is still up and before any disposition moves the agent on
    (row,) = dialdata.rows(engine, "SELECT verdict FROM orders WHERE external_id = 'SO-1'")
    assert row.verdict == "changed"
    assert (await (await client.get("/desk/state")).json())["agent"]["call_id"] == call_id
    assert orders.get_order(engine, "SO-1").verdict_details["changes"] == {
        "delivery_time": "2026-12-09 下午"
    }

    # the customer hangs up (bye_after): wrap-up; a callback at 03:00 local is refused
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while (await (await client.get("/desk/state")).json())["agent"]["state"] != "wrap":
        assert loop.time() < end
        await asyncio.sleep(0.1)
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
    body = {"code": "callback", "notes": "客户要求下午送货", "zone": "Asia/Shanghai"}
    night = await client.post(
        f"/desk/call/{call_id}/dispose",
        data={**body, "callback_local": f"{day}T03:00"},
        headers=h,
    )
    text = await night.text()
    assert night.status == 400 and "outside the legal calling hours" in text, text
    assert f"{day} 09:00" in text  # the next legal time, in the customer's words
    yesterday = day - timedelta(days=2)  # in the legal hours, but past: said so, not "hours"
    past = await client.post(
        f"/desk/call/{call_id}/dispose",
        data={**body, "callback_local": f"{yesterday}T15:00"},
        headers=h,
    )
    text = await past.text()
    assert past.status == 400 and "already passed" in text and "legal calling hours" not in text
    assert (await (await client.get("/desk/state")).json())["agent"]["state"] == "wrap"
    done = await client.post(
        f"/desk/call/{call_id}/dispose",
        data={**body, "callback_local": f"{day}T15:30", "callback_owner": "personal"},
        headers=h,
    )
    assert done.status == 200 and "Callback scheduled" in await done.text()
    bar = await (await client.get("/desk/bar", headers=EN)).text()
    assert "Calls <b>1</b>" in bar
    (att,) = dialdata.rows(engine, "SELECT disposition, notes FROM attempts")
    assert (att.disposition, att.notes) == ("callback", "客户要求下午送货")
    assert dialdata.rows(engine, "SELECT id FROM desk_drafts") == []  # served its purpose
    (cb,) = dialdata.rows(engine, "SELECT owner_id, local_time FROM callbacks")
    assert cb.local_time == f"{day}T15:30"


async def test_one_desk_tab_per_agent(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "li", Role.AGENT)
    await consolekit.login(client, "li")
    first = await client.ws_connect("/desk/ws?tab=a")
    assert (await first.receive_json(timeout=5))["type"] == "hello"
    second = await client.ws_connect("/desk/ws?tab=b")
    assert (await second.receive_json(timeout=5))["type"] == "desk_taken"
    reload = await client.ws_connect("/desk/ws?tab=a")  # the same tab reloaded takes over
    assert (await reload.receive_json(timeout=5))["type"] == "hello"
    for ws in (first, second, reload):
        await ws.close()
    no_tab = await client.get("/desk/ws")
    assert no_tab.status == 400


async def taking_calls(
    aiohttp_client: Any, tmp_path: Path, engine: Engine, spec: dict[str, Any]
) -> tuple[Any, dict[str, str], int]:
    """A started campaign of ``spec`` and the agent li signed in to it at the desk."""
    app = consolekit.app_for(
        engine,
        tmp_path,
        sip_factory=lambda cid: FakeSipPort(lambda t: FakeScript(delay=0.1, bye_after=30.0)),
    )
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    camp, _ = campaigns.save_spec(
        engine, rules.parse_campaign({"caller_id": "+8610010000", **spec})
    )
    assert camp.id is not None
    return client, {"X-CSRF-Token": await consolekit.login(client, "li"), **EN}, camp.id


async def sign_in(client: Any, h: dict[str, str], cid: int) -> None:
    await client.app[RUNTIME].start(cid)
    ok = await client.post(
        "/desk/signin", data={"campaign_id": str(cid), "sip_uri": "sip:li@127.0.0.1"}, headers=h
    )
    assert ok.status == 204, await ok.text()


async def test_agent_led_survey_and_return_visit_forms(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client, h, cid = await taking_calls(
        aiohttp_client, tmp_path, engine, {"name": "回访", "kind": "return_visit", "survey": ""}
    )
    happened = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    task = {"external_id": "RV-1", "phone": PHONE, "customer_name": "赵先生",
            "subject": "空调安装", "happened_at": happened}  # fmt: skip
    return_visits.add_tasks(engine, campaigns.get(engine, cid), [task])
    await sign_in(client, h, cid)
    call_id = (await until_call(client))["call_id"]
    pop = await (await client.get(f"/desk/call/{call_id}", headers=EN)).text()
    assert "空调安装" in pop and "Satisfied, nothing to follow up" in pop
    assert "Transfer to the survey IVR" not in pop  # no survey attached to this return visit
    bad = await client.post(f"/desk/call/{call_id}/outcome", data={"outcome": "x"}, headers=h)
    assert bad.status == 400 and "outcome must be one of" in await bad.text()
    ok = await client.post(
        f"/desk/call/{call_id}/outcome", data={"outcome": "problem_reported"}, headers=h
    )
    assert ok.status == 200 and "Outcome saved" in await ok.text()
    (row,) = dialdata.rows(engine, "SELECT status, outcome FROM return_visit_tasks")
    assert (row.status, row.outcome) == ("done", "problem_reported")


async def test_agent_led_satisfaction_survey(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client, h, cid = await taking_calls(
        aiohttp_client, tmp_path, engine, {"name": "满意度", "kind": "satisfaction_survey"}
    )
    dialdata.add_contacts(engine, cid, [PHONE])
    await sign_in(client, h, cid)
    call_id = (await until_call(client))["call_id"]
    zh = await (
        await client.get(f"/desk/call/{call_id}", headers={"Accept-Language": "zh-CN"})
    ).text()
    assert zh.count('type="radio" name="q_overall"') == 5 and 'name="q_comment"' in zh
    assert "您对本次服务的总体质量是否满意？" in zh and "转满意度自助语音" in zh
    answers = {f"q_{q}": "4" for q in ("overall", "waiting", "skill", "solution", "attitude")}
    wrong = await client.post(
        f"/desk/call/{call_id}/survey", data={**answers, "q_overall": "9"}, headers=h
    )
    assert wrong.status == 400
    saved = await client.post(
        f"/desk/call/{call_id}/survey", data={**answers, "q_comment": "送货快"}, headers=h
    )
    assert saved.status == 200 and "Survey answers saved" in await saved.text()
    (resp,) = dialdata.rows(engine, "SELECT status, channel FROM survey_responses")
    assert (resp.status, resp.channel) == ("completed", "agent")


async def test_preview_skip_needs_a_reason(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    client, h, cid = await taking_calls(
        aiohttp_client, tmp_path, engine, {"name": "预览", "mode": "preview"}
    )
    (contact_id,) = dialdata.add_contacts(engine, cid, [PHONE])
    await sign_in(client, h, cid)
    page = await (await client.get("/desk", headers=EN)).text()
    assert 'data-preview="1"' in page and "Show the next record" in page
    ws = await client.ws_connect("/desk/ws?tab=t")
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    offer = await client.post("/api/agent/preview/next", headers=h)
    assert (await offer.json())["preview"]["number"] == PHONE  # the API's own client
    shown = await ws.receive_json(timeout=5)
    assert shown["type"] == "preview" and shown["number"] == "+*********0001"  # the desk's
    await ws.close()
    no_reason = await client.post("/desk/preview/skip", data={"reason": " "}, headers=h)
    assert no_reason.status == 400 and "Say why you skip" in await no_reason.text()
    skipped = await client.post("/desk/preview/skip", data={"reason": "客户已投诉"}, headers=h)
    assert skipped.status == 204
    again = await client.post("/desk/preview/skip", data={"reason": "x"}, headers=h)
    assert again.status == 409  # nothing on screen to skip any more
    # the reason is kept where the manager reads the contact's history (not an attempt)
    consolekit.user(engine, "boss", Role.MANAGER)
    mgr = await aiohttp_client(client.server)
    await consolekit.login(mgr, "boss")
    (skip,) = (await (await mgr.get(f"/api/contacts/{contact_id}/attempts")).json())["attempts"]
    assert (skip["state"], skip["skip_reason"], skip["agent"]) == ("skipped", "客户已投诉", "li")
    shown = await (await mgr.get(f"/contacts/{contact_id}/attempts", headers=EN)).text()
    assert "Skipped in preview by li: 客户已投诉" in shown
    zh = await (
        await mgr.get(f"/contacts/{contact_id}/attempts", headers={"Accept-Language": "zh-CN"})
    ).text()
    assert "客户已投诉" in zh and "Skipped" not in zh


async def test_a_softphone_that_does_not_answer_is_said_so(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine

    def far_end(target: str) -> FakeScript:  # the customer answers; li's softphone refuses
        if "li@" in target:
            return FakeScript(progress=None, final=486, delay=0.02)
        return FakeScript(delay=0.1, bye_after=30.0)

    app = consolekit.app_for(engine, tmp_path, sip_factory=lambda cid: FakeSipPort(far_end))
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    cid = dialdata.campaign_with_contacts(engine, "busy phone", [PHONE])
    h = {"X-CSRF-Token": await consolekit.login(client, "li"), **EN}
    await sign_in(client, h, cid)
    loop = asyncio.get_running_loop()
    end = loop.time() + 15
    while (await (await client.get("/desk/state")).json())["agent"]["state"] != "paused":
        assert loop.time() < end, "the agent was not paused"
        await asyncio.sleep(0.1)
    page = await (await client.get("/desk", headers=EN)).text()
    assert "Your softphone did not answer the call" in page


async def test_an_agent_signs_in_only_to_the_campaigns_assigned_to_them(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 13's assignment on /people holds on the desk too: other campaigns are neither
    offered nor accepted."""
    engine = sqlite_engine
    app = consolekit.app_for(
        engine, tmp_path, sip_factory=lambda cid: FakeSipPort(lambda t: FakeScript(delay=5.0))
    )
    client = await aiohttp_client(app)
    li = auth.get_user(engine, consolekit.user(engine, "li", Role.AGENT)).id
    assert li is not None
    consolekit.user(engine, "boss", Role.MANAGER)
    cid = order_campaign(engine)
    other = dialdata.campaign_with_contacts(engine, "其他", ["+8613800000009"])
    campaigns.set_agent_campaigns(engine, li, [other])
    mgr = await aiohttp_client(client.server)
    mcsrf = await consolekit.login(mgr, "boss")
    assert (
        await mgr.post(f"/campaigns/{cid}/start", headers={"X-CSRF-Token": mcsrf})
    ).status == 200
    csrf = await consolekit.login(client, "li")
    page = await (await client.get("/desk", headers=EN)).text()
    assert f'value="{cid}"' not in page
    resp = await client.post(
        "/desk/signin", data={"campaign_id": str(cid), "sip_uri": "sip:li@127.0.0.1"},
        headers={"X-CSRF-Token": csrf, **EN},
    )  # fmt: skip
    assert resp.status == 403 and "not assigned to that campaign" in await resp.text()
    campaigns.set_agent_campaigns(engine, li, [])  # none ticked: any campaign
    page = await (await client.get("/desk", headers=EN)).text()
    assert f'value="{cid}"' in page


async def test_under_the_simulator_the_sign_in_offers_the_simulated_softphone(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 17: a person signs in among simulated agents; their softphone is the simulated
    carrier's auto-answering one (sip:agent-<user>@<carrier>), and the page says so."""
    import dataclasses

    from web.keys import CONFIG

    engine = sqlite_engine
    app = consolekit.app_for(engine, tmp_path)
    app[CONFIG] = dataclasses.replace(app[CONFIG], sip_trunk="127.0.0.1:5999", sim_carrier="on")
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    consolekit.user(engine, "boss", Role.MANAGER)
    cid = order_campaign(engine)
    mgr = await aiohttp_client(client.server)
    mcsrf = await consolekit.login(mgr, "boss")
    started = await mgr.post(f"/campaigns/{cid}/start", headers={"X-CSRF-Token": mcsrf})
    assert started.status == 200
    await consolekit.login(client, "li")
    page = await (await client.get("/desk", headers=EN)).text()
    assert 'value="sip:agent-li@127.0.0.1:5999"' in page and "data-simulated" in page
    assert "Simulated softphone" in page
    zh = await (await client.get("/desk", headers={"Accept-Language": "zh-CN"})).text()
    assert "模拟软电话" in zh


async def test_the_pause_menu_is_the_campaigns_and_other_reasons_are_refused(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    app = consolekit.app_for(
        engine, tmp_path, sip_factory=lambda cid: FakeSipPort(lambda t: FakeScript(delay=30.0))
    )
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    spec = rules.parse_campaign(
        {"name": "质检", "caller_id": "+8610010000",
         "pause_reasons": [{"code": "qa_review", "label": "质检复核"}, {"code": "break"}]}
    )  # fmt: skip
    camp, _ = campaigns.save_spec(engine, spec)
    assert camp.id is not None
    h = {"X-CSRF-Token": await consolekit.login(client, "li"), **EN}
    await sign_in(client, h, camp.id)
    page = await (await client.get("/desk", headers=EN)).text()
    menu = re.search(r'<select id="pause-reason">(.*?)</select>', page, re.S)
    assert menu is not None
    assert re.findall(r'value="(\w+)"', menu[1]) == ["qa_review", "break"]
    assert "质检复核" in menu[1] and "lunch" not in menu[1]
    refused = await client.post("/api/agent/pause", json={"reason": "lunch"}, headers=h)
    assert refused.status == 400
    assert "no pause reason 'lunch' (one of qa_review, break)" in await refused.text()
    ok = await client.post("/api/agent/pause", json={"reason": "qa_review"}, headers=h)
    assert ok.status == 200 and (await ok.json())["agent"]["pause_reason"] == "qa_review"
    page = await (await client.get("/desk", headers=EN)).text()
    assert re.search(r'id="state-reason" class="reason">质检复核<', page)


async def test_a_sampled_machine_verdict_asks_the_agent_person_or_machine(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine, monkeypatch: Any
) -> None:
    """Rule 19 (issue 20): the detector said machine, the call was sampled to the agent; the
    screen pop asks, the mark is stored at once and the disposition waits for it."""
    engine = sqlite_engine
    monkeypatch.setattr("dialer.core.sampled", lambda call_id, share: True)

    def far_end(target: str) -> FakeScript:
        if "li@" in target:
            return FakeScript(delay=0.02, bye_after=30.0)
        return FakeScript(delay=0.1, bye_after=1.0, amd="machine")

    app = consolekit.app_for(engine, tmp_path, sip_factory=lambda cid: FakeSipPort(far_end))
    client = await aiohttp_client(app)
    consolekit.user(engine, "li", Role.AGENT)
    camp, _ = campaigns.save_spec(
        engine,
        rules.parse_campaign(
            {"name": "抽检", "caller_id": "+8610010000", "dialing": {"amd": True}}
        ),
    )
    assert camp.id is not None
    dialdata.add_contacts(engine, camp.id, [PHONE])
    h = {"X-CSRF-Token": await consolekit.login(client, "li"), **EN}
    await sign_in(client, h, camp.id)
    call_id = (await until_call(client))["call_id"]
    pop = await (await client.get(f"/desk/call/{call_id}", headers=EN)).text()
    assert "Answering-machine check: was this a person or a machine?" in pop
    assert f'hx-post="/desk/call/{call_id}/amd"' in pop
    zh = await client.get(f"/desk/call/{call_id}", headers={"Accept-Language": "zh-CN"})
    assert "答录机抽检" in await zh.text()
    early = await client.post(
        f"/desk/call/{call_id}/dispose", data={"code": "not_interested"}, headers=h
    )
    assert early.status == 400 and "First answer the answering-machine check" in await early.text()
    bad = await client.post(f"/desk/call/{call_id}/amd", data={"truth": "maybe"}, headers=h)
    assert bad.status == 400 and "truth must be one of person, machine" in await bad.text()
    # marked while the customer is still on the line: stored at once
    marked = await client.post(f"/desk/call/{call_id}/amd", data={"truth": "machine"}, headers=h)
    assert marked.status == 200 and "Marked: a machine." in await marked.text()
    (review,) = dialdata.rows(engine, "SELECT truth, reviewed_by FROM amd_reviews")
    assert (review.truth, review.reviewed_by) == ("machine", "li")
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while (await (await client.get("/desk/state")).json())["agent"]["state"] != "wrap":
        assert loop.time() < end
        await asyncio.sleep(0.1)
    (att,) = dialdata.rows(engine, "SELECT amd FROM attempts")
    assert att.amd == "machine_sampled"
    pop = await (await client.get(f"/desk/call/{call_id}", headers=EN)).text()
    assert "Marked: a machine." in pop  # a reload shows the mark
    fixed = await client.post(f"/desk/call/{call_id}/amd", data={"truth": "person"}, headers=h)
    assert fixed.status == 200 and "Marked: a person answered." in await fixed.text()
    (review,) = dialdata.rows(engine, "SELECT truth FROM amd_reviews")
    assert review.truth == "person"  # the second mark corrects the first
    done = await client.post(
        f"/desk/call/{call_id}/dispose", data={"code": "not_interested"}, headers=h
    )
    assert done.status == 200


async def test_a_team_callback_is_saved_as_the_teams_in_one_step(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """Issue 14 item 4: the form's personal/team choice is saved with the callback itself;
    a team callback is any allowed agent's (no owner), never first personal."""
    # both databases: the callback's owner is stored
    client, h, cid = await taking_calls(aiohttp_client, tmp_path, engine, {"name": "团队回呼"})
    dialdata.add_contacts(engine, cid, [PHONE])
    await sign_in(client, h, cid)
    call_id = (await until_call(client))["call_id"]
    hung = await client.post("/api/agent/hangup", json={"call_id": call_id}, headers=h)
    assert hung.status == 200, await hung.text()
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while (await (await client.get("/desk/state")).json())["agent"]["state"] != "wrap":
        assert loop.time() < end
        await asyncio.sleep(0.1)
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
    body = {"code": "callback", "zone": "Asia/Shanghai", "callback_local": f"{day}T15:30"}
    odd = await client.post(
        f"/desk/call/{call_id}/dispose", data={**body, "callback_owner": "boss"}, headers=h
    )
    assert odd.status == 400 and "callback_owner" in await odd.text()
    assert dialdata.rows(engine, "SELECT id FROM callbacks") == []  # nothing half-saved
    done = await client.post(
        f"/desk/call/{call_id}/dispose", data={**body, "callback_owner": "team"}, headers=h
    )
    assert done.status == 200 and "Callback scheduled" in await done.text()
    (cb,) = dialdata.rows(
        engine, "SELECT owner_kind, owner_id, created_by, local_time FROM callbacks"
    )
    li = auth.get_user(engine, "li").id
    assert (cb.owner_kind, cb.owner_id, cb.created_by) == ("team", None, li)
    assert cb.local_time == f"{day}T15:30"
    (contact,) = dialdata.rows(engine, "SELECT callback_owner_id, callback_at FROM contacts")
    assert contact.callback_owner_id is None and contact.callback_at is not None  # anyone's
    bar = await (await client.get("/desk/bar", headers=EN)).text()
    assert "15:30" not in bar  # not among li's own callbacks due


async def test_the_api_saves_a_team_callback_in_one_step(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    # both databases: the callback's owner is stored
    client, h, cid = await taking_calls(aiohttp_client, tmp_path, engine, {"name": "API 回呼"})
    dialdata.add_contacts(engine, cid, [PHONE])
    await sign_in(client, h, cid)
    call_id = (await until_call(client))["call_id"]
    await client.post("/api/agent/hangup", json={"call_id": call_id}, headers=h)
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while (await (await client.get("/desk/state")).json())["agent"]["state"] != "wrap":
        assert loop.time() < end
        await asyncio.sleep(0.1)
    when = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )
    body = {"call_id": call_id, "code": "callback", "callback_at": when.isoformat()}
    bad = await client.post(
        "/api/agent/disposition", json={**body, "callback_owner": "x"}, headers=h
    )
    assert bad.status == 400 and (await bad.json())["field"] == "callback_owner"
    ok = await client.post(
        "/api/agent/disposition", json={**body, "callback_owner": "team"}, headers=h
    )
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["disposition"]["callback_owner"] == "team"
    (cb,) = dialdata.rows(engine, "SELECT owner_kind, owner_id FROM callbacks")
    assert (cb.owner_kind, cb.owner_id) == ("team", None)


async def test_the_test_call_at_sign_in_can_be_turned_off(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """[dialing] softphone_test = false: no call rings the softphone, the desk says nothing of
    it and offers no test; on (the default) the fake softphone answers and the desk says so."""
    engine = sqlite_engine
    client, h, cid = await taking_calls(
        aiohttp_client, tmp_path, engine, {"name": "不测", "dialing": {"softphone_test": False}}
    )
    await sign_in(client, h, cid)
    assert (await (await client.get("/desk/state")).json())["agent"]["softphone_test"] is None
    page = await (await client.get("/desk", headers=EN)).text()
    assert "Test my softphone" not in page and "test call" not in page
    await client.post("/desk/signout", headers=h)
    on, _ = campaigns.save_spec(
        engine, rules.parse_campaign({"name": "要测", "caller_id": "+8610010000"})
    )
    assert on.id is not None
    await sign_in(client, h, on.id)
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while "phone-test-answered" not in (
        text := await (await client.get("/desk/phone-test")).text()
    ):
        assert loop.time() < end, text
        await asyncio.sleep(0.1)
    assert "Test my softphone again" in await (await client.get("/desk", headers=EN)).text()
