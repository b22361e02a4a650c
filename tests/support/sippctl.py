"""SIPp peers for tests outside tests/sip (the dialer's end-to-end test), and the free-port
helpers tests/sip/conftest.py shares.

This runner adds what the engine's end-to-end test needs: a graceful stop
(SIGUSR1) for peers whose call count is not known in advance, and SIPp's per-message
counters (``-trace_counts``) so a test can check which branch of a scenario each call took.
"""

from __future__ import annotations

import csv
import itertools
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
_media_ports = itertools.count(46000, 10)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_media_base() -> int:
    """An even port base with base..base+3 free (SIPp's RTP/RTCP for audio and video)."""
    for base in _media_ports:
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + 4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free media port")


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    stderr: str
    errors: str
    counts: dict[str, int] = field(default_factory=dict)  # last row of -trace_counts


class SippPeer:
    """One SIPp UAS on a free loopback port, bounded by ``-m`` and ``-timeout``.

    ``workdir`` must hold the pcaps the scenario plays (see ``sip.pcap.write_all``).
    """

    def __init__(
        self,
        scenario: Path,
        workdir: Path,
        *,
        calls: int = 1,
        timeout: int = 120,
        extra: list[str] | None = None,
    ) -> None:
        self.port = free_udp_port()
        self.workdir = workdir
        self.name = f"{scenario.stem}-{self.port}"
        self.stat = workdir / f"{self.name}.csv"
        self.errfile = workdir / f"{self.name}-errors.log"
        self.countfile = workdir / f"{self.name}-counts.csv"
        args = [
            SIPP, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(self.port),
            "-mi", "127.0.0.1", "-mp", str(free_media_base()), "-m", str(calls),
            "-timeout", f"{timeout}s", "-timeout_error", "-nostdin", "-aa",
            "-max_recv_loops", "1000", "-trace_stat", "-stf", str(self.stat), "-fd", "1",
            "-trace_counts", "-trace_err", "-error_file", str(self.errfile),
        ]  # fmt: skip
        args += extra or []
        self.proc = subprocess.Popen(
            args, cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.started = time.monotonic()

    def uri(self, user: str = "svc") -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Ask SIPp to finish the calls it has and exit (as pressing 'q' does)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)

    def wait(self, timeout: float = 30.0) -> SippResult:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        ok, failed = self._counts()
        errors = self.errfile.read_text(errors="replace") if self.errfile.exists() else ""
        return SippResult(
            self.proc.returncode, ok, failed, err.decode(errors="replace"), errors,
            self._message_counts(),
        )  # fmt: skip

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _counts(self) -> tuple[int, int]:
        rows = _rows(self.stat)
        if len(rows) < 2:
            return -1, -1
        head, last = rows[0], rows[-1]
        return int(last[head.index("SuccessfulCall(C)")]), int(last[head.index("FailedCall(C)")])

    def _message_counts(self) -> dict[str, int]:
        """SIPp names its counts file after the scenario and its pid; find and read it."""
        found = sorted(self.workdir.glob(f"*_{self.proc.pid}_counts.csv"))
        rows = _rows(found[-1]) if found else []
        if len(rows) < 2:
            return {}
        head, last = rows[0], rows[-1]
        return {k: int(v) for k, v in zip(head, last, strict=False) if k and v.isdigit()}


def _rows(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open() as f:
        return [r for r in csv.reader(f, delimiter=";") if r]
