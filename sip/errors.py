"""Errors raised by ``sip`` (see outdial/errors.py for the tree).

OutdialError
├── LocalError
│   ├── ConfigError
│   │   └── SipConfigError          bad trunk/codec/pool settings
│   ├── RingTimeoutTooShort         ring timeout below 15 s (compliance rules 5, 22)
│   ├── InvalidTarget               not an E.164 number or a SIP URI
│   ├── UnknownCall                 a command names a call this port does not hold
│   ├── PoolExhausted               every worker is full and the pool is at its bound
│   ├── NoAgentSlot                 the customer's worker has no free agent leg
│   └── PortClosed                  a command after shutdown
└── RemoteError
    └── SipStackError               PJSIP refused an operation (mapped from pjsua2.Error)
"""

from __future__ import annotations

from outdial.errors import ConfigError, LocalError, RemoteError

__all__ = [
    "InvalidTarget",
    "LocalError",
    "NoAgentSlot",
    "PoolExhausted",
    "PortClosed",
    "RemoteError",
    "RingTimeoutTooShort",
    "SipConfigError",
    "SipStackError",
    "UnknownCall",
]


class SipConfigError(ConfigError):
    """A SIP setting (trunk, codecs, RTP ports, pool bounds) is invalid."""

    code = "sip_config_invalid"


class RingTimeoutTooShort(LocalError):
    """An unanswered call must ring at least 15 s (compliance rules 5 and 22)."""

    code = "sip_ring_timeout_too_short"


class InvalidTarget(LocalError):
    """The call target is neither an E.164 number nor a ``sip:`` URI."""

    code = "sip_invalid_target"


class UnknownCall(LocalError):
    """A command names a call id this port does not hold (or already ended)."""

    code = "sip_unknown_call"


class PoolExhausted(LocalError):
    """No worker has a free customer line and the pool is at ``max_workers``."""

    code = "sip_pool_exhausted"


class NoAgentSlot(LocalError):
    """The worker holding the customer call has no free agent-leg slot."""

    code = "sip_no_agent_slot"


class PortClosed(LocalError):
    """The SIP port was shut down (or not started) when a command arrived."""

    code = "sip_port_closed"


class SipStackError(RemoteError):
    """PJSIP refused an operation; ``status`` carries the pj_status_t."""

    code = "sip_stack_error"
