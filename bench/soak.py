"""A compressed shift against the simulated carrier (issue 17): `outdial serve` with no trunk,
`outdial demo` with N agents and R records per campaign, the three sample campaigns started,
run for M minutes with fast callers (talk ~`--talk` s), then stopped. Prints:

* lost results — attempts left without an outcome after the stop, answered calls an agent took
  without a disposition, contacts left in the dialing state (must all be 0);
* double dials — two attempts of one record in flight at once (must be 0);
* memory (RSS) and file descriptors of the server's process group (server, SIP workers, the
  simulated carrier) after the warm-up and at the end, and their growth;
* CPU of that group, as a share of one core, and calls per minute.

    .venv/bin/python bench/soak.py --minutes 10 --agents 30 --rows 2000 [--talk 8] [--json]

Times are real: the engine paces on the wall clock, so a "compressed shift" is compressed by
short talk and wrap-up times (a 10-minute run at talk 8 s is about a 2-hour shift of 150 s
calls in number of calls per agent).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

OUTDIAL = str(Path(sys.executable).with_name("outdial"))
CAMPAIGNS = ("演示·回访", "演示·核单", "演示·满意度调查")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def sample(pgid: int) -> dict[str, float]:
    """RSS (MB), open fds and CPU seconds of every process in the group."""
    rss = fds = cpu = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _group(pgid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss += next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS"))
            fds += len(os.listdir(f"/proc/{pid}/fd"))
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(stat[11]) + int(stat[12])) / tick
        except (OSError, StopIteration):
            continue
    return {"rss_mb": rss / 1024.0, "fds": fds, "cpu_s": cpu, "processes": len(_group(pgid))}


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="outdial-soak-"))
    scenario = tmp / "scenario.json"
    phase = {
        "until": 864000,
        "agents": args.agents,
        "p_human": 0.6,
        "p_machine": 0.05,
        "p_busy": 0.1,
        "p_fail": 0.05,
        "ring_mean": 3.0,
        "talk_mean": args.talk,
        "talk_cv": 0.5,
    }
    customers = {"keys_after": 0.5, "keys_every": 1.0}
    scenario.write_text(json.dumps([{"name": "soak", "customers": customers, "phases": [phase]}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTDIAL_")}
    env |= {
        "OUTDIAL_DATA_DIR": str(tmp / "data"),
        "OUTDIAL_PORT": str(_free_port()),
        "OUTDIAL_ADMIN_PASSWORD": "soak-pass-1",
        "OUTDIAL_SIM_SCENARIO": str(scenario),
        "OUTDIAL_LOG_FORMAT": "json",
        "OUTDIAL_LOG_LEVEL": "warning",
    }

    def cli(*a: str) -> None:
        subprocess.run([OUTDIAL, *a], env=env, check=True, capture_output=True, timeout=600)

    cli("db", "upgrade")
    cli("demo", "--rows", str(args.rows), "--agents", str(args.agents))
    with (tmp / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [OUTDIAL, "serve"], env=env, stdout=log, stderr=log, start_new_session=True
        )
    url = f"http://127.0.0.1:{env['OUTDIAL_PORT']}/healthz"
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    for name in CAMPAIGNS:
        cli("campaign", "start", name)
    t0 = time.monotonic()
    time.sleep(min(60.0, args.minutes * 60 / 4))
    warm, t_warm = sample(server.pid), time.monotonic()
    db_path = tmp / "data" / "outdial.db"
    answered_warm = _answered(db_path)
    time.sleep(max(0.0, args.minutes * 60 - (t_warm - t0)))
    end, t_end = sample(server.pid), time.monotonic()
    answered_end = _answered(db_path)
    for name in CAMPAIGNS:  # end of shift: no new calls; the calls up and wrap-ups finish
        cli("campaign", "pause", name)
    _drain(tmp / "data" / "outdial.db", time.monotonic() + 120)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(120)
    return {
        **_ledger(tmp / "data" / "outdial.db", t_end - t0),
        "warm": warm,
        "end": end,
        "rss_growth_mb": round(end["rss_mb"] - warm["rss_mb"], 1),
        "fd_growth": end["fds"] - warm["fds"],
        "cpu_share_of_one_core": round((end["cpu_s"] - warm["cpu_s"]) / (t_end - t_warm), 3),
        # the carrier kept answering all along (a dead carrier only shows as failed calls)
        "answered_per_minute_after_warmup": round(
            (answered_end - answered_warm) / (t_end - t_warm) * 60, 1
        ),
        "carrier_restarts": (tmp / "serve.log")
        .read_text(errors="replace")
        .count("simulated carrier process died"),
        "load_average": os.getloadavg(),
        "data_dir": str(tmp),
    }


def _answered(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(
            db.execute("SELECT count(*) FROM attempts WHERE answered_at IS NOT NULL").fetchone()[0]
        )


def _drain(path: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        with sqlite3.connect(path) as db:
            busy = db.execute(
                "SELECT count(*) FROM attempts WHERE ended_at IS NULL "
                "OR (bridged_at IS NOT NULL AND disposition = '')"
            ).fetchone()[0]
        if not busy:
            return
        time.sleep(1.0)


def _ledger(path: Path, seconds: float) -> dict[str, Any]:
    with sqlite3.connect(path) as db:
        one = lambda q: db.execute(q).fetchone()[0]  # noqa: E731
        attempts = one("SELECT count(*) FROM attempts")
        no_result = one("SELECT count(*) FROM attempts WHERE sip_outcome = '' OR ended_at IS NULL")
        undisposed = one(
            "SELECT count(*) FROM attempts WHERE bridged_at IS NOT NULL AND disposition = ''"
        )
        dialing = one("SELECT count(*) FROM contacts WHERE status = 'dialing'")
        double = one(
            "SELECT count(*) FROM attempts a JOIN attempts b ON a.contact_id = b.contact_id "
            "AND a.id < b.id AND b.created_at < COALESCE(a.ended_at, b.created_at)"
        )
        simulated = one("SELECT count(*) FROM attempts WHERE simulated")
        bridged = one("SELECT count(*) FROM attempts WHERE bridged_at IS NOT NULL")
    return {
        "attempts": attempts,
        "simulated": simulated,
        "bridged": bridged,
        "calls_per_minute": round(attempts / seconds * 60, 1),
        "lost_results": no_result + undisposed + dialing,
        "lost_detail": {
            "no_outcome": no_result,
            "bridged_without_disposition": undisposed,
            "contacts_dialing": dialing,
        },
        "double_dials": double,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--agents", type=int, default=30)
    p.add_argument("--rows", type=int, default=2000, help="records per campaign")
    p.add_argument("--talk", type=float, default=8.0, help="mean talk seconds")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for key in (
        "attempts",
        "simulated",
        "bridged",
        "calls_per_minute",
        "lost_results",
        "double_dials",
        "rss_growth_mb",
        "fd_growth",
        "cpu_share_of_one_core",
        "answered_per_minute_after_warmup",
        "carrier_restarts",
        "load_average",
    ):
        print(f"{key:24} {out[key]}")
    print(f"{'lost (detail)':24} {out['lost_detail']}")
    print(f"{'warm-up':24} {out['warm']}")
    print(f"{'end':24} {out['end']}")
    print(f"{'data':24} {out['data_dir']}")


if __name__ == "__main__":
    main()
