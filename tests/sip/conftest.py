"""Fixtures for the SIP tests: SIPp peers on free loopback ports, generated pcaps."""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sippctl import free_media_base as _free_media_base
from sippctl import free_udp_port

from sip.pcap import write_all

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    stderr: str
    errors: str


class Sipp:
    """One SIPp UAS on its own free port, bounded by ``-m`` and ``-timeout``."""

    def __init__(
        self,
        scenario: str,
        workdir: Path,
        *,
        calls: int = 1,
        timeout: int = 30,
        keys: dict[str, str] | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.port = free_udp_port()
        self.workdir = workdir
        self.name = f"{Path(scenario).stem}-{self.port}"
        self.stat = workdir / f"{self.name}.csv"
        self.errfile = workdir / f"{self.name}-errors.log"
        args = [
            SIPP,
            "-sf",
            str(SCENARIOS / scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(_free_media_base()),
            "-m",
            str(calls),
            "-timeout",
            f"{timeout}s",
            "-timeout_error",
            "-nostdin",
            "-max_recv_loops",
            "1000",
            "-trace_stat",
            "-stf",
            str(self.stat),
            "-fd",
            "1",
            "-trace_err",
            "-error_file",
            str(self.errfile),
        ]
        for k, v in (keys or {}).items():
            args += ["-key", k, v]
        args += extra or []
        self.proc = subprocess.Popen(
            args,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.15)  # let SIPp bind before anyone sends to it

    def uri(self, user: str = "svc") -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"

    def wait(self, timeout: float = 40.0) -> SippResult:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        ok, failed = self._counts()
        errors = self.errfile.read_text(errors="replace") if self.errfile.exists() else ""
        return SippResult(self.proc.returncode, ok, failed, err.decode(errors="replace"), errors)

    def _counts(self) -> tuple[int, int]:
        if not self.stat.exists():
            return -1, -1
        rows = list(csv.reader(self.stat.open(), delimiter=";"))
        if len(rows) < 2:
            return -1, -1
        head, last = rows[0], rows[-1]
        return int(last[head.index("SuccessfulCall(C)")]), int(last[head.index("FailedCall(C)")])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def sipp_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_all(tmp_path_factory.mktemp("sipp"))


@pytest.fixture
def sipp(sipp_workdir: Path):
    started: list[Sipp] = []

    def start(scenario: str, **kw: object) -> Sipp:
        peer = Sipp(scenario, sipp_workdir, **kw)  # type: ignore[arg-type]
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.kill()
