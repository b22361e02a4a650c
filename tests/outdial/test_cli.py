"""The `outdial` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

OUTDIAL = [sys.executable, "-m", "outdial"]


def run(
    args: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        OUTDIAL + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"OUTDIAL_DATABASE_URL": db_url, "OUTDIAL_DATA_DIR": str(tmp_path)}


def test_upgrade_users_and_tokens_with_json(env: dict[str, str]) -> None:
    assert json.loads(run(["db", "upgrade", "--json"], env).stdout)["changed"] is True
    assert json.loads(run(["db", "upgrade", "--json"], env).stdout)["changed"] is False
    assert json.loads(run(["db", "status", "--json"], env).stdout)["up_to_date"] is True
    made = json.loads(
        run(
            ["users", "add", "zhang", "--role", "agent", "--password", "password-1", "--json"], env
        ).stdout
    )
    assert made["role"] == "agent"
    listed = json.loads(run(["users", "list", "--json"], env).stdout)
    assert [u["username"] for u in listed] == ["zhang"]
    token = json.loads(run(["tokens", "create", "zhang", "--name", "crm", "--json"], env).stdout)
    assert token["secret"].startswith("od_")
    assert json.loads(run(["tokens", "list", "--json"], env).stdout)[0]["revoked"] is False
    run(["tokens", "revoke", str(token["id"]), "--json"], env)
    assert json.loads(run(["tokens", "list", "--json"], env).stdout)[0]["revoked"] is True
    disabled = json.loads(run(["users", "disable", "zhang", "--json"], env).stdout)
    assert disabled["disabled"] is True


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (["users", "list"], {"OUTDIAL_DATABASE_URL": "mysql://x@y/z"}, "unsupported database"),
        (
            ["users", "list"],
            {"OUTDIAL_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/x"},
            "cannot reach database",
        ),
        (["serve"], {"OUTDIAL_DATA_DIR": "/nonexistent/outdial"}, "data directory"),
        (["users", "list"], {"OUTDIAL_PORT": "x"}, "OUTDIAL_PORT"),
        (["users", "list"], {}, "run `outdial db upgrade`"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(
    tmp_path: Path, args: list[str], extra_env: dict[str, str], message: str
) -> None:
    env = {"OUTDIAL_DATA_DIR": str(tmp_path), **extra_env}
    proc = run(args, env, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_nothing_is_written_to_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"OUTDIAL_DATA_DIR": str(tmp_path)}
    proc = run(
        ["users", "add", "x", "--role", "agent", "--password", "password-1"], env, check=False
    )
    assert proc.returncode == 2
    db = tmp_path / "outdial.db"
    if db.exists():
        import sqlite3

        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_prints_first_admin_once_and_refuses_a_busy_port(tmp_path: Path) -> None:
    env = {"OUTDIAL_DATA_DIR": str(tmp_path / "var"), "OUTDIAL_LOG_FORMAT": "json"}
    run(["db", "upgrade"], env)
    port = free_port()
    proc = subprocess.Popen(
        [*OUTDIAL, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        password = ""
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "password:" in line:
                password = line.split("password:")[1].split()[0]
            if "listening on" in line:
                break
        assert password, "the first admin's password was not printed"
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/login",
            data=json.dumps({"username": "admin", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["user"]["role"] == "admin"
        busy = run(["serve", "--port", str(port)], env, check=False)
        assert busy.returncode == 2 and "already in use" in busy.stderr
        assert "password:" not in busy.stdout  # printed once only
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_admin_password_from_environment(tmp_path: Path) -> None:
    env = {"OUTDIAL_DATA_DIR": str(tmp_path), "OUTDIAL_ADMIN_PASSWORD": "from-the-env-1"}
    run(["db", "upgrade"], env)
    port = free_port()
    proc = subprocess.Popen(
        [*OUTDIAL, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "OUTDIAL_ADMIN_PASSWORD" in first and "from-the-env-1" not in first
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from outdial import auth, storage

    engine = storage.make_engine(f"sqlite:///{tmp_path / 'outdial.db'}")
    assert auth.authenticate(engine, "admin", "from-the-env-1").role == "admin"


def test_the_data_directory_is_found_from_a_subfolder(tmp_path: Path) -> None:
    """Issue 16.10: commands work below the folder holding var/ and say where they looked."""
    home = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}

    def here(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            OUTDIAL + args, env={**os.environ, **home}, cwd=cwd, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert (proc.returncode == 0) is check, proc.stderr
        return proc

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "lists" / "2026").mkdir(parents=True)
    elsewhere.mkdir()
    here(["db", "upgrade"], project)
    status = json.loads(here(["db", "status", "--json"], project / "lists" / "2026").stdout)
    assert status["up_to_date"] and status["data_dir"] == str(project / "var")
    assert status["data_dir_from"] == f"found {project / 'var' / 'outdial.db'}"
    lost = here(["surveys", "list"], elsewhere, check=False)
    assert lost.returncode == 2 and len(lost.stderr.strip().splitlines()) == 1
    assert str(elsewhere / "var" / "outdial.db") in lost.stderr
    assert "config.toml (absent)" in lost.stderr


def test_first_serve_creates_the_admin_even_after_agents_were_added(
    sqlite_engine: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16 (the first-day walk): `outdial users add li --role agent` before the first
    `outdial serve` must not leave the server without an admin (`campaign start` needs one)."""
    from outdial import auth, config
    from outdial.cli import _bootstrap_admin
    from outdial.roles import Role

    auth.create_user(sqlite_engine, "li", "password-1", Role.AGENT)
    cfg = config.load({"OUTDIAL_ADMIN_PASSWORD": "first-admin-1"})
    _bootstrap_admin(sqlite_engine, cfg)
    assert auth.authenticate(sqlite_engine, "admin", "first-admin-1").role == "admin"
    _bootstrap_admin(sqlite_engine, cfg)  # an admin exists: nothing more
    assert [u.role for u in auth.list_users(sqlite_engine)].count("admin") == 1
    assert capsys.readouterr().out.count("created user 'admin'") == 1
