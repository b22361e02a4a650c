"""Run the aiohttp application until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import sys
from dataclasses import replace
from typing import Any

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
    sim, cfg = await start_simulated_carrier(cfg)
    try:
        await _serve(cfg, engine, stop, sim)
    finally:
        if sim is not None:
            await asyncio.to_thread(sim.stop)


async def start_simulated_carrier(cfg: Config) -> tuple[Any, Config]:
    """With no ``OUTDIAL_SIP_TRUNK`` (and ``OUTDIAL_SIM_CARRIER`` not ``off``), start the
    simulated carrier (sip/simcarrier.py) and dial it as the trunk; say so loudly."""
    if cfg.sip_trunk or cfg.sim_carrier == "off":
        return None, replace(cfg, sim_carrier="off" if cfg.sim_carrier == "on" else cfg.sim_carrier)
    from sip.simcarrier import SimCarrier, SimCarrierConfig

    sim = SimCarrier(SimCarrierConfig(bind_host=cfg.sip_bind_host, scenario=cfg.sim_scenario))
    await asyncio.to_thread(sim.start)
    words = (
        f"SIMULATED CARRIER on {sim.trunk} — no real calls (模拟运营商——不会拨打真实电话); "
        "set OUTDIAL_SIP_TRUNK to dial a real carrier"
    )
    log.warning("simulated carrier", trunk=sim.trunk, scenario=cfg.sim_scenario or "default")
    print(f"outdial: {words}", flush=True)
    # the sample campaigns' caller ID (outdial demo) is ours while no real call is made
    from outdial.demo import CALLER_ID

    owned = cfg.owned_numbers if CALLER_ID in cfg.owned_numbers else (*cfg.owned_numbers, CALLER_ID)
    return sim, replace(cfg, sip_trunk=sim.trunk, sim_carrier="on", owned_numbers=owned)


async def _serve(cfg: Config, engine: Engine, stop: asyncio.Event | None, sim: Any) -> None:
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
    agents = _simulated_agents(app, engine, sim, stop := stop or asyncio.Event())
    log.info("outdial listening", url=f"http://{cfg.host}:{cfg.port}")
    print(f"outdial: listening on http://{cfg.host}:{cfg.port}", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("outdial stopping")
        if agents is not None:
            agents.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await agents
        await runner.cleanup()
        engine.dispose()


def _simulated_agents(
    app: web.Application, engine: Engine, sim: Any, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """With the simulated carrier, the users ``outdial demo`` made (sim01..sim10) work the
    running campaigns through the agent runtime (dialer/simagents.py)."""
    if sim is None:
        return None
    from dialer.simagents import SimulatedAgents
    from web.api_dialer import RUNTIME

    driver = SimulatedAgents(app[RUNTIME], engine, sim.agent_uri)
    return asyncio.create_task(driver.run(stop), name="simulated-agents")


def log_access() -> object:
    import logging

    return logging.getLogger("aiohttp.access")


def run(cfg: Config, engine: Engine) -> None:
    asyncio.run(serve(cfg, engine))
