"""The survey team's pages (issue 14): surveys, prompts, campaigns, results, open answers,
exports; on SQLite and PostgreSQL where storage matters, and in a real Chromium."""

from __future__ import annotations

import io
import re
import struct
import wave
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import aiohttp
import consolekit
import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from campaigns import rules, survey_store, surveys
from campaigns import store as campaigns
from outdial import auth
from outdial.roles import Role

PHONE = "+8613912345678"
EVIL = '=HYPERLINK("http://x","y") 13912345678'


def wav_file(path: Path, seconds: float = 0.5) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(
            b"".join(struct.pack("<h", (i % 40) * 500) for i in range(int(8000 * seconds)))
        )
    return path


def shanghai_campaign(engine: Engine, survey: str = "") -> int:
    camp, _ = campaigns.save_spec(
        engine,
        rules.parse_campaign(
            {"name": "回访", "caller_id": "+8610010000", "timezone": "Asia/Shanghai",
             "kind": "satisfaction_survey", "survey": survey}
        ),
    )  # fmt: skip
    return camp.id or 0


def seed(engine: Engine, data_dir: Path, now: datetime) -> int:
    """The seeds' template, attached to a Shanghai campaign, with responses."""
    cid = shanghai_campaign(engine, surveys.SEED_TEMPLATE.name)
    sid = survey_store.save_survey(engine, surveys.SEED_TEMPLATE).id or 0
    seed_responses(engine, data_dir, now, sid, cid)
    return sid


def seed_responses(engine: Engine, data_dir: Path, now: datetime, sid: int, cid: int) -> None:
    """Two agent-led responses (one scored 2 with a comment holding a formula and a number),
    one IVR response with a recorded comment, one IVR call that hung up at question two."""
    agent = auth.create_user(engine, "li_agent", consolekit.PASSWORD, Role.AGENT).id
    five = {q: 5 for q in ("overall", "waiting", "skill", "solution", "attitude")}
    low = {"overall": 2, "waiting": 1, "skill": 3, "solution": 2, "attitude": 4}
    clip = wav_file(_clip_dir(data_dir) / "call-1-comment.wav")
    for key, channel, answers, status in (
        ("a1", "agent", {**five, "comment": "很好"}, "completed"),
        ("a2", "agent", {**low, "comment": EVIL}, "completed"),
        ("i1", "ivr", {**five, "comment": str(clip)}, "completed"),
        ("i2", "ivr", {"overall": 4}, "hung_up"),
    ):
        resp, _ = survey_store.start_response(
            engine, sid, key, campaign_id=cid, agent_id=agent if channel == "agent" else None,
            channel=channel, phone=PHONE,
        )  # fmt: skip
        survey_store.save_answers(engine, resp.id or 0, answers, now, status)


def seed_days(engine: Engine, now: datetime, sid: int, cid: int, days: int) -> None:
    """One agent-led response a day for the days before ``now``, scores drifting."""
    agent = auth.create_user(engine, "wang_agent", consolekit.PASSWORD, Role.AGENT).id
    for d in range(1, days + 1):
        score = 1 + d % 5
        answers = {q: score for q in ("overall", "waiting", "skill", "solution", "attitude")}
        resp, _ = survey_store.start_response(
            engine, sid, f"d{d}", campaign_id=cid, agent_id=agent, phone=PHONE
        )
        answers["comment"] = f"第{d}天的意见"
        survey_store.save_answers(engine, resp.id or 0, answers, now - timedelta(days=d))


def _clip_dir(data_dir: Path) -> Path:
    d = data_dir / "recordings" / "ivr"
    d.mkdir(parents=True, exist_ok=True)
    return d


async def _client(aiohttp_client: Any, engine: Engine, tmp_path: Path, role: Role) -> Any:
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, f"u_{role.value}", role)
    csrf = await consolekit.login(client, f"u_{role.value}")
    client.headers_ = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
    return client


async def _get(client: Any, url: str) -> tuple[int, str]:
    resp = await client.get(url, headers=client.headers_)
    return resp.status, await resp.text()


async def test_survey_team_designs_a_survey_from_the_template(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    client = await _client(aiohttp_client, engine, tmp_path, Role.SURVEYOR)
    h = client.headers_
    status, html = await _get(client, "/surveys")
    assert status == 200 and "No survey yet" in html and 'href="/surveys"' in html  # menu
    _, html = await _get(client, "/surveys/new?template=seed")
    assert html.count('name="q') >= 6 * 4 and "您对等待时间是否满意？" in html
    form = {k: unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', html)}
    form.update({"q0_type": "scale5", "q1_type": "scale5", "q2_type": "scale10", "q3_type": "nps",
                 "q4_type": "yes_no", "q5_type": "open", "name": "after_sales"})  # fmt: skip
    added = await client.post("/surveys/save", data={**form, "action": "add"}, headers=h)
    assert (await added.text()).count('name="q6_id"') == 1  # a blank seventh question
    bad = await client.post("/surveys/save", data={**form, "q1_id": "Bad Id"}, headers=h)
    assert bad.status == 400 and "lower-case letters" in await bad.text()  # said, not lost
    assert 'value="Bad Id"' in await bad.text()
    saved = await client.post("/surveys/save", data=form, headers=h)
    assert saved.status == 204
    sid = int(saved.headers["HX-Redirect"].split("/")[2].split("?")[0])
    _, stored = survey_store.get_survey(engine, sid)
    assert [(q.kind.value, q.low, q.high) for q in stored.questions][2:5] == [
        ("scale", 1, 10), ("scale", 0, 10), ("yes_no", 1, 5)]  # fmt: skip
    again = await client.post("/surveys/save", data=form, headers=h)
    assert again.status == 400 and "already exists" in await again.text()
    # attach to a campaign, and record a prompt in the browser's upload
    camp, _ = campaigns.save_spec(
        engine, rules.parse_campaign({"name": "c1", "caller_id": "+8610010000"})
    )
    _, page = await _get(client, f"/surveys/{sid}")
    assert f'name="campaign" value="{camp.id}"' in page and "synthetic voice" in page
    attached = await client.post(
        f"/surveys/{sid}/campaigns", data={"campaign": str(camp.id)}, headers=h
    )
    assert "c1" in await attached.text()
    assert campaigns.spec_of(engine, campaigns.get(engine, camp.id or 0)).survey == "after_sales"
    up = aiohttp.FormData({"name": "q:overall", "lang": "zh"})
    up.add_field("file", wav_file(tmp_path / "p.wav").read_bytes(), filename="p.wav")
    done = await client.post(f"/surveys/{sid}/prompts", data=up, headers=h)
    assert done.status == 200 and "/prompts/zh/q%3Aoverall/audio" in await done.text()
    audio = await client.get(f"/surveys/{sid}/prompts/zh/q:overall/audio", headers=h)
    assert audio.status == 200 and (await audio.read())[:4] == b"RIFF"
    wrong = aiohttp.FormData({"name": "q:overall", "lang": "zh"})
    wrong.add_field("file", b"not a wav at all", filename="p.wav")
    refused = await client.post(f"/surveys/{sid}/prompts", data=wrong, headers=h)
    assert refused.status == 400 and "The file was refused" in await refused.text()
    detached = await client.post(f"/surveys/{sid}/campaigns", data={}, headers=h)
    assert detached.status == 200
    assert campaigns.spec_of(engine, campaigns.get(engine, camp.id or 0)).survey == ""


async def test_results_filters_open_answers_and_exports(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 2 March in Shanghai
    sid = seed(engine, tmp_path, now)
    client = await _client(aiohttp_client, engine, tmp_path, Role.SURVEYOR)
    status, html = await _get(client, f"/surveys/{sid}/results")
    assert status == 200 and "13912345678" not in html
    # overall: 5, 2, 5, 4 -> mean 4.00, top box 50%, CSAT 75%; 3 of 4 completed
    row = html[html.find("<b>overall</b>") :]
    assert re.search(r"4\.00</td>\s*<td class=\"num\">50\.0%</td>\s*<td class=\"num\">75\.0%", row)
    assert "75.0%" in html and 'data-dist=\'{"kind": "scale", "labels": ["1", "2"' in html
    assert "IVR drop-off by question" in html  # i2 hung up at "waiting"
    compare = html[html.find("By agent") :]  # li_agent: 5 and 2; the IVR: 5 and 4
    assert re.search(r"li_agent</td><td class=\"num\">2</td><td class=\"num\">2</td>"
                     r"<td class=\"num\">3\.50</td><td class=\"num\">50\.0%", compare)  # fmt: skip
    assert re.search(r"IVR, no agent</td><td class=\"num\">2</td><td class=\"num\">1</td>"
                     r"<td class=\"num\">4\.50</td><td class=\"num\">100\.0%", compare)  # fmt: skip
    _, day = await _get(client, f"/surveys/{sid}/results?campaign=回访&period=day&on=2026-03-02")
    assert '<div class="v">4</div>' in day
    _, utc_day = await _get(client, f"/surveys/{sid}/results?period=day&on=2026-03-01")
    assert "No response matches these filters" in utc_day  # the campaign's days, not UTC's
    _, low = await _get(client, f"/surveys/{sid}/answers?q=overall&score=1&score=2")
    assert "*********5678" in low and "13912345678" not in low and "很好" not in low
    assert "HYPERLINK" in low and "<audio" not in low
    _, ivr = await _get(client, f"/surveys/{sid}/answers?channel=ivr")
    src = re.search(r'<audio controls preload="metadata" src="([^"]+)"', ivr)
    assert src is not None
    clip = await client.get(src.group(1), headers=client.headers_)
    assert clip.status == 200 and (await clip.read())[:4] == b"RIFF", await clip.text()
    missing = await client.get(f"/surveys/{sid}/clips/999/comment", headers=client.headers_)
    assert missing.status == 404
    csv = await client.get(f"/surveys/{sid}/export.csv?q=overall&score=2", headers=client.headers_)
    text = (await csv.read()).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("response,campaign,agent,channel")
    assert "'=HYPERLINK" in text and "13912345678" not in text and "*********5678" in text
    xlsx = await client.get(f"/surveys/{sid}/export.xlsx?channel=ivr", headers=client.headers_)
    ws = load_workbook(io.BytesIO(await xlsx.read())).active
    assert ws is not None
    values = list(ws.values)
    assert len(values) == 3 and values[1][3] == "ivr" and values[1][7] == 5
    bad = await client.get(f"/surveys/{sid}/results?period=year", headers=client.headers_)
    assert bad.status == 400 and "day, week or month" in await bad.text()
    bad = await client.get(f"/surveys/{sid}/results?score=7", headers=client.headers_)
    assert bad.status == 400 and "1-5" in await bad.text()


async def test_other_roles_get_a_clear_403_page(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    sid = seed(sqlite_engine, tmp_path, datetime.now(UTC) - timedelta(hours=1))
    client = await _client(aiohttp_client, sqlite_engine, tmp_path, Role.AGENT)
    for url in ("/surveys", f"/surveys/{sid}/results", f"/surveys/{sid}/export.csv"):
        status, html = await _get(client, url)
        assert status == 403 and "Not allowed" in html and "Your role may not" in html
    _, home = await _get(client, "/")
    assert 'href="/surveys"' not in home
    manager = await _client(aiohttp_client, sqlite_engine, tmp_path, Role.MANAGER)
    status, _ = await _get(manager, f"/surveys/{sid}/answers")
    assert status == 200
    _, edit = await _get(manager, f"/surveys/{sid}/edit")  # answers exist: changes said
    assert "already has 4 responses" in edit and 'name="name" value="seed_satisfaction"' in edit


@pytest.mark.browser
@pytest.mark.sip
async def test_survey_team_flow_in_chromium(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Template -> survey -> campaigns; agent-led answers and an IVR call that SIPp answers
    with keys 2 1 5 4 3 and a spoken comment; the charts render; scores 1-2; CSV and XLSX
    downloads; the IVR clip plays in Chromium; every page shot in both languages."""
    import browserkit

    engine, data = sqlite_engine, tmp_path / "data"
    consolekit.user(engine, "qa", Role.SURVEYOR)
    consolekit.user(engine, "desk", Role.AGENT)
    cid = shanghai_campaign(engine)
    ivr_sip, number = _ivr_harness(), "+8613810100088"
    ivr_cid = ivr_sip.survey_campaign(engine, "IVR 满意度", [number])  # agentless
    server = await aiohttp_server(consolekit.app_for(engine, data), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    async with browserkit.chromium() as browser:
        w = await browserkit.new_page(browser, base, "en")
        page = w.page
        await _login(w, "qa", "**/surveys")
        await w.shot("surveys-empty", "en")
        await page.get_by_role(
            "link", name="New survey from the six-question template"
        ).first.click()
        await page.wait_for_url("**/surveys/new?template=seed")
        assert await page.locator("input[name=q5_id]").input_value() == "comment"
        await page.fill("input[name=name]", "after_sales")
        await w.shot("survey-editor", "en")
        await page.get_by_role("button", name="Save the survey").click()
        await page.wait_for_url("**/surveys/*?saved=1")
        sid = int(page.url.split("/surveys/")[1].split("?")[0])
        await page.get_by_label("回访").check()
        await page.get_by_label("IVR 满意度").check()
        await page.get_by_role("button", name="Save the campaigns").click()
        await page.get_by_text("Changed: 回访").wait_for()
        row = page.locator("#survey-prompts tr", has_text="q:overall")
        await row.locator("input[type=file]").first.set_input_files(
            str(wav_file(tmp_path / "o.wav"))
        )
        await row.get_by_role("button", name="Upload").first.click()
        await page.locator("#survey-prompts audio").wait_for()
        assert await _audio_seconds(page, "#survey-prompts audio") == pytest.approx(0.5, abs=0.05)
        await w.shot("survey", "en")
        assert campaigns.spec_of(engine, campaigns.get(engine, cid)).survey == "after_sales"
        seed_responses(engine, data, datetime.now(UTC) - timedelta(minutes=5), sid, cid)
        seed_days(engine, datetime.now(UTC), sid, cid, 6)
        await page.get_by_role("link", name="Results").click()
        await page.locator(".dist-chart[data-rendered] svg").first.wait_for()
        assert await page.locator(".dist-chart svg").count() == 5  # five scored questions
        await page.locator(".trend-chart[data-rendered] svg").wait_for()  # seven days
        await ivr_call(ivr_sip, engine, tmp_path, ivr_cid, number, "21543")
        await page.goto(f"/surveys/{sid}/results?campaign=IVR 满意度")
        figures = await page.locator(".figure .v").all_inner_texts()
        assert figures[:3] == ["1", "1", "100.0%"], figures  # offered, completed, rate
        waiting = page.locator("table.survey-questions tr", has_text="waiting")
        assert "\t1\t1.00\t" in await waiting.inner_text()  # one answer: key 1
        await page.locator(".dist-chart[data-rendered] svg").first.wait_for()
        await page.goto(f"/surveys/{sid}/results")
        await w.shot("survey-results", "en")
        await page.get_by_label("1", exact=True).check()
        await page.get_by_label("2", exact=True).check()
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**score=2*")
        # scores 1-2 on "overall": the agent-led 2 of today, days 1, 5, 6 (2, 1, 2), the IVR 2
        assert await page.locator(".figure .v").first.inner_text() == "5"
        await page.get_by_role("link", name="Open answers", exact=True).click()
        await page.locator("table.answers").wait_for()
        await w.shot("survey-answers-scores-1-2", "en")
        answers = await page.locator("table.answers").inner_text()
        assert "HYPERLINK" in answers and "很好" not in answers and "13912345678" not in answers
        for fmt in ("CSV", "XLSX"):
            async with page.expect_download() as info:
                await page.get_by_role("link", name=fmt, exact=True).click()
            download = await info.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert saved.suffix == f".{fmt.lower()}" and saved.stat().st_size > 0
        text = (tmp_path / f"survey-{sid}-results.csv").read_text("utf-8-sig")
        lines = text.strip().splitlines()
        assert len(lines) == 6 and "'=HYPERLINK" in text and "13810100088" not in text
        assert any(",ivr,completed," in x and x.endswith(",2,1,5,4,3," + x.split(",")[-1])
                   for x in lines)  # fmt: skip
        await page.goto(f"/surveys/{sid}/answers?channel=ivr")
        assert await page.locator("table.answers audio").count() == 2
        spoken = await _audio_seconds(page, "table.answers audio")  # the newest: SIPp's
        assert spoken > 1.0, spoken
        await page.goto(f"/surveys/{sid}/answers")
        assert await page.locator("table.answers tbody tr").count() == 3 + 6 + 1
        await w.shot("survey-answers", "en")
        assert not w.problems, w.problems
        zh = await browserkit.new_page(browser, base, "zh")
        await _login(zh, "qa", "**/surveys")
        for name, url in (
            ("surveys", "/surveys"),
            ("survey-editor", "/surveys/new?template=seed"),
            ("survey", f"/surveys/{sid}"),
            ("survey-results", f"/surveys/{sid}/results"),
            ("survey-answers", f"/surveys/{sid}/answers?q=overall&score=1&score=2"),
        ):
            await zh.page.goto(url)
            if name == "survey-results":
                await zh.page.locator(".dist-chart[data-rendered] svg").first.wait_for()
            await zh.shot(name, "zh")
        assert not zh.problems, zh.problems
        for lang in ("en", "zh"):
            agent = await browserkit.new_page(browser, base, lang)
            await _login(agent, "desk", "**/desk")
            await agent.page.goto(f"/surveys/{sid}/results")
            await agent.page.locator(".errorpage").wait_for()
            await agent.shot("survey-403", lang)


async def _audio_seconds(page: Any, selector: str) -> float:
    """The browser loads the WAV itself: its length as Chromium's player reads it."""
    script = """a => new Promise((ok, fail) => {
        a.onloadedmetadata = () => ok(a.duration); a.onerror = () => fail(a.error.code);
        a.preload = "metadata"; a.load(); })"""
    return float(await page.eval_on_selector(selector, script))


async def _login(w: Any, username: str, landing: str) -> None:
    await w.page.goto("/login")
    await w.page.fill("input[name=username]", username)
    await w.page.fill("input[name=password]", consolekit.PASSWORD)
    await w.page.click("button[type=submit]")
    await w.page.wait_for_url(landing)


def _ivr_harness() -> Any:
    """tests/dialer/test_ivr_sip.py: the real engine, SIP pool and IVR against SIPp pressing
    RFC 4733 keys. Loaded by path (tests are not a package; --import-mode=importlib)."""
    import importlib.util

    path = Path(__file__).parents[1] / "dialer" / "test_ivr_sip.py"
    spec = importlib.util.spec_from_file_location("ivr_sip_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def ivr_call(ivr_sip: Any, db: Engine, tmp: Path, cid: int, number: str, keys: str) -> None:
    """One agentless survey call to SIPp, which presses ``keys`` (typed ahead), then speaks
    the open comment and ends it with '#' (tests/dialer/test_ivr_sip.py's harness)."""
    import asyncio

    camp = campaigns.get(db, cid)
    _, survey = survey_store.get_survey(db, campaigns.spec_of(db, camp).survey)
    durations = await asyncio.to_thread(ivr_sip.prompt_durations, db, tmp, survey)
    asked = durations["intro"] + sum(durations[f"q:{q.id}"] for q in survey.questions)
    presses = [(0.5 + 0.4 * i, k) for i, k in enumerate(keys)] + [(asked + 3.0, "#")]
    sipp = tmp / "sipp"
    sipp.mkdir()
    ivr_sip.dtmf_at(sipp / "answers.pcap", presses)
    for name in ("invalid", "early", "optout"):
        ivr_sip.dtmf_at(sipp / f"{name}.pcap", [(0.5, "1")])
    _ivr, _seen, result = await ivr_sip.run_campaign(db, cid, tmp, [number], survey)
    assert (result.returncode, result.successful) == (0, 1), result.stderr
