"""Abuse benchmark (issue 18): /healthz latency and server memory while clients misbehave.

    .venv/bin/python bench/abuse_bench.py [--seconds 60] [--clients 10]

Starts ``outdial serve`` on 127.0.0.1 (a free port, a temporary data directory: loopback
only, nothing else is ever targeted), then for ``--seconds`` runs ``--clients`` clients that
send, in turn: a 150 MB body to the unauthenticated login, JSON nested 50,000 deep (to the
login and to a manager's route), an XLSX decompression bomb (330 KB that declares millions
of rows' worth of XML), a "WAV" whose header announces 0.5 s followed by 2 MB, and a
multipart body without a boundary. A probe calls /healthz every 50 ms throughout.

Prints /healthz p50/p99/max, the answers the abusers got, and the server's resident memory
before, at its peak, and 15 s after the abuse stops (outdial/memory.py hands freed heap
back at most every 10 s). Goals: p99 <= 100 ms; resident memory
back within 10 % of its start.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
OUTDIAL = str(ROOT / ".venv" / "bin" / "outdial")
PASSWORD = "abuse-bench-password"
KINDS = ("huge", "deep_login", "deep_api", "bomb", "wav", "noboundary")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def xlsx_bomb() -> bytes:
    """A workbook whose sheet XML is tens of MB of rows, deflated to a few hundred KB."""
    row = '<row><c t="inlineStr"><is><t>13800138000</t></is></c></row>'
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>" + row * 1_000_000 + "</sheetData></worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def liar_wav() -> bytes:
    rate, frames = 8000, 4000
    head = b"RIFF" + struct.pack("<I", 36 + frames * 2) + b"WAVEfmt "
    head += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return (
        head + b"data" + struct.pack("<I", frames * 2) + b"\x01\x00" * frames + b"\x07" * (2 << 20)
    )


async def big_body(total: int) -> AsyncIterator[bytes]:
    chunk = b"a" * (1 << 20)
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


class Abuse:
    def __init__(self, base: str, token: str, kinds: tuple[str, ...] = KINDS) -> None:
        self.kinds = kinds
        self.base, self.auth = base, {"Authorization": f"Bearer {token}"}
        self.bomb, self.wav = xlsx_bomb(), liar_wav()
        deep = "[" * 50_000 + "]" * 50_000
        self.deep = ('{"username": "x", "password": ' + deep + "}").encode()
        self.answers: Counter[str] = Counter()

    async def one(self, s: aiohttp.ClientSession, n: int) -> None:
        kind = self.kinds[n % len(self.kinds)]
        try:
            if kind == "huge":
                r = await s.post(
                    f"{self.base}/api/login",
                    data=big_body(150 << 20),
                    headers={"Content-Type": "application/json", "Content-Length": str(150 << 20)},
                )
            elif kind in ("deep_login", "deep_api"):
                path = "/api/login" if kind == "deep_login" else "/api/campaigns"
                r = await s.post(
                    self.base + path,
                    data=self.deep,
                    headers={"Content-Type": "application/json", **self.auth},
                )
            elif kind in ("bomb", "wav"):
                form = aiohttp.FormData()
                if kind == "bomb":
                    form.add_field("campaign", "abuse")
                    form.add_field("file", self.bomb, filename="bomb.xlsx")
                    path = "/api/lists"
                else:
                    for k, v in (("scope", "campaign"), ("owner", "abuse"), ("name", "p")):
                        form.add_field(k, v)
                    form.add_field("file", self.wav, filename="p.wav")
                    path = "/api/prompts"
                r = await s.post(self.base + path, data=form, headers=self.auth)
            else:
                r = await s.post(
                    f"{self.base}/api/lists",
                    data=b"--x\r\n",
                    headers={"Content-Type": "multipart/form-data", **self.auth},
                )
            self.answers[f"{kind} {r.status}"] += 1
            r.release()
        except (aiohttp.ClientError, OSError):
            self.answers[f"{kind} connection closed"] += 1

    async def client(self, stop: float, offset: int) -> None:
        async with aiohttp.ClientSession() as s:
            n = offset
            while time.monotonic() < stop:
                await self.one(s, n)
                n += 1


def probe(base: str, seconds: float, pid: int, queue: Any) -> None:
    """In its own process, so the abusers' own work never delays the measurement."""

    async def go() -> tuple[list[float], list[float]]:
        out: list[float] = []
        peak: list[float] = []
        stop = time.monotonic() + seconds
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                async with s.get(f"{base}/healthz") as r:
                    await r.read()
                out.append((time.perf_counter() - t0) * 1000)
                peak.append(rss_mb(pid))
                await asyncio.sleep(0.05)
        return out, peak

    queue.put(asyncio.run(go()))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(
    base: str, token: str, pid: int, seconds: float, clients: int, kinds: tuple[str, ...]
) -> dict[str, object]:
    abuse = Abuse(base, token, kinds)
    await asyncio.sleep(1.0)
    before = rss_mb(pid)
    queue: Any = multiprocessing.Queue()
    prober = multiprocessing.Process(target=probe, args=(base, seconds, pid, queue))
    prober.start()
    stop = time.monotonic() + seconds
    await asyncio.gather(*(abuse.client(stop, i) for i in range(clients)))
    latencies, peak = queue.get()
    prober.join()
    await asyncio.sleep(15.0)  # imports finish; a rate-limited release fires within ~11 s
    after = rss_mb(pid)
    return {
        "seconds": seconds,
        "clients": clients,
        "healthz_ms": {
            "n": len(latencies),
            "p50": round(pct(latencies, 50), 1),
            "p99": round(pct(latencies, 99), 1),
            "max": round(max(latencies), 1),
        },
        "rss_mb": {
            "before": round(before, 1),
            "peak": round(max(peak), 1),
            "after": round(after, 1),
            "after_vs_before_pct": round((after - before) / before * 100, 1),
        },
        "abuse_answers": dict(sorted(abuse.answers.items())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of abuses")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="outdial-abuse-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "OUTDIAL_DATA_DIR": tmp,
            "OUTDIAL_HOST": "127.0.0.1",  # loopback only
            "OUTDIAL_PORT": str(port),
            "OUTDIAL_ADMIN_PASSWORD": PASSWORD,
            "OUTDIAL_LOG_LEVEL": "error",
            "OUTDIAL_MAX_UPLOAD_MB": "20",
        }
        subprocess.run([OUTDIAL, "db", "upgrade"], env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [OUTDIAL, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.1)
            made = subprocess.run(
                [OUTDIAL, "tokens", "create", "admin", "--json"],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            token = json.loads(made.stdout)["secret"]
            subprocess.run(
                [OUTDIAL, "campaigns", "create", "abuse", "--caller-id", "+861012345678"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            result = asyncio.run(
                run(
                    base,
                    token,
                    server.pid,
                    args.seconds,
                    args.clients,
                    tuple(args.kinds.split(",")),
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    h, m = result["healthz_ms"], result["rss_mb"]
    print(
        f"/healthz p99 {h['p99']} ms (goal <= 100); RSS {m['before']} -> peak {m['peak']} -> "  # type: ignore[index]
        f"after {m['after']} MB ({m['after_vs_before_pct']:+} %, goal within 10 %)",  # type: ignore[index]
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
