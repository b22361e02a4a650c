"""Start a SIPp UAS on loopback and run ``outdial bench sip`` against it.

    .venv/bin/python bench/sip_bench.py --calls 200 --cps 30 --hold 15 --agent --record
        [--lines K] [--json] [--amd] [--prestart] [--warm N] [--start-method spawn]

The customer UAS answers at once and plays RTP audio (a tone pcap); with
``--agent`` every answered call is bridged to a second SIPp that auto-answers and
plays audio too. Prints outdial's figures and what SIPp saw (exit code, successful
and failed calls). SIPp's own CPU is reported apart (``other_cpu_percent``), not
counted in outdial's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sip.bench import format_summary, run_bench  # noqa: E402
from sip.pcap import tone_pcap  # noqa: E402

SCENARIO = ROOT / "tests" / "sip" / "scenarios" / "uas_bench.xml"
AGENT_SCENARIO = ROOT / "tests" / "sip" / "scenarios" / "agent_answer.xml"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sipp_counts(stat: Path) -> dict[str, int]:
    rows = list(csv.reader(stat.open(), delimiter=";")) if stat.exists() else []
    if len(rows) < 2:
        return {}
    head, last = rows[0], rows[-1]
    return {k: int(last[head.index(f"{k}(C)")]) for k in ("SuccessfulCall", "FailedCall")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--cps", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--amd", action="store_true")
    ap.add_argument("--lines", type=int, default=32, help="customer calls per worker (K)")
    ap.add_argument("--record", action="store_true", help="record every call (both ways)")
    ap.add_argument(
        "--agent",
        action="store_true",
        help="bridge every answered call to a second, auto-answering SIPp",
    )
    ap.add_argument("--start-method", default="forkserver", choices=["spawn", "forkserver"])
    ap.add_argument("--prestart", action="store_true", help="start all workers before calling")
    ap.add_argument("--warm", type=int, default=None, help="idle workers kept ready")
    ap.add_argument("--max-workers", type=int, default=300)
    ap.add_argument("--spawn-concurrency", type=int, default=4)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sip-bench-"))
    (work / "rec").mkdir()
    tone_pcap(work / "tone.pcap", seconds=args.hold + 1.0)
    port = _free_port()
    stat = work / "sipp.csv"
    sipp = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(SCENARIO),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mi",
            "127.0.0.1",
            "-mp",
            "46000",
            "-m",
            str(args.calls),
            "-timeout",
            "900s",
            "-nostdin",  # -m ends it; the pool may take a while to spawn
            "-max_socket",
            "2000",
            "-trace_stat",
            "-stf",
            str(stat),
            "-fd",
            "1",
        ],
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(work / "sipp.err").open("wb"),  # a full pipe would stall SIPp
    )
    agent_sipp, agent_uri = None, None
    if args.agent:
        agent_port = _free_port()
        agent_uri = f"sip:agent@127.0.0.1:{agent_port}"
        agent_sipp = subprocess.Popen(
            [
                "sipp",
                "-sf",
                str(AGENT_SCENARIO),
                "-i",
                "127.0.0.1",
                "-p",
                str(agent_port),
                "-mi",
                "127.0.0.1",
                "-mp",
                "47000",
                "-m",
                str(args.calls),
                "-timeout",
                "900s",
                "-nostdin",
                "-max_socket",
                "2000",
                "-trace_stat",
                "-stf",
                str(work / "agent.csv"),
                "-fd",
                "1",
            ],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    time.sleep(0.3)
    try:
        figures = asyncio.run(
            run_bench(
                f"sip:bench@127.0.0.1:{port}",
                args.calls,
                args.cps,
                args.hold,
                amd=args.amd,
                customer_lines=args.lines,
                start_method=args.start_method,
                agent=agent_uri,
                prestart=args.prestart,
                warm_workers=args.warm,
                max_workers=args.max_workers,
                spawn_concurrency=args.spawn_concurrency,
                other_pids=tuple(p.pid for p in (sipp, agent_sipp) if p is not None),
                record_dir=str(work / "rec") if args.record else None,
            )
        )
    finally:
        try:
            sipp.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sipp.kill()
            sipp.wait()
        err = (work / "sipp.err").read_bytes()
    if agent_sipp is not None:
        try:
            agent_sipp.wait(timeout=60)
        except subprocess.TimeoutExpired:
            agent_sipp.kill()
            agent_sipp.wait()
        figures["agent_sipp"] = {
            "exit_code": agent_sipp.returncode,
            **_sipp_counts(work / "agent.csv"),
        }
    figures["sipp"] = {
        "exit_code": sipp.returncode,
        **_sipp_counts(stat),
        "stderr_tail": err.decode(errors="replace")[-300:],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(format_summary(figures))
        print(f"sipp customer UAS: {figures['sipp']}")
        if "agent_sipp" in figures:
            print(f"sipp agent UAS: {figures['agent_sipp']}")


if __name__ == "__main__":
    main()
