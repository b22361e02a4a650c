"""The calls behind a report figure (reports/drill.py) over 1 M attempts: the first page,
the page after 5 000 calls (keyset: ``before`` = the last call of the page before, no OFFSET)
and the count, for the dials and the abandon-rate figures of a month and of a day.

    .venv/bin/python bench/drill_bench.py [--db /tmp/outdial-rbench/bench-1000000-5000000.db]

It reads the SQLite file bench/report_bench.py loads (1 M attempts over November 2026), opened
read-only. Figures: wall seconds (best of 3) of each listing, with the rows counted.

2026-12-07 16:15 UTC, load 9.9 (shared 2-core machine), SQLite: a month's dials (1 000 000
calls) first page 0.91 s, the page after 5 000 calls 0.83 s; a month's abandon rate (5 018
abandoned of 250 042 answered) 1.00 s / 2.44 s (the abandoned calls are sparse: the walk
back through the dial-time index reads the month to find the last 18); a day's dials (33 229)
0.061 s / 0.133 s; a day's abandon rate (187 of 8 260) 0.218 s. Most of a month's first
page is the two COUNTs over the month's rows, paid on every page.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DEFAULT_DB = Path("/tmp/outdial-rbench/bench-1000000-5000000.db")


def _best(engine: Any, *args: Any) -> tuple[float, Any]:
    from reports import service

    best, out = 1e9, None
    for _ in range(3):
        t = time.monotonic()
        out = service.drill_calls(engine, *args)
        best = min(best, time.monotonic() - t)
    return round(best, 3), out


def main() -> None:
    from reports import service

    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    args = ap.parse_args()
    engine = sa.create_engine(f"sqlite:///file:{args.db}?mode=ro&uri=true")
    out: dict[str, Any] = {}
    for name, params, at in (
        ("month", {"from": "2026-11-01", "to": "2026-11-30", "interval": "month"}, "2026-11"),
        ("day", {"from": "2026-11-15", "to": "2026-11-15", "interval": "day"}, "2026-11-15"),
    ):
        for kpi in ("dials", "abandon_rate"):
            secs, first = _best(engine, params, at, {}, kpi)
            before, pages = first.older, 1
            while before is not None and pages < 25:  # walk to the calls after 5 000
                before = service.drill_calls(engine, params, at, {}, kpi, before).older
                pages += 1
            later, page = _best(engine, params, at, {}, kpi, before)
            out[f"{name}_{kpi}"] = {
                "calls": first.total,
                "of": first.of,
                "first_page_seconds": secs,
                "page_after_5000_seconds": later if before is not None else None,
                "rows": len(page.rows),
            }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
