"""A real `outdial serve` for tests that drive it from outside: its own process group (so its SIP
workers can be signalled with it), its log in a file, a free loopback port, the JSON API over
plain HTTP with an API token (tests/dialer/test_recovery_sip.py, tests/outdial/test_first_day.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: the `outdial` console script installed beside this interpreter (the CLI a user runs)
OUTDIAL = str(Path(sys.executable).with_name("outdial"))


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Any, timeout: float = 30.0) -> Any:
    """Poll ``probe()`` until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Server:
    """`outdial serve` in its own process group, its log in a file; returns once /healthz
    answers. ``command`` defaults to ``python -m outdial serve``."""

    def __init__(
        self, env: dict[str, str], log: Path, command: Sequence[str] | None = None
    ) -> None:
        self.env, self.log, self.port = env, log, int(env["OUTDIAL_PORT"])
        argv = list(command or [sys.executable, "-m", "outdial", "serve"])
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                assert self.proc.poll() is None, log.read_text()
                time.sleep(0.1)
        raise AssertionError("the server did not answer /healthz")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def group_alive(self) -> bool:
        """Is any process of the server's group (its SIP workers) still there?"""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill_group(self, sig: int) -> None:
        """Signal the server and the SIP workers it started (its own process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the group, SIGKILL if it has not exited after ``timeout`` seconds."""
        import signal

        self.kill_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group(signal.SIGKILL)
            self.proc.wait()
