"""Survey results benchmark: the results page's work at 20 k and 200 k responses.

    .venv/bin/python bench/survey_bench.py [--responses 20000 200000] [--rounds 7]
        [--old-rounds 3] [--pg] [--no-old]

Seeds a database (SQLite in a temporary directory, or ``--pg`` a throw-away PostgreSQL
server) with the seeds' six-question survey and ``--responses`` responses (agent-led and IVR,
one every two minutes, six answers each), then times, per round, p50 and p95 in ms:

- ``page``: what the results page now does (campaigns/survey_sql.py ``scope`` + ``summary``:
  the counts of the unfiltered view and its comparisons by campaign, agent and day);
- ``page low``: the same, filtered on the scores 1 and 2 of the headline question;
- ``old page``: what it did before (survey_store.py ``response_facts`` read every response
  and answer, survey_results.py ``view`` unfiltered and filtered, ``compare`` x 3);
- ``csv``: the export of the view (every response, unchanged).

Measured on the shared 2-core machine (load averages 6-10, so wall times are several times
a quiet machine's), p50 ms (rounds: 5 new, 1-2 old):

    responses  backend      page   page low   old page
    20,000     SQLite       1,050      993      9,597   (load 8.1)
    200,000    SQLite      24,724   11,117     65,740   (load 7.4, other tests running)
    200,000    SQLite       4,217    6,302          -   (load 6.9, --no-old, nothing else)
    20,000     PostgreSQL   1,222      829      3,991   (load 6.6)
    200,000    PostgreSQL   4,989    6,204     36,140   (load ~7)

The page's time is mostly the one pass over every answer that makes the per-response table
(campaigns/survey_sql.py); on SQLite that pass alone takes ~5 s at 200 k under this load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import sqlalchemy as sa

from campaigns import rules, survey_results, survey_sql, survey_store, surveys
from campaigns import store as campaigns
from campaigns.models import SurveyAnswer, SurveyResponse
from outdial import exports, migrate, storage


def seed(engine: sa.Engine, n: int) -> int:
    spec = rules.parse_campaign(
        {"name": "bench", "caller_id": "+8610010000", "timezone": "Asia/Shanghai"}
    )
    camp, _ = campaigns.save_spec(engine, spec)
    sid = survey_store.save_survey(engine, surveys.SEED_TEMPLATE).id or 0
    now = datetime.now(UTC)
    scales = ("overall", "waiting", "skill", "solution", "attitude")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(SurveyResponse),
            [
                {"idempotency_key": f"k{i}", "survey_id": sid, "campaign_id": camp.id,
                 "channel": "ivr" if i % 3 else "agent", "phone": f"+86139{i:08d}",
                 "status": "completed" if i % 7 else "hung_up", "contact_ref": "",
                 "started_at": now - timedelta(minutes=i * 2)}
                for i in range(n)
            ],
        )  # fmt: skip
        ids = [r[0] for r in conn.execute(sa.select(SurveyResponse.id))]
        rows = []
        for k, rid in enumerate(ids):
            at = now - timedelta(minutes=k * 2)
            values: list[tuple[str, object]] = [(q, 1 + (k + j) % 5) for j, q in enumerate(scales)]
            values.append(("comment", f"意见 {k}"))
            rows += [
                {"response_id": rid, "question_id": q, "value": v, "skipped": False,
                 "answered_at": at}
                for q, v in values
            ]  # fmt: skip
        conn.execute(sa.insert(SurveyAnswer), rows)
    return sid


def rounds(n: int, work: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        work()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(ts: list[float]) -> float:
    ts = sorted(ts)
    return ts[min(len(ts) - 1, int(len(ts) * 0.95))]


def bench(engine: sa.Engine, n: int, args: argparse.Namespace) -> None:
    migrate.upgrade(engine)
    t0 = time.perf_counter()
    sid = seed(engine, n)
    print(f"seeded {n:,} responses x 6 answers in {time.perf_counter() - t0:.1f} s")
    _, survey = survey_store.get_survey(engine, sid)
    low = survey_results.Filters(scores=frozenset({1, 2}))

    def page(f: survey_results.Filters) -> None:
        where = survey_sql.scope(engine, sid)
        survey_sql.summary(engine, survey, sid, f, where, "day")

    def old_page() -> None:
        facts = survey_store.response_facts(engine, sid)
        v = survey_results.view(survey, facts, survey_results.Filters())
        survey_results.view(survey, facts, low)
        for by in ("campaign", "agent", "day"):
            survey_results.compare(survey, v.responses, by)

    def csv() -> None:
        facts = survey_store.response_facts(engine, sid)
        v = survey_results.view(survey, facts, survey_results.Filters())
        exports.to_csv(survey_results.table(survey, v))

    timings = {
        "page": rounds(args.rounds, lambda: page(survey_results.Filters())),
        "page low": rounds(args.rounds, lambda: page(low)),
    }
    if not args.no_old:
        timings["old page"] = rounds(args.old_rounds, old_page)
        timings["csv"] = rounds(args.old_rounds, csv)
    print(f"{n:,} responses, {'postgresql' if args.pg else 'sqlite'}, "
          f"load {os.getloadavg()[0]:.1f} (ms):")  # fmt: skip
    for k, ts in timings.items():
        print(
            f"  {k:9s} p50 {statistics.median(ts):8.1f}   p95 {p95(ts):8.1f}   ({len(ts)} rounds)"
        )


@contextlib.contextmanager
def database(args: argparse.Namespace, tmp: str) -> Iterator[sa.Engine]:
    if not args.pg:
        engine = storage.make_engine(f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.db")
        yield engine
        engine.dispose()
        return
    engine = storage.make_engine(args.pg_server.create_database())
    yield engine
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", type=int, nargs="+", default=[20000, 200000])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--old-rounds", type=int, default=3)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--no-old", action="store_true", help="time only the new page")
    args = ap.parse_args()
    server = None
    if args.pg:
        import pgserver

        server = args.pg_server = pgserver.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.responses:
                with database(args, tmp) as engine:
                    bench(engine, n, args)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
