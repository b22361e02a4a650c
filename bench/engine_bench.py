"""Campaign runner benchmark (issue 11): the 2-second path, event throughput, CPU.

    .venv/bin/python bench/engine_bench.py [--db sqlite|postgresql|both] [--agents 100]
        [--seconds 30] [--events 30000] [--stalled] [--json]

The runner (dialer/engine.py) with the real compliance gate (compliance/gate.py) and the real
stores, over ``FakeSipPort`` answering with realistic delays (ring 2-8 s, a third answered
live, talk 3-12 s), ``--agents`` agents in predictive mode who set their disposition 0.3 s
into wrap-up. Figures:

- ``answer_to_connect_ms``: a live answer emitted by the port → the runner's ``ConnectAgent``
  handed to the port (p50, p99, max), while the writer commits (``writer_batches``);
- ``events_per_s``: SIP events through the one runner's inbox, flooded (repeated 180s for the
  calls in flight, each a full message: pump, inbox, core);
- ``cpu_percent``: the process's CPU over the dialing phase, per 100 agents;
- with ``--stalled``, one agent's screen reads nothing (a stalled WebSocket): the figures are
  taken again and must not change (its queue overflows and is dropped, ``screens_dropped``).

Goals (issue 11): p99 ≤ 20 ms on SQLite and PostgreSQL, ≥ 3,000 events/s, ≤ 50 % of a core per
100 agents. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

import sqlalchemy as sa  # noqa: E402

from campaigns import rules  # noqa: E402
from campaigns import store as campaigns  # noqa: E402
from compliance.gate import gate_for  # noqa: E402
from dialer.core import CoreConfig  # noqa: E402
from dialer.engine import CampaignEngine, EngineSettings  # noqa: E402
from outdial import migrate, storage  # noqa: E402
from sip import events as ev  # noqa: E402
from sip.fake import FakeScript, FakeSipPort, stock_script  # noqa: E402


def customer_script(target: str) -> FakeScript:
    if target.startswith("sip:"):
        return stock_script(target)  # the agents' softphones answer in 20 ms
    rng = random.Random(target)
    roll = rng.random()
    if roll < 0.33:
        return FakeScript(delay=rng.uniform(2, 8), bye_after=rng.uniform(3, 12))
    if roll < 0.6:
        return FakeScript(final=486, delay=rng.uniform(1, 4))
    return FakeScript(final=480, delay=rng.uniform(4, 12))


class TimedPort(FakeSipPort):
    """The fake port, timing each live answer to the ConnectAgent that follows it."""

    def __init__(self) -> None:
        super().__init__(customer_script)
        self.answered_at: dict[str, float] = {}
        self.latencies: list[float] = []

    def _emit(self, event: ev.SipEvent) -> None:
        if isinstance(event, ev.CallAnswered):
            self.answered_at[event.call_id] = time.perf_counter()
        super()._emit(event)

    async def connect_agent(self, call_id: str, agent_uri: str) -> None:
        at = self.answered_at.pop(call_id, None)
        if at is not None:
            self.latencies.append((time.perf_counter() - at) * 1000.0)
        await super().connect_agent(call_id, agent_uri)


def make_db(kind: str) -> tuple[Any, Any]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return storage.make_engine(f"sqlite:///{path}"), None
    import pgserver

    server = pgserver.start()
    return storage.make_engine(server.create_database()), server


def seed_campaign(db: Any, records: int) -> int:
    """An order-verification campaign whose list rests on the contract (rule 26), contacts in
    a zone where it is early afternoon now (calling hours, rule 28)."""
    import dialdata

    spec = rules.parse_campaign(
        {"name": "bench", "kind": "order_verification", "mode": "predictive",
         "caller_id": "+8610010000"}
    )  # fmt: skip
    camp, _ = campaigns.save_spec(db, spec)
    cid = camp.id or 0
    zone = dialdata.afternoon_zone(datetime.now(UTC))
    numbers = [f"+86139{i:08d}" for i in range(records)]
    dialdata.add_contacts(db, cid, numbers, (zone,))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE call_lists SET lawful_basis = 'contract'"))
    return cid


async def run_phase(
    db: Any, cid: int, agents: int, seconds: float, events: int, stalled: bool
) -> dict[str, Any]:
    from outdial import auth
    from outdial.roles import Role

    stall = asyncio.Event()
    port = TimedPort()
    eng: CampaignEngine

    async def push(agent_id: str, message: dict[str, Any]) -> None:
        if stalled and agent_id == "a0":
            await stall.wait()  # a browser that reads nothing
        if message.get("type") == "call_ended" and message.get("state") == "completed":
            asyncio.get_running_loop().call_later(0.3, dispose, agent_id, message["call_id"])

    tasks: set[asyncio.Task[None]] = set()

    def dispose(agent_id: str, call_id: str) -> None:
        task = asyncio.create_task(eng.disposition(agent_id, call_id, "success", final=True))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    settings = EngineSettings(
        campaign_id=cid,
        core=CoreConfig(mode="predictive", max_lines=agents * 3, max_cps=200),
        caller_id="+8610010000",
        ring_timeout=15.0,
        safe_harbor_wav="/nonexistent/safe_harbor.wav",  # the fake port plays anything
    )
    await port.start()
    eng = CampaignEngine(db, port, settings, gate_for(db, cid), push=push)
    await eng.start(dialing=False)
    for i in range(agents):
        name = f"bench{i}-{time.monotonic_ns()}"
        user = auth.create_user(db, name, "password-1", Role.AGENT, sip_uri="sip:agent@x")
        await eng.agent_login(f"a{i}", user.id or 0, "sip:agent@127.0.0.1")
    eng.resume()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    lat = sorted(port.latencies)
    # the flood: repeated 180s for the calls in flight, each through the inbox and the core
    live = list(eng.core.calls) or ["none"]
    handled0, t0 = eng.handled, time.perf_counter()
    for i in range(events):
        port.events.put_nowait(ev.CallProgress(live[i % len(live)], 180, False))
    while eng.handled - handled0 < events and time.perf_counter() - t0 < 60:
        await asyncio.sleep(0.01)
    rate = (eng.handled - handled0) / (time.perf_counter() - t0)
    batches = eng.writer.batches
    await eng.stop(drain_timeout=2.0)
    stall.set()
    await port.close()
    return {
        "agents": agents,
        "stalled_screen": stalled,
        "live_answers_timed": len(lat),
        "answer_to_connect_ms": {
            "p50": round(statistics.median(lat), 2) if lat else None,
            "p99": round(lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
            "max": round(lat[-1], 2) if lat else None,
        },
        "events_per_s": round(rate),
        "cpu_percent": round(100 * cpu, 1),
        "cpu_percent_per_100_agents": round(100 * cpu * 100 / agents, 1),
        "calls_finished": eng.finished,
        "writer_batches": batches,
        "screens_dropped": eng.screens.dropped,
        "failures": dict(eng.failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--stalled", action="store_true", help="also run with a stalled screen")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    out: list[dict[str, Any]] = []
    for kind in kinds:
        for stalled in [False, True] if args.stalled else [False]:
            db, server = make_db(kind)
            try:
                migrate.upgrade(db)
                cid = seed_campaign(db, records=args.agents * 60)
                fig = asyncio.run(
                    run_phase(db, cid, args.agents, args.seconds, args.events, stalled)
                )
            finally:
                db.dispose()
                if server is not None:
                    server.stop()
            fig["db"] = kind
            out.append(fig)
            if not args.json:
                print(json.dumps(fig), flush=True)
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
