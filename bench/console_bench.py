"""Web console benchmark (issue 13): server time of each page, p50 and p95.

    .venv/bin/python bench/console_bench.py [--contacts 1000000] [--agents 100] [--rounds 20]
        [--pg] [--only live search] [--cache /tmp/outdial-console-bench]
    .venv/bin/python bench/console_bench.py --live-latency 30   # storage change -> Chromium
    .venv/bin/python bench/console_bench.py --screen-pop 100   # the agent's desk (issue 14)

Seeds a database (SQLite, or ``--pg`` a PostgreSQL server started under the cache) with one
campaign holding ``--contacts`` contacts and attempts for a tenth of them, ``--agents``
signed-in agents, and keeps it under ``--cache``: a rerun skips the seeding (1 M contacts:
~3 min on SQLite, ~15 min on PostgreSQL on the loaded shared machine). Then serves the real
application on a free loopback port and times every page (requests over loopback, so the
time is the server's): the first request (caches cold), then p50 and p95 of ``--rounds``.

Issue 13, second pass (the live view's 270 ms against the 150 ms goal): the time went to
today's AHT (every handled call of the day fetched and summed in Python) and to three
counts of the campaign's contacts that each read every contact row (``suppressed`` was not
in the hopper index). Measured in-process on the same seeded SQLite database (200,000
contacts, 20,000 attempts, 100 agents; db_status + today's figures + agents, the live
view's database work), 5 runs each, on the shared machine at a load average of ~15:
before 1,349-1,854 ms, after 249-302 ms. This bench under the same load afterwards:
live p50 978 ms / p95 2,465 ms, board p50 506 ms — wall times there are dominated by the
machine's load; rerun on a quiet machine for the page figures.

Issue 13, third pass (1 M contacts, 100 agents, load average 20-22 on 2 cores, ms):

    page                  SQLite before   SQLite after p50/p95   PostgreSQL after p50/p95
    board                 806 / 952         26 / 154                7 / 59
    live                 1178 / 2396        12 / 198              152 / 255  (first: 5.5 s / 2 s)
    live snapshot (API)  1280 / 2262         8 / 20               101 / 332
    lists                 202 / 342          3 / 28                 9 / 61
    contacts (no query)   109 / 175          6 / 12                37 / 122
    digits 0042          1222 / 1834         7 / 8                 30 / 73
    digits 12345678      1745 / 2609         3 / 11                58 / 104
    name 客户4242          1302 / 2425         6 / 41                14 / 111
    anywhere 户4242        1414 / 2265      2162 / 3307           2636 / 3982

``--live-latency 30``: SQLite p50 480 ms, p95 897 ms, max 983 ms (load ~23); PostgreSQL
p50 336 ms, p95 636 ms, max 901 ms (load ~11.5).
Searches use indexes (0007_live_contact_search); the live view's and board's costly counts
are kept 1 s and refreshed in the background (outdial/memo.py), so only the first view
after a start waits for them. With that 1 s (the table above was taken with 5 s), load
average ~8-9: SQLite live p50 41 / p95 121 (40 rounds), board 2 / 20, digits 24 / 44,
name 7 / 9; PostgreSQL live 48 / 91, board 11 / 31, board rows 16 / 231 (one outlier),
lists 22 / 38, contacts 35 / 60, digits 27 / 42, name 28 / 71.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import aiohttp
import consolekit
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from campaigns import rules
from campaigns import store as campaigns
from dialer.models import AgentSession, Attempt
from lists.models import CallList, Contact, ImportJob
from outdial import auth, migrate, storage
from outdial.models import as_utc
from outdial.roles import Role
from outdial.storage import session_scope


def seed(engine: sa.Engine, contacts: int, agents: int) -> tuple[int, int, int]:
    spec = rules.parse_campaign({"name": "bench", "caller_id": "+8610010000"})
    camp, _ = campaigns.save_spec(engine, spec)
    cid = camp.id or 0
    with session_scope(engine) as s:
        cl = CallList(campaign_id=cid, name="bench", status="ready")
        s.add(cl)
        s.flush()
        job = ImportJob(list_id=cl.id or 0, status="done", content_sha256="x" * 64)
        s.add(job)
        s.flush()
        list_id, job_id = cl.id or 0, job.id or 0
    now = datetime.now(UTC)

    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        return [
            {"list_id": list_id, "campaign_id": cid, "job_id": job_id, "row_number": i + 1,
             "primary_number": f"+86138{i:08d}", "alternates": [], "number_type": "mobile",
             "timezones": ["Asia/Shanghai"], "name": f"客户{i}", "order_id": f"A{i}",
             "address": "", "custom": {"备注": str(i)}, "suppressed": False, "status": "new",
             "attempts": 0, "last_outcome": "rule-28" if i % 50 == 0 else "", "priority": 0,
             "claimed_by": "", "created_at": now}
            for i in range(start, min(stop, contacts))
        ]  # fmt: skip

    with engine.begin() as conn:
        for k in range(0, contacts, 20_000):  # in slices: 1 M rows at once take gigabytes
            conn.execute(sa.insert(Contact), rows(k, k + 20_000))
        ids = [r[0] for r in conn.execute(sa.select(Contact.id).limit(contacts // 10))]
        t = now - timedelta(minutes=30)
        attempts = [
            {"call_id": f"b{i}", "campaign_id": cid, "contact_id": c, "number": "+8613800000000",
             "attempt_no": 1, "node": "", "state": "completed", "final": True, "created_at": t,
             "answered_at": t if i % 3 else None, "bridged_at": t if i % 3 else None,
             "ended_at": t + timedelta(seconds=60), "talk_seconds": 60.0,
             "disposition_at": t + timedelta(seconds=80), "sip_outcome": "", "sip_status": 200,
             "reason": "", "abandoned": i % 97 == 0, "amd": "", "disposition": "success",
             "notes": ""}
            for i, c in enumerate(ids)
        ]  # fmt: skip
        for k in range(0, len(attempts), 20_000):
            conn.execute(sa.insert(Attempt), attempts[k : k + 20_000])
    for i in range(agents):
        user = auth.create_user(engine, f"a{i}", "secret-pass-123", Role.AGENT)
        with session_scope(engine) as s:
            s.add(AgentSession(user_id=user.id or 0, campaign_id=cid, sip_uri="sip:a@127.0.0.1",
                               state=("ready", "talk", "wrap", "paused")[i % 4]))  # fmt: skip
    return cid, list_id, ids[0]


def locate(engine: sa.Engine) -> tuple[int, int, int] | None:
    """(campaign, list, first contact) of a database seeded before (the cache), else None."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT l.campaign_id, l.id, (SELECT min(id) FROM contacts WHERE list_id = l.id)"
                " FROM call_lists l WHERE l.name = 'bench'"
            )
        ).first()
    return None if row is None or row[2] is None else (int(row[0]), int(row[1]), int(row[2]))


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[sa.Engine]:
    """The bench database, kept under ``--cache`` so a rerun skips the seeding."""
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"{args.contacts}-{args.agents}"
    if not args.pg:
        engine = storage.make_engine(f"sqlite:///{cache}/sqlite-{tag}.db")
        yield engine
        engine.dispose()
        return
    import pgserver
    import psycopg

    server = pgserver.start(cache / f"pg-{tag}")
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone() is None:
                conn.execute("CREATE DATABASE bench")
        engine = storage.make_engine(server.url("bench"))
        yield engine
        engine.dispose()
    finally:
        server.stop(keep=True)


PAGES = {
    "login": "/login",
    "board": "/",
    "board rows": "/board/rows",
    "live": "/campaigns/{cid}/live",
    "live snapshot (API)": "/api/campaigns/{cid}/live",
    "editor": "/campaigns/{cid}/edit",
    "lists": "/lists",
    "contacts": "/lists/{list_id}",
    "search digits 0042": "/lists/{list_id}?q=0042",
    "search digits 12345678": "/lists/{list_id}?q=12345678",
    "search name 客户4242": "/lists/{list_id}?q=客户4242",
    "search mid-name 户4242": "/lists/{list_id}?q=户4242&anywhere=1",
    "search mid-name 4242 (API)": "/api/lists/{list_id}/search?q=户4242&anywhere=1",
    "attempts": "/contacts/{contact}/attempts",
    "dnc": "/dnc",
    "audit": "/audit",
}


async def run(args: argparse.Namespace) -> None:
    with database(args) as engine, tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        migrate.upgrade(engine)
        print(f"migrated in {time.perf_counter() - t0:.1f} s")
        found = locate(engine)
        if found is None:
            t0 = time.perf_counter()
            found = seed(engine, args.contacts, args.agents)
            consolekit.user(engine, "boss", Role.ADMIN)
            print(f"seeded {args.contacts:,} contacts, {args.agents} agents "
                  f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        cid, list_id, contact = found
        server = TestServer(consolekit.app_for(engine, Path(tmp)), host="127.0.0.1")
        await server.start_server()
        pages = {k: v.format(cid=cid, list_id=list_id, contact=contact) for k, v in PAGES.items()}
        if args.only:
            pages = {k: v for k, v in pages.items() if any(o in k for o in args.only)}
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address
        if args.with_preview:  # the preview decides every record: seconds, not ms
            pages["compliance check"] = f"/campaigns/{cid}/preview"
        async with aiohttp.ClientSession(
            f"http://127.0.0.1:{server.port}", cookie_jar=jar
        ) as client:
            await consolekit.login(client, "boss")
            print(f"{'sqlite' if not args.pg else 'postgresql'}, "
                  f"{args.contacts:,} contacts, {args.agents} agents")  # fmt: skip
            # "first": the first request after the server started (caches cold, outdial/memo.py);
            # p50 and p95 are of the rounds after it
            print(f"{'page':26} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
            for name, url in pages.items():
                rounds = 3 if name == "compliance check" else args.rounds
                times = []
                for _ in range(rounds + 1):
                    t = time.perf_counter()
                    resp = await client.get(url)
                    await resp.read()
                    times.append((time.perf_counter() - t) * 1000)
                    assert resp.status == 200, (url, resp.status)
                first, times = times[0], sorted(times[1:])
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                print(f"{name:26} {first:9.1f} {statistics.median(times):8.1f} {p95:8.1f}")
        await server.close()


async def live_latency(args: argparse.Namespace) -> None:
    """The live view in Chromium: from an agent's state changed in storage (as the engine
    writes it) to the change shown on the manager's page, ``--live-latency`` times, on the
    seeded database (1 M contacts, 100 agents)."""
    import browserkit

    with database(args) as engine, tempfile.TemporaryDirectory() as tmp:
        migrate.upgrade(engine)
        found = locate(engine)
        assert found is not None, "run the bench once without --live-latency to seed it"
        cid = found[0]
        server = TestServer(consolekit.app_for(engine, Path(tmp)), host="127.0.0.1")
        await server.start_server()
        with engine.connect() as conn:
            uid = conn.execute(sa.text("SELECT id FROM users WHERE username = 'a3'")).scalar_one()
        delays: list[float] = []
        async with browserkit.chromium() as browser:
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", "en")
            page = w.page
            await page.goto("/login")
            await page.fill("input[name=username]", "boss")
            await page.fill("input[name=password]", consolekit.PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/")
            await page.goto(f"/campaigns/{cid}/live")
            await page.locator("table.agents").wait_for(timeout=30_000)
            # the page notes when a token first shows (Playwright's own polling adds delay)
            await page.evaluate(
                """() => { window.benchSeen = {}; window.benchWant = "";
                new MutationObserver(() => { const t = window.benchWant;
                  if (t && !(t in window.benchSeen) && document.body.textContent.includes(t))
                    window.benchSeen[t] = Date.now(); })
                .observe(document.body, {childList: true, subtree: true,
                                         characterData: true}); }"""
            )
            for i in range(args.live_latency):
                token = f"bench-{i}-{time.time_ns()}"
                await page.evaluate("t => { window.benchWant = t; }", token)
                changed = time.time()
                with engine.begin() as conn:
                    conn.execute(
                        sa.text("UPDATE agent_sessions SET pause_reason = :t WHERE user_id = :u"),
                        {"t": token, "u": uid},
                    )
                await page.get_by_text(token).wait_for(timeout=10_000)
                shown = await page.evaluate("t => window.benchSeen[t]", token)  # one clock
                delays.append(shown - changed * 1000)
                await asyncio.sleep(0.37)  # not in step with the one-second stream
        await server.close()
        delays.sort()
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        print(f"live view, storage change -> shown in Chromium, {len(delays)} changes: "
              f"p50 {statistics.median(delays):.0f} ms, p95 {p95:.0f} ms, "
              f"max {delays[-1]:.0f} ms (goal: <= 1000 ms)")  # fmt: skip


async def screen_pop(calls: int) -> None:
    """The agent's desk (issue 14): from the agent leg bridged (the attempt's ``bridged_at``)
    to the customer's record shown on the desk in Chromium, over ``calls`` calls. The agent
    sets each disposition with a number key, as at work; the customer is a fake SIP peer."""
    import browserkit
    import dialdata

    from sip.fake import FakeScript, FakeSipPort
    from web.api_dialer import RUNTIME

    with tempfile.TemporaryDirectory() as tmp:
        engine = storage.make_engine(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(engine)
        cid = dialdata.campaign_with_contacts(
            engine, "pop", [f"+86138{i:08d}" for i in range(calls)]
        )
        consolekit.user(engine, "li", Role.AGENT)
        app = consolekit.app_for(
            engine,
            Path(tmp),
            sip_factory=lambda c: FakeSipPort(lambda t: FakeScript(delay=0.05, bye_after=0.3)),
        )
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        await app[RUNTIME].start(cid)
        shown: dict[str, float] = {}
        async with browserkit.chromium() as browser:
            w = await browserkit.new_page(browser, f"http://127.0.0.1:{server.port}", "en")
            page = w.page
            await page.goto("/login")
            await page.fill("input[name=username]", "li")
            await page.fill("input[name=password]", consolekit.PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/desk")
            await page.get_by_role("button", name="Sign in and go ready").click()
            prev = ""
            for _ in range(calls):
                panel = page.locator(f'#callpanel:not([data-call-id="{prev}"])')
                await panel.wait_for(timeout=20_000)
                prev = await panel.get_attribute("data-call-id") or ""
                await page.locator("#state-badge", has_text="wrap-up").wait_for(timeout=20_000)
                await page.locator("#callpanel h2").first.click()
                await page.keyboard.press("1")
                await page.locator("#disposed").wait_for(timeout=20_000)
            for call_id, at in await page.evaluate("window.deskTimes"):
                shown[call_id] = at / 1000
        await app[RUNTIME].stop(cid)
        await server.close()
        rows = dialdata.rows(engine, "SELECT call_id, bridged_at FROM attempts")
        delays = sorted(
            (shown[r.call_id] - as_utc(datetime.fromisoformat(str(r.bridged_at))).timestamp())
            * 1000
            for r in rows
            if r.call_id in shown and r.bridged_at is not None
        )
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        print(f"screen pop after the agent leg is bridged, {len(delays)} calls: "
              f"p50 {statistics.median(delays):.0f} ms, p95 {p95:.0f} ms, "
              f"max {delays[-1]:.0f} ms (goal: p95 <= 500 ms)")  # fmt: skip
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screen-pop", type=int, default=0, metavar="CALLS",
                    help="time the agent's desk screen pop over CALLS calls instead")  # fmt: skip
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--live-latency", type=int, default=0, metavar="CHANGES",
                    help="time CHANGES changes reaching the live view in Chromium")  # fmt: skip
    ap.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    ap.add_argument("--cache", default="/tmp/outdial-console-bench",
                    help="where the seeded databases are kept between runs")  # fmt: skip
    ap.add_argument("--only", nargs="*", help="time only the pages whose name has one of these")
    ap.add_argument("--with-preview", action="store_true", help="also time the compliance check")
    args = ap.parse_args()
    if args.screen_pop:
        asyncio.run(screen_pop(args.screen_pop))
    else:
        asyncio.run(live_latency(args) if args.live_latency else run(args))


if __name__ == "__main__":
    main()
