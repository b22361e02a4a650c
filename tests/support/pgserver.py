"""A real PostgreSQL server for the test run: initdb into a temporary directory,
listen on a free loopback port, stop at the end. Never skipped: if it cannot
start, the run fails and says why (issue 2)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise PostgresUnavailable(
        f"PostgreSQL's {name} not found: install Debian's `postgresql` (make test does this)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    port: int
    user: str = "postgres"
    _run_as: list[str] = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, keep: bool = False) -> None:
        """Stop the server; its directory is removed unless ``keep`` (a cached bench database)."""
        subprocess.run(
            [
                *self._run_as,
                _bin("pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path | None = None) -> PgServer:
    """Start a throw-away server. As root, it runs as the `postgres` system user. With
    ``root`` (bench/console_bench.py's cache), a data directory already there is reused."""
    reuse = root is not None and (root / "data" / "PG_VERSION").exists()
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="outdial-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root and there is no `postgres` user") from exc
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, sock = root / "data", root / "sock"
    port = free_port()
    steps = [
        [
            *run_as,
            _bin("initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "-N",
        ],
        [*run_as, "mkdir", "-p", str(sock)],
        [
            *run_as,
            _bin("pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(root / "log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        ],
    ]
    for cmd in steps[1:] if reuse else steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            if not reuse:
                shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                f"{' '.join(cmd[len(run_as) :][:2])} failed ({proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-800:]} {log[-800:]}"
            )
    server = PgServer(root=root, port=port, _run_as=run_as)
    _wait_ready(server)
    return server


def _wait_ready(server: PgServer, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(
                f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres",
                connect_timeout=2,
            ):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                server.stop()
                raise PostgresUnavailable(f"PostgreSQL did not accept connections: {exc}") from exc
            time.sleep(0.2)
