"""What one worker process may hold, from the limits the pjsua2 module was compiled with.

``PJSUA_MAX_CALLS`` and the conference bridge size are read from the module
(``UaConfig().maxCalls`` and ``MediaConfig().maxMediaPorts`` default to them); the player
and recorder arrays (``PJSUA_MAX_PLAYERS`` / ``_RECORDERS``) are not visible through the
API, so outdial's build (scripts/build_pjsua2.py) stamps its config_site.h values into
the module as ``pjsua2.OUTDIAL_CONFIG_SITE``. A module without that stamp (the PyPI
``pjsua2-python`` wheel) gets pjsua.h's stock sizes for those two.

``plan_worker`` is pure: limits and the wanted calls per worker in, a ``WorkerPlan`` out.
``probe_limits`` asks a short-lived child interpreter, so the server process never loads
PJSIP (only ``sip/`` imports pjsua2; the worker processes do).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from dataclasses import dataclass

from sip.errors import SipConfigError

#: pjsua.h's defaults for the two limits a stock module does not expose.
STOCK_MAX_PLAYERS = 32
STOCK_MAX_RECORDERS = 32


@dataclass(frozen=True, slots=True)
class ModuleLimits:
    """Compile-time limits of the pjsua2 module at hand."""

    max_calls: int  # PJSUA_MAX_CALLS
    max_conf_ports: int  # PJSUA_MAX_CONF_PORTS
    max_players: int  # PJSUA_MAX_PLAYERS
    max_recorders: int  # PJSUA_MAX_RECORDERS
    built_by_outdial: bool  # stamped by scripts/build_pjsua2.py (else: a stock module)


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """How a worker's compiled capacity is split (every figure per worker process)."""

    lines: int  # K: customer calls at once
    agent_legs: int  # agent-leg slots: K reserved + extra for legs still disconnecting
    spare_slots: int  # kept free: a Call holds its slot until DISCONNECTED (issue 5)
    players: int  # prompt players at once
    recorders: int  # recorders at once (call recordings and clips)
    amd_ports: int  # AMD frame ports
    note: str = ""  # why ``lines`` is below what was asked ("" if it is not)

    @property
    def calls(self) -> int:
        """pjsua call slots the plan uses."""
        return self.lines + self.agent_legs + self.spare_slots


def _agent_legs_for(lines: int) -> int:
    # Each customer call has its agent leg reserved; the extra ones let a second agent be
    # tried while a refused leg is still disconnecting (one per 8 calls, at least one).
    return lines + max(1, lines // 8)


def _fits(limits: ModuleLimits, lines: int, agents: int | None, spare: int) -> WorkerPlan | None:
    legs = agents if agents is not None else _agent_legs_for(lines)
    calls = lines + legs + spare
    if calls > limits.max_calls or lines > limits.max_recorders:
        return None
    players = min(limits.max_players, lines + legs)
    recorders = min(limits.max_recorders, 2 * lines)  # the call's recording and one clip
    amd = lines
    # Slot 0 of the bridge is the (null) sound device.
    if 1 + lines + legs + players + recorders + amd > limits.max_conf_ports:
        return None
    return WorkerPlan(lines, legs, spare, players, recorders, amd)


def plan_worker(
    limits: ModuleLimits,
    lines: int,
    agent_legs: int | None = None,
    spare_slots: int = 1,
) -> WorkerPlan:
    """The largest plan with at most ``lines`` customer calls that the module can hold.

    ``agent_legs``: None derives them from the lines (each call's leg reserved, plus
    extras); 0 is an agentless pool; a number asks for exactly that many, and a module
    too small for it is a configuration error rather than a silent change.
    """
    if lines < 1 or spare_slots < 0 or (agent_legs is not None and agent_legs < 0):
        raise SipConfigError("customer_lines must be >= 1, agent_legs and spare_slots >= 0")
    if agent_legs is not None and 0 < agent_legs < lines:
        raise SipConfigError(
            f"{lines} customer lines but {agent_legs} agent leg(s) per worker: two answers on "
            "one worker could not both reach an agent; use agent_legs >= customer_lines, or "
            "agent_legs=0 for agentless campaigns"
        )
    if agent_legs:
        plan = _fits(limits, lines, agent_legs, spare_slots)
        if plan is None:
            raise SipConfigError(
                f"customer_lines + agent_legs + spare_slots = {lines + agent_legs + spare_slots}"
                f" exceeds the {limits.max_calls} calls this pjsua2 module holds per process"
            )
        return plan
    for k in range(lines, 0, -1):
        plan = _fits(limits, k, agent_legs, spare_slots)
        if plan is None:
            continue
        if k == lines:
            return plan
        note = (
            f"this pjsua2 module holds {limits.max_calls} calls per process "
            f"(PJSUA_MAX_CALLS{'' if limits.built_by_outdial else ', a stock build'}): "
            f"{k} customer call(s) per worker instead of {lines}"
        )
        return WorkerPlan(
            plan.lines,
            plan.agent_legs,
            plan.spare_slots,
            plan.players,
            plan.recorders,
            plan.amd_ports,
            note,
        )
    raise SipConfigError(
        f"this pjsua2 module holds {limits.max_calls} calls per process: not even one "
        f"customer call with {spare_slots} spare slot(s) fits"
    )


def limits_from_module(pj: object) -> ModuleLimits:
    """Read the limits from an imported pjsua2 module (in a worker or the probe)."""
    stamp = getattr(pj, "OUTDIAL_CONFIG_SITE", None)
    site = stamp if isinstance(stamp, dict) else {}
    return ModuleLimits(
        max_calls=int(pj.UaConfig().maxCalls),  # type: ignore[attr-defined]
        max_conf_ports=int(pj.MediaConfig().maxMediaPorts),  # type: ignore[attr-defined]
        max_players=int(site.get("PJSUA_MAX_PLAYERS", STOCK_MAX_PLAYERS)),
        max_recorders=int(site.get("PJSUA_MAX_RECORDERS", STOCK_MAX_RECORDERS)),
        built_by_outdial=bool(site),
    )


_PROBE = (
    "import json, pjsua2\n"
    "from sip.limits import limits_from_module\n"
    "l = limits_from_module(pjsua2)\n"
    "print(json.dumps([l.max_calls, l.max_conf_ports, l.max_players, l.max_recorders,"
    " l.built_by_outdial]))\n"
)


@functools.cache
def probe_limits() -> ModuleLimits:
    """The installed module's limits, asked once per process of a child interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SipConfigError(f"cannot load pjsua2 ({last}); `make install` builds and installs it")
    calls, ports, players, recorders, ours = json.loads(done.stdout.strip().splitlines()[-1])
    return ModuleLimits(calls, ports, players, recorders, ours)
