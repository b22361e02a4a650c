"""Test helpers for the web console: an app with a fake SIP runtime, logged-in clients."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import dialdata
from sqlalchemy.engine import Engine

from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper
from dialer.runtime import DialerRuntime
from outdial import auth, config
from outdial.roles import Role
from sip.fake import FakeScript, FakeSipPort
from web.api_dialer import RUNTIME
from web.app import create_app

PASSWORD = "secret-pass-123"


class AllowAll:
    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict:
        return GateVerdict(True)

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None:
        pass

    def abandon_gauge(self, at: datetime) -> tuple[int, int] | None:
        return None  # no legal gauge: the pacer keeps its own counts

    def launch_problems(self) -> list[str]:
        return []


def app_for(
    engine: Engine, tmp_path: Path, env: dict[str, str] | None = None, **runtime: Any
) -> Any:
    """The real application; campaigns dial a fake SIP peer that answers and hangs up.

    ``env``: more settings, as environment variables (``OUTDIAL_...``)."""
    app = create_app(config.load({"OUTDIAL_DATA_DIR": str(tmp_path), **(env or {})}), engine)
    options: dict[str, Any] = {
        "sip_factory": lambda cid: FakeSipPort(lambda t: FakeScript(delay=0.2, bye_after=2.0)),
        "gate_factory": lambda db, cid: AllowAll(),
        "default_caller_id": "+8610010000",
        "default_safe_harbor": dialdata.safe_harbor(),
        "engine_options": {
            "ring_timeout": 1.0,
            "allow_short_ring_timeout_for_tests": True,
            "tick": 0.05,
            "pace_every": 0.2,
            "data_dir": str(tmp_path),
        },
        "stop_drain": 0.0,
    }
    options.update(runtime)
    app[RUNTIME] = DialerRuntime(engine, **options)
    return app


def real_sip_options(tmp_path: Path, ring_timeout: float = 15.0) -> dict[str, Any]:
    """``engine_options`` for an app whose campaigns dial a real SIP peer (SIPp): the
    1 s ring timeout of ``app_for`` suits its fake port only; a SIPp customer that rings
    1 s before answering would be cancelled on a loaded machine (session 7, sipfix)."""
    return {
        "ring_timeout": ring_timeout,
        "tick": 0.05,
        "pace_every": 0.2,
        "data_dir": str(tmp_path),
    }


def user(engine: Engine, name: str, role: Role) -> str:
    auth.create_user(engine, name, PASSWORD, role, sip_uri=f"sip:{name}@127.0.0.1")
    return name


async def login(client: Any, name: str) -> str:
    """Log in through the login page as a browser would; the session's CSRF token."""
    page = await client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', await page.text())
    assert token is not None
    resp = await client.post(
        "/login",
        data={"login_csrf": token.group(1), "username": name, "password": PASSWORD, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    home = await client.get("/")
    csrf = re.search(r'name="csrf-token" content="([^"]*)"', await home.text())
    assert csrf is not None
    return csrf.group(1)
