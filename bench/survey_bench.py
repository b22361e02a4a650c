"""Survey results benchmark (issue 14): what the survey team's results page computes.

    .venv/bin/python bench/survey_bench.py [--responses 20000] [--rounds 5]

Seeds an SQLite database with the seeds' six-question survey and ``--responses`` responses
(agent-led and IVR, over 30 days, six answers each), then times, per round: reading every
response (campaigns/survey_store.py ``response_facts``), the filtered view
(campaigns/survey_results.py ``view``: per-question stats, drop-off, open answers), the
comparisons by campaign / agent / day, and the CSV export of the view. Prints p50 and max.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from campaigns import rules, survey_results, survey_store, surveys
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = storage.make_engine(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(engine)
        sid = seed(engine, args.responses)
        _, survey = survey_store.get_survey(engine, sid)
        timings: dict[str, list[float]] = {"read": [], "view": [], "compare": [], "csv": []}
        low = survey_results.Filters(scores=frozenset({1, 2}))
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            facts = survey_store.response_facts(engine, sid)
            t1 = time.perf_counter()
            v = survey_results.view(survey, facts, survey_results.Filters())
            survey_results.view(survey, facts, low)
            t2 = time.perf_counter()
            for by in ("campaign", "agent", "day"):
                survey_results.compare(survey, v.responses, by)
            t3 = time.perf_counter()
            exports.to_csv(survey_results.table(survey, v))
            t4 = time.perf_counter()
            for k, a, b in (("read", t0, t1), ("view", t1, t2), ("compare", t2, t3),
                            ("csv", t3, t4)):  # fmt: skip
                timings[k].append((b - a) * 1000)
        print(f"{args.responses} responses x 6 answers, {args.rounds} rounds (ms):")
        for k, ts in timings.items():
            print(f"  {k:8s} p50 {statistics.median(ts):8.1f}   max {max(ts):8.1f}")


if __name__ == "__main__":
    main()
