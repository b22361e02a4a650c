"""Report pages: the KPI table and charts of the hand-computed timeline (tests/reports/
timeline.py), the same numbers as the API and its CSV, zh-CN words, clear errors, the staffing
forecast and the scheduled report files."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import consolekit
import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
import timeline

from outdial.roles import Role
from reports import files, report, targets
from web import pages_reports

DAY = "from=2026-12-01&to=2026-12-01"
KPIS = "kpi=dials&kpi=connect_rate&kpi=abandon_rate&kpi=aht&kpi=occupancy"


async def _client(aiohttp_client: Any, engine: Engine, tmp_path: Path) -> tuple[Any, dict]:
    client = await aiohttp_client(consolekit.app_for(engine, tmp_path))
    consolekit.user(engine, "mgr", Role.MANAGER)
    csrf = await consolekit.login(client, "mgr")
    return client, {"X-CSRF-Token": csrf, "Accept-Language": "en"}


def _row(html: str, when: str) -> list[str]:
    m = re.search(rf"<tr><td>{re.escape(when)}</td>(.*?)</tr>", html, re.S)
    assert m is not None, when
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)
    return [unescape(re.sub(r"<[^>]+>", "", c)) for c in cells]  # a cell's link: its text


async def test_kpis_by_half_hour_table_chart_and_downloads(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    timeline.build(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    menu = await (await client.get("/", headers=h)).text()
    assert 'href="/reports"' in menu  # managers reach it from the menu
    resp = await client.get(f"/reports?{DAY}&interval=30m&{KPIS}", headers=h)
    html = await resp.text()
    assert resp.status == 200, html
    # hand figures: 5 dials, 3/5 live, 1/3 abandoned, AHT 270/2 = 2:15, occupancy 22.5 %
    assert _row(html, "09:00") == ["5", "60.0 %", "33.3 %", "2:15", "22.5 %"]
    assert "Times in Asia/Shanghai." in html
    charts = [json.loads(unescape(c)) for c in re.findall(r'data-chart="([^"]+)"', html)]
    assert [c["title"] for c in charts][:2] == ["Dials", "Connect rate"]
    nine = charts[1]["x"].index("09:00")
    assert charts[1]["series"][0]["data"][nine] == 60.0 and charts[1]["unit"] == "ratio"
    assert len(charts[0]["x"]) == 48
    link = unescape(re.search(r'href="(/api/reports/kpi\?[^"]+format=csv[^"]*)"', html).group(1))  # type: ignore[union-attr]
    body = await (await client.get(link, headers=h)).text()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["interval", "dials", "connect_rate", "abandon_rate", "aht", "occupancy"]
    nine_csv = next(r for r in rows if r[0] == "2026-12-01T09:00+08:00")
    assert nine_csv[1:3] == ["5", "0.6"] and float(nine_csv[4]) == 135.0
    xlsx = await client.get(link.replace("format=csv", "format=xlsx"), headers=h)
    assert xlsx.status == 200 and (await xlsx.read())[:2] == b"PK"


def _cls(html: str, when: str) -> list[str]:
    m = re.search(rf"<tr><td>{re.escape(when)}</td>(.*?)</tr>", html, re.S)
    assert m is not None, when
    return re.findall(r'<td class="num ?([a-z]*)"', m.group(1))


async def test_manager_sets_targets_on_the_page(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Targets typed on the report (rates in percent) colour its cells; a bad value is a
    sentence naming the KPI and saves nothing; an empty value clears a target."""
    timeline.build(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    page = f"/reports?{DAY}&interval=30m&{KPIS}"
    html = await (await client.get(page, headers=h)).text()
    assert 'name="value:connect_rate"' in html and 'name="op:aht"' in html
    assert _cls(html, "09:00") == ["", "", "", "", ""]  # no targets yet
    form = {"back": page, "op:connect_rate": ">=", "value:connect_rate": "50"}
    form |= {"op:abandon_rate": "<=", "value:abandon_rate": "3 %", "value:aht": "120"}
    resp = await client.post("/reports/targets", data=form, headers=h)
    assert resp.status == 204 and resp.headers["HX-Redirect"] == page
    assert targets.load(sqlite_engine) == {
        "abandon_rate": {"op": "<=", "value": 0.03},
        "aht": {"op": "<=", "value": 120.0},
        "connect_rate": {"op": ">=", "value": 0.5},
    }
    html = await (await client.get(page, headers=h)).text()
    # 09:00: 60 % >= 50 % green, 33.3 % > 3 % red, AHT 2:15 > 120 s red; no target on the rest
    assert _cls(html, "09:00") == ["", "green", "red", "red", ""]
    assert 'name="value:connect_rate" value="50"' in html  # shown as it was typed, in %
    bad = {"back": page, "value:connect_rate": "", "value:aht": "two minutes"}
    resp = await client.post("/reports/targets", data=bad, headers=h)
    text = await resp.text()
    assert resp.status == 400 and 'data-field="value:aht"' in text and "aht" in text
    assert "connect_rate" in targets.load(sqlite_engine)  # nothing saved
    resp = await client.post("/reports/targets", data={"value:aht": ""}, headers=h)
    assert resp.status == 204 and resp.headers["HX-Redirect"] == "/reports"
    assert "aht" not in targets.load(sqlite_engine)
    evil = {"back": "//evil.example/reports", "value:aht": "1"}
    resp = await client.post("/reports/targets", data=evil, headers=h)
    assert resp.headers["HX-Redirect"] == "/reports"


async def test_a_figure_opens_the_calls_behind_it(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Each KPI cell links to its row's calls: wang's two calls with whole numbers for the
    manager; the same list for a QA reviewer shows the last four digits; a chart point carries
    the same link; a bad row is a sentence."""
    timeline.build(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    html = await (
        await client.get(f"/reports?{DAY}&interval=day&by=agent&{KPIS}", headers=h)
    ).text()
    links = sorted({unescape(x) for x in re.findall(r'href="(/reports/calls\?[^"]+)"', html)})
    dials = [x for x in links if x.endswith("kpi=dials")]
    assert len(dials) == 2  # one per row: wang, and the calls no agent took
    wang = next(x for x in dials if "d.agent=wang" in x)
    page = await client.get(wang, headers=h)
    text = await page.text()
    assert page.status == 200, text
    assert "+8613800000001" in text and "+8613800000002" in text
    assert "+8613800000003" not in text  # not wang's
    assert "2 calls dialled." in text and "talked to an agent" in text
    back = unescape(re.search(r'href="(/reports\?[^"]+)"', text).group(1))  # type: ignore[union-attr]
    assert "by=agent" in back and "interval=day" in back
    chart = json.loads(unescape(re.search(r'data-chart="([^"]+)"', html).group(1)))  # type: ignore[union-attr]
    point = chart["drill"]["base"] + "&at=" + chart["drill"]["at"][0]
    wang_series = chart["drill"]["series"][[s["name"] for s in chart["series"]].index("wang")]
    assert "2 calls dialled." in await (await client.get(point + wang_series, headers=h)).text()
    consolekit.user(sqlite_engine, "qa1", Role.QA)
    qa = await aiohttp_client(consolekit.app_for(sqlite_engine, tmp_path / "qa"))
    await consolekit.login(qa, "qa1")
    masked = await (await qa.get(wang, headers={"Accept-Language": "zh-CN"})).text()
    assert "+8613800000001" not in masked and "0001" in masked and "号码只显示后四位" in masked
    bad = await client.get(wang.replace("at=2026-12-01", "at=someday"), headers=h)
    assert bad.status == 400 and "not an interval of this report" in await bad.text()


async def test_a_rate_lists_its_own_calls_with_labels_and_pages(
    aiohttp_client: Any, tmp_path: Path, engine: Engine
) -> None:
    """The abandon-rate cell lists the abandoned call only and says of how many answered; the
    connect-rate cell the calls a person answered; dispositions show the campaign's labels in
    the reader's language (a typed label as typed, an unknown code as is); occupancy has no
    calls and says so; past 200 calls an "Older calls" link pages on."""
    import sqlalchemy as sa

    from dialer.models import Attempt
    from outdial.storage import session_scope

    ids = timeline.build(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE attempts SET disposition = 'success' WHERE call_id = 'c1'"))
        conn.execute(sa.text("UPDATE dispositions SET label = '再联系' WHERE code = 'callback'"))
        conn.execute(sa.text("UPDATE attempts SET disposition = 'odd_code' WHERE call_id = 'c3'"))
        conn.execute(
            sa.text("UPDATE attempts SET disposition = 'not_interested' WHERE call_id = 'c4'")
        )
        conn.execute(
            sa.text(
                "INSERT INTO dispositions (campaign_id, code, label, contact, success, callback, "
                "do_not_call, final) VALUES (:k, 'not_interested', 'Not interested / 无意向', "
                "true, false, false, false, true)"
            ),
            {"k": ids["campaign"]},
        )
    client, h = await _client(aiohttp_client, engine, tmp_path)
    html = await (await client.get(f"/reports?{DAY}&interval=day&{KPIS}", headers=h)).text()
    links = {unescape(x) for x in re.findall(r'href="(/reports/calls\?[^"]+)"', html)}
    by_kpi = {x.rsplit("kpi=", 1)[1]: x for x in links}
    assert set(by_kpi) == {"dials", "connect_rate", "abandon_rate", "aht", "occupancy"}
    text = await (await client.get(by_kpi["abandon_rate"], headers=h)).text()
    assert "1 abandoned of 3 answered calls." in text and "Abandon rate" in text
    assert text.count("+86138") == 1 and "+8613800000005" in text
    text = await (await client.get(by_kpi["connect_rate"], headers=h)).text()
    assert "3 answered by a person of 5 calls dialled." in text
    assert [n[-1] for n in re.findall(r"\+8613800000\d{3}", text)] == ["5", "2", "1"]
    zh = {**h, "Accept-Language": "zh-CN"}
    text = await (await client.get(by_kpi["dials"], headers=zh)).text()
    dispos = [unescape(d) for d in re.findall(r'<td class="dispo">(.*?)</td>', text)]
    assert dispos == ["—", "无意向", "odd_code", "再联系", "成功"]  # c5 .. c1
    en = await (await client.get(by_kpi["dials"], headers=h)).text()
    assert re.findall(r'<td class="dispo">(.*?)</td>', en)[-1] == "Success"
    occ = await (await client.get(by_kpi["occupancy"], headers=h)).text()
    assert "agents’ time" in unescape(occ) and "<table" not in occ.split("drillwhat")[1]
    with session_scope(engine) as s:  # 250 more unanswered calls the same day
        contact = s.exec(sa.text("SELECT MIN(id) FROM contacts")).one()[0]  # type: ignore[call-overload]
        for i in range(250):
            s.add(
                Attempt(
                    call_id=f"x{i}",
                    campaign_id=ids["campaign"],
                    contact_id=contact,
                    number="+8613900000000",
                    created_at=timeline.at(2, 0),
                    state="no_answer",
                )
            )
    first = await (await client.get(by_kpi["dials"], headers=h)).text()
    assert "Calls 1–200 of 255, newest first." in first and first.count("<tr><td>") == 200
    older = unescape(re.search(r'id="older-calls" href="([^"]+)"', first).group(1))  # type: ignore[union-attr]
    second = await (await client.get(older, headers=h)).text()
    assert "Calls 201–255 of 255, newest first." in second and 'id="older-calls"' not in second
    assert second.count("<tr><td>") == 55 and "+8613800000001" in second
    bad = await client.get(older.replace("before=", "before=x"), headers=h)
    assert bad.status == 400 and "before" in await bad.text()


async def test_simulated_calls_behind_a_checkbox(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Issue 17: the simulated carrier's 2 calls are left out (5 dials) until the box is
    ticked (7 dials, 5/7 live, 2/5 abandoned); the downloads keep the choice."""
    timeline.build_simulated(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    kpis = "kpi=dials&kpi=connect_rate&kpi=abandon_rate"
    html = await (await client.get(f"/reports?{DAY}&interval=30m&{kpis}", headers=h)).text()
    assert _row(html, "09:00") == ["5", "60.0 %", "33.3 %"]
    assert 'name="include_simulated" value="1">' in html  # not ticked
    assert "include_simulated" not in re.search(r'href="(/api/reports/kpi[^"]+)"', html).group(1)  # type: ignore[union-attr]
    url = f"/reports?{DAY}&interval=30m&{kpis}&include_simulated=1"
    html = await (await client.get(url, headers=h)).text()
    assert _row(html, "09:00") == ["7", "71.4 %", "40.0 %"]
    assert 'name="include_simulated" value="1" checked>' in html
    link = unescape(re.search(r'href="(/api/reports/kpi\?[^"]+format=csv[^"]*)"', html).group(1))  # type: ignore[union-attr]
    assert "include_simulated=true" in link
    zh = await (await client.get(url, headers={"Accept-Language": "zh-CN"})).text()
    assert "包括模拟呼叫和模拟坐席" in zh


async def test_by_agent_in_chinese(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    timeline.build(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    h["Accept-Language"] = "zh-CN"
    html = await (
        await client.get(f"/reports?{DAY}&interval=day&by=agent&{KPIS}", headers=h)
    ).text()
    for words in ("报表", "接通率", "呼损率", "平均处理时间", "坐席", "日", "下载 CSV"):
        assert words in html, words
    assert _row(html, "2026-12-01")[0] == "wang"
    assert "lang=zh-CN" in html  # the download has Chinese column names
    assert "接通率和呼损率不按坐席或班组拆分" in html  # why the cells are empty
    assert pages_reports.NOTE_WORDS[0] == report.NOT_BY_AGENT_NOTE  # the note is a msgid
    team = await (await client.get(f"/reports?{DAY}&interval=day&{KPIS}", headers=h)).text()
    assert "接通率和呼损率不按坐席或班组拆分" not in team


async def test_the_page_counts_in_a_zone_the_manager_can_choose(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Today is today where the report counts; campaigns in two zones count in UTC unless the
    manager picks one of theirs on the form (the page said "pass zone", API words, before)."""
    from zoneinfo import ZoneInfo

    from campaigns import rules
    from campaigns import store as campaigns

    timeline.build(sqlite_engine)
    spec = rules.parse_campaign(
        {
            "name": "NY",
            "kind": "return_visit",
            "caller_id": "+12125550100",
            "timezone": "America/New_York",
        }
    )
    campaigns.save_spec(sqlite_engine, spec)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    html = await (await client.get("/reports", headers=h)).text()
    utc_today = datetime.now(UTC).date().isoformat()
    assert f'name="from" value="{utc_today}"' in html
    assert '<option value="UTC" selected>' in html and "Times in UTC." in html
    assert "These campaigns are in 2 time zones" in html and "pass zone" not in html
    one = await (await client.get("/reports?campaign=回访一", headers=h)).text()
    sh_today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert f'name="from" value="{sh_today}"' in one and "Times in Asia/Shanghai." in one
    picked = await (await client.get(f"/reports?{DAY}&zone=Asia/Shanghai&{KPIS}", headers=h)).text()
    assert "Times in Asia/Shanghai." in picked
    assert _row(picked, "09:00")[0] == "5"  # the hand timeline's 09:00 Shanghai half-hour
    assert "zone=Asia%2FShanghai" in picked  # downloads and drill-downs count the same way
    bad = await (await client.get("/reports?zone=Mars/Base", headers=h)).text()
    assert "Times in UTC." in bad or "Mars" not in bad  # an unknown zone is not offered


async def test_bad_input_is_a_sentence_not_a_500(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    for query, words in (
        ("from=2026-12-02&to=2026-12-01", "before"),
        ("from=2024-01-01&to=2026-12-01", "400 days"),
        (f"{DAY}&interval=fortnight", "unknown interval"),
        (f"{DAY}&kpi=smiles", "smiles"),
    ):
        resp = await client.get(f"/reports?{query}", headers=h)
        html = await resp.text()
        assert resp.status == 400 and "The report cannot be made:" in html, query
        assert words in unescape(html), (query, html[-600:])
        assert 'name="from"' in html  # the form stays to fix it


async def test_forecast_page(aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine) -> None:
    timeline.build(sqlite_engine, "回访一")
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    blank = await client.get("/reports/forecast", headers=h)
    assert blank.status == 200 and '<option value="回访一">' in await blank.text()
    unknown = await client.get("/reports/forecast?campaign=nope&deadline=2030-01-01", headers=h)
    assert unknown.status == 400 and "No forecast:" in await unknown.text()
    deadline = (datetime.now(UTC) + timedelta(days=4)).strftime("%Y-%m-%dT23:59")  # a weekday
    resp = await client.get(f"/reports/forecast?campaign=回访一&deadline={deadline}", headers=h)
    html = await resp.text()
    assert resp.status == 200, html
    assert "Records left" in html and "Agents needed" in html and "data-chart=" in html


async def test_report_files_are_listed_for_download(
    aiohttp_client: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    timeline.build(sqlite_engine)
    client, h = await _client(aiohttp_client, sqlite_engine, tmp_path)
    empty = await (await client.get("/reports/files", headers=h)).text()
    assert "No report files yet" in empty
    files.write_period(sqlite_engine, tmp_path, "daily", datetime(2026, 12, 2, 3, tzinfo=UTC))
    html = await (await client.get("/reports/files", headers=h)).text()
    assert 'href="/api/reports/files/daily-2026-12-01.csv"' in html and "Daily" in html
    got = await client.get("/api/reports/files/daily-2026-12-01.xlsx", headers=h)
    assert got.status == 200 and (await got.read())[:2] == b"PK"


def busy_day(engine: Engine) -> None:
    """A believable 2026-12-01 for screenshots: three agents 09:00-17:00 Shanghai, a cycle of
    dials every few minutes with the connect rate changing over the day, lunch breaks."""
    import random

    import dialdata

    from campaigns import store as campaigns
    from campaigns.models import Disposition
    from dialer.models import Attempt, StateChange
    from outdial import auth
    from outdial.storage import session_scope

    rnd = random.Random(15)
    camp = campaigns.create(engine, "春季回访")
    cid = int(camp.id or 0)
    products = ["电水壶", "电风扇", "电饭煲"]
    numbers = [f"+86138{i:08d}" for i in range(600)]
    custom: list[dict[str, object]] = [{"product": products[i % 3]} for i in range(600)]
    contacts = dialdata.add_contacts(engine, cid, numbers, custom=custom)
    agents = [
        int(auth.create_user(engine, n, "password-1", "agent").id or 0)
        for n in ("wang", "li", "zhao")
    ]
    t0 = datetime(2026, 12, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai
    n = 0
    with session_scope(engine) as s:
        s.add(Disposition(campaign_id=cid, code="sale", success=True, final=True))
        s.add(Disposition(campaign_id=cid, code="no", final=True))
        for a, agent in enumerate(agents):
            t = t0 + timedelta(seconds=60 * a)
            changes = [(t, "ready", "")]
            while t < t0 + timedelta(hours=8):
                hour = (t - t0).seconds // 3600
                if hour == 3 and not any(r == "lunch" for _, _, r in changes):
                    changes.append((t, "paused", "lunch"))
                    t += timedelta(minutes=30 + 10 * a)
                    changes.append((t, "ready", ""))
                live_share = 0.25 + 0.15 * (hour in (1, 2, 6))
                while True:  # dials until one is answered by a person
                    n += 1
                    live = rnd.random() < live_share
                    ring = rnd.uniform(4, 18)
                    dial = t
                    s.add(
                        Attempt(
                            call_id=f"d{n}",
                            campaign_id=cid,
                            contact_id=contacts[n % 600],
                            number=numbers[n % 600],
                            created_at=dial,
                            state="completed",
                            final=True,
                            answered_at=dial + timedelta(seconds=ring) if live else None,
                            bridged_at=dial + timedelta(seconds=ring + 1) if live else None,
                            agent_user_id=agent if live else None,
                            disposition=("sale" if rnd.random() < 0.3 else "no") if live else "",
                            abandoned=False,
                        )
                    )
                    t += timedelta(seconds=ring + 2)
                    if live:
                        break
                talk, wrap = rnd.uniform(60, 240), rnd.uniform(15, 60 + 40 * a)
                changes += [(t, "reserved", ""), (t + timedelta(seconds=1), "talk", "")]
                t += timedelta(seconds=1 + talk)
                changes.append((t, "wrap", ""))
                t += timedelta(seconds=wrap)
                changes.append((t, "ready", ""))
                t += timedelta(seconds=rnd.uniform(5, 40))
            changes.append((t, "logged_out", ""))
            for at, target, reason in changes:
                s.add(
                    StateChange(
                        at=at,
                        campaign_id=cid,
                        machine="agent",
                        entity=str(agent),
                        source="",
                        event="x",
                        target=target,
                        reason=reason,
                    )
                )


@pytest.mark.browser
async def test_reports_page_in_a_browser(
    aiohttp_server: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    """Chromium: the manager opens Reports from the menu, charts draw, a CSV downloads; the
    forecast and files pages; screenshots in both languages."""
    import browserkit

    busy_day(sqlite_engine)
    consolekit.user(sqlite_engine, "boss", Role.MANAGER)
    files.write_period(sqlite_engine, tmp_path, "daily", datetime(2026, 12, 2, 3, tzinfo=UTC))
    server = await aiohttp_server(consolekit.app_for(sqlite_engine, tmp_path), host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    async with browserkit.chromium() as browser:
        for lang in ("en", "zh"):
            w = await browserkit.new_page(browser, base, lang)
            page = w.page
            await browserkit.login(w, "boss", consolekit.PASSWORD)
            await page.locator("nav.menu a[href='/reports']").click()
            await page.wait_for_url("**/reports")
            await page.fill("input[name=from]", "2026-12-01")
            await page.fill("input[name=to]", "2026-12-01")
            await page.select_option("select[name=interval]", "1h")
            await page.locator("input[name=by][value=agent]").check()
            await page.locator("input[name=kpi][value=occupancy]").check()
            await page.locator("form.reportform button.primary[type=submit]").click()
            await page.locator(".chart[data-chart-drawn] svg path").first.wait_for(state="attached")
            # connect and abandon rate are not split by agent: no empty charts for them
            assert await page.locator(".chart[data-chart-drawn]").count() == 5
            table = await page.locator("table.kpis").inner_text()
            assert "wang" in table and "zhao" in table
            await w.shot("reports", lang)
            link = "Download CSV" if lang == "en" else "下载 CSV"
            async with page.expect_download() as dl:
                await page.get_by_role("link", name=link).click()
            download = await dl.value
            body = Path(await download.path()).read_text("utf-8-sig")
            head = body.splitlines()[0]
            assert head.startswith("interval,agent,dials" if lang == "en" else "时段,坐席,呼出量")
            assert len(body.splitlines()) == 1 + len(
                await page.locator("table.kpis tbody tr").all()
            )
            report_url = page.url
            if lang == "en":  # the manager sets targets on the page: cells turn red/green
                await page.fill("input[name='value:aht']", "150")
                await page.fill("input[name='value:occupancy']", "30")
                await page.get_by_role("button", name="Save targets").click()
                await page.locator("table.kpis td.red").first.wait_for()
                assert await page.locator("table.kpis td.green").count() > 0
            await page.locator("#targets summary").click() if lang == "zh" else None
            await page.locator(".chart[data-chart-drawn] svg path").first.wait_for(state="attached")
            await w.shot("reports-targets", lang)
            await page.locator("table.kpis tbody td.num a").first.click()  # a figure's calls
            await page.wait_for_url("**/reports/calls?**")
            assert await page.locator("table.calls tbody tr").count() > 0
            await w.shot("reports-calls", lang)
            # one day, no split: the connect-rate figure lists the calls a person answered,
            # 200 a page; occupancy is agents' time and says it has no calls
            day = "/reports?from=2026-12-01&to=2026-12-01&interval=day&kpi=dials"
            await page.goto(day + "&kpi=connect_rate&kpi=occupancy")
            await page.locator("table.kpis a[href$='kpi=connect_rate']").click()
            await page.wait_for_url("**/reports/calls?**")
            summary = await page.locator("#drill-summary").inner_text()
            assert re.search(r"\d", summary), summary
            assert await page.locator("table.calls tbody tr").count() == 200
            rings = await page.locator("table.calls tbody td.num").all_inner_texts()
            assert all(r.endswith(" s") for r in rings)  # each one answered
            await w.shot("reports-calls-connect", lang)
            await page.locator("#older-calls").click()
            await page.wait_for_url("**before=**")
            assert 0 < await page.locator("table.calls tbody tr").count() <= 200
            await page.goto(day + "&kpi=occupancy")
            await page.locator("table.kpis a[href$='kpi=occupancy']").click()
            await page.locator("#no-calls").wait_for()
            await w.shot("reports-calls-occupancy", lang)
            await page.goto(report_url)
            chart = page.locator(".chart[data-chart-drawn]").first
            await chart.locator("svg path").first.wait_for(state="attached")
            await chart.scroll_into_view_if_needed()
            box = await chart.bounding_box()
            assert box is not None
            xy = await chart.evaluate(
                """el => { const c = echarts.getInstanceByDom(el), d = c.getOption().series[0].data;
                   const i = d.findIndex(v => v !== null && v !== undefined);
                   return c.convertToPixel({seriesIndex: 0}, [i, d[i]]); }"""
            )
            await page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])  # a chart point
            await page.wait_for_url("**/reports/calls?**")
            assert await page.locator("table.calls tbody tr").count() > 0
            await page.goto("/reports/forecast")
            await page.select_option("select[name=campaign]", "春季回访")
            await page.locator("button.primary[type=submit]").click()
            await page.locator(".figures, .refusal").first.wait_for()
            await w.shot("reports-forecast", lang)
            await page.goto("/reports/files")
            assert await page.locator("a[href$='daily-2026-12-01.xlsx']").count() == 1
            await w.shot("reports-files", lang)
            assert w.problems == [], w.problems
