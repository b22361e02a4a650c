"""Call-list import benchmark (issue 3): 1,000,000 rows end to end into SQLite, then PostgreSQL.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--only sqlite|postgresql]

The file: 手机号 (phone), 姓名, 地址, 订单号, 金额 (numeric); 5 % invalid numbers, 3 %
duplicates of other rows (half of them written differently), 1 % on the do-not-call
list, ~4 % fixed lines written with their area code, ~10 % mobiles written "+86 138 0013 8000".
Each import runs in a child process, so its peak memory (self + pool workers, from
getrusage) is the import's own. Goal: ≤ 20 s and ≤ 1.5 GB peak into SQLite, 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

MOBILE = [f"13{d}" for d in range(10)] + ["150", "151", "152", "155", "158", "159", "186"]
MOBILE += ["187", "188", "189", "180", "181", "176", "177", "173", "199"]
INVALID = ["12345", "无", "N/A", "1380013800", "10012345678", "138001380001234", "abc"]


def generate(path: Path, rows: int, seed: int = 7) -> list[str]:
    """Write the CSV; return the E.164 numbers to put on the do-not-call list."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    prefix = rng.choice(MOBILE, rows)
    tail = rng.integers(0, 100_000_000, rows)
    e164 = np.char.add(np.char.add("+86", prefix), np.char.zfill(tail.astype(str), 8))
    national = np.char.lstrip(e164, "+86")
    phone = national.astype(object)
    kind = rng.random(rows)
    spaced = kind < 0.10
    phone[spaced] = [f"+86 {n[:3]} {n[3:7]} {n[7:]}" for n in national[spaced]]
    fixed = (kind >= 0.10) & (kind < 0.14)
    phone[fixed] = [f"010-{n[3:]}" for n in national[fixed]]
    e164 = e164.astype(object)
    e164[fixed] = [f"+8610{n[3:]}" for n in national[fixed]]
    invalid = rng.random(rows) < 0.05
    phone[invalid] = rng.choice(INVALID, int(invalid.sum()))
    dup = (rng.random(rows) < 0.03) & ~invalid
    sources = rng.choice(np.flatnonzero(~invalid & ~dup), int(dup.sum()))
    phone[dup] = phone[sources]
    half = np.flatnonzero(dup)[::2]  # the same number written another way
    phone[half] = [
        e[3:] if not str(p).startswith("010") else p
        for e, p in zip(e164[sources[::2]], phone[half], strict=True)
    ]
    frame = pd.DataFrame(
        {
            "手机号": phone,
            "姓名": np.char.add("客户", np.arange(rows).astype(str)),
            "地址": np.char.add("北京市海淀区中关村大街", rng.integers(1, 999, rows).astype(str)),
            "订单号": np.char.zfill(np.arange(rows).astype(str), 12),
            "金额": np.round(rng.random(rows) * 1000, 2).astype(str),
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    good = np.flatnonzero(~invalid & ~dup)
    return sorted(set(e164[rng.choice(good, rows // 100, replace=False)].tolist()))


def run_import(url: str, csv_path: Path, dnc_path: Path) -> dict[str, object]:
    """In the child: migrate, load the DNC list, import, measure."""
    import sqlalchemy as sa

    from compliance.models import DncEntry
    from lists import importer
    from outdial import migrate, storage

    engine = storage.make_engine(url)
    migrate.upgrade(engine)
    numbers = json.loads(dnc_path.read_text())
    now = datetime.now(UTC)
    with engine.begin() as conn:
        rows = [{"number": n, "source": "import", "captured_at": now} for n in numbers]
        conn.execute(sa.insert(DncEntry), rows)
    started = time.monotonic()
    report = importer.import_file(
        engine, csv_path, importer.ImportOptions(campaign="bench", create_campaign=True)
    )
    wall = time.monotonic() - started
    peak_kb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM contacts")).scalar_one()
    keys = ("rows_read", "imported", "suppressed", "rejected", "duplicates")
    return {
        "backend": engine.dialect.name,
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(int(report["rows_read"]) / wall),
        "peak_memory_mb": round(peak_kb / 1024),
        "contacts_stored": stored,
        **{k: report[k] for k in keys},
        "rejected_by_reason": report["rejected_by_reason"],
        "duplicates_by_kind": report["duplicates_by_kind"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--child", nargs=3, metavar=("URL", "CSV", "DNC"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        url, csv_path, dnc_path = args.child
        print(json.dumps(run_import(url, Path(csv_path), Path(dnc_path))))
        return
    with tempfile.TemporaryDirectory(prefix="outdial-bench-") as tmp:
        root = Path(tmp)
        csv_path, dnc_path = root / "list.csv", root / "dnc.json"
        t = time.monotonic()
        dnc_path.write_text(json.dumps(generate(csv_path, args.rows)))
        size = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows} rows ({size:.0f} MB) in {time.monotonic() - t:.1f} s")
        if args.only in (None, "sqlite"):
            _child(f"sqlite:///{root / 'bench.db'}", csv_path, dnc_path)
        if args.only in (None, "postgresql"):
            from support import pgserver

            server = pgserver.start()
            try:
                _child(server.create_database(), csv_path, dnc_path)
            finally:
                server.stop()


_HEADLINE = ("backend", "wall_seconds", "rows_per_second", "peak_memory_mb")


def _child(url: str, csv_path: Path, dnc_path: Path) -> None:
    cmd = [sys.executable, __file__, "--child", url, str(csv_path), str(dnc_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(out.stderr[-3000:])
        raise SystemExit(out.returncode)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{figures['backend']:<10} {figures['rows_read']} rows in {figures['wall_seconds']} s "
        f"= {figures['rows_per_second']} rows/s, peak {figures['peak_memory_mb']} MB"
    )
    counts = {k: v for k, v in figures.items() if k not in _HEADLINE}
    print("           " + json.dumps(counts, ensure_ascii=False))


if __name__ == "__main__":
    main()
