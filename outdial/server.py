"""Run the aiohttp application until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import sys

import structlog
from aiohttp import web
from sqlalchemy.engine import Engine

from outdial import memory
from outdial.config import Config
from outdial.errors import ConfigError
from web.app import create_app

log = structlog.get_logger(__name__)


class PortUnavailable(ConfigError):
    """The listen address or port cannot be bound."""

    code = "port_unavailable"


async def serve(cfg: Config, engine: Engine, stop: asyncio.Event | None = None) -> None:
    # issue 18: the event loop shares the GIL with the storage threads; a 1 ms switch
    # interval (default 5 ms) hands it back to the loop sooner, keeping /healthz responsive
    sys.setswitchinterval(0.001)
    memory.configure_malloc()  # issue 18: big buffers go back to the system after a burst
    app = create_app(cfg, engine)
    # issue 18: an idle keep-alive connection is closed after 15 s; a body a handler refused
    # unread (a 413 before reading) closes its connection instead of being drained
    runner = web.AppRunner(app, access_log=log_access(), keepalive_timeout=15.0, lingering_time=0.0)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        why = (
            "is already in use"
            if exc.errno == errno.EADDRINUSE
            else f"cannot be used ({exc.strerror})"
        )
        raise PortUnavailable(f"{cfg.host}:{cfg.port} {why}", host=cfg.host, port=cfg.port) from exc
    log.info("outdial listening", url=f"http://{cfg.host}:{cfg.port}")
    print(f"outdial: listening on http://{cfg.host}:{cfg.port}", flush=True)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("outdial stopping")
        await runner.cleanup()
        engine.dispose()


def log_access() -> object:
    import logging

    return logging.getLogger("aiohttp.access")


def run(cfg: Config, engine: Engine) -> None:
    asyncio.run(serve(cfg, engine))
