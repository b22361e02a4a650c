"""What each running campaign is given by the runtime: its SIP port and its compliance gate.

A campaign's SIP port is a ``sip.pool.SipPool`` by default (:func:`sip_pool`), made when the
campaign starts; its gate is ``compliance.gate.gate_for`` (:func:`default_gate`). There is no
allow-all fallback: without a gate a campaign does not start
(:class:`dialer.errors.GateUnavailable`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.engine import Engine as DbEngine

from dialer.errors import GateUnavailable
from dialer.ports import ComplianceGate, SipPort
from sip.config import PoolConfig


class ManagedPort(SipPort, Protocol):
    """A SIP port the runtime starts and closes (``SipPool`` and ``FakeSipPort`` are)."""

    async def start(self) -> None: ...
    async def close(self, timeout: float = 10.0) -> None: ...


SipFactory = Callable[[int], ManagedPort]
GateFactory = Callable[[DbEngine, int], ComplianceGate]


def default_gate(db: DbEngine, campaign_id: int) -> ComplianceGate:
    """``compliance.gate.gate_for``; without it the campaign must not dial (typed error)."""
    try:
        module = importlib.import_module("compliance.gate")
    except ModuleNotFoundError as exc:
        if exc.name != "compliance.gate":
            raise
        raise GateUnavailable(
            "the compliance gate (compliance/gate.py) is not installed; refusing to dial",
            campaign=campaign_id,
        ) from exc
    gate_for = getattr(module, "gate_for", None)
    if gate_for is None:
        raise GateUnavailable(
            "compliance.gate has no gate_for(db, campaign_id); refusing to dial",
            campaign=campaign_id,
        )
    gate: ComplianceGate = gate_for(db, campaign_id)
    return gate


def sip_pool(config: PoolConfig | None) -> SipFactory:
    """One ``SipPool`` per running campaign, made when the campaign starts; all of them
    share the configured RTP port range, so no two workers of this process overlap."""
    from sip.rtp_ports import RtpPortRange

    pool_config = config or PoolConfig(max_workers=60)
    ports = RtpPortRange(pool_config.sip.rtp_port_start, pool_config.sip.rtp_port_end)

    def make(campaign_id: int) -> ManagedPort:
        from sip.pool import SipPool

        # K customer lines per worker, each with an agent leg reserved (sip/limits.py).
        return SipPool(pool_config, rtp_ports=ports)

    return make
