"""Errors raised by ``sip`` (see outdial/errors.py for the tree).

OutdialError
└── SipError                        every error the SIP layer raises (catch this one)
    ├── (LocalError)
    │   ├── SipConfigError          bad trunk/codec/pool settings (also a ConfigError)
    │   ├── RingTimeoutTooShort     ring timeout below 15 s (compliance rules 5, 22)
    │   ├── InvalidTarget           not an E.164 number or a SIP URI
    │   ├── UnknownCall             a command names a call this port does not hold
    │   ├── PoolExhausted           every worker is full and the pool is at its bound
    │   ├── NoAgentSlot             the customer's worker has no free agent leg
    │   ├── NoMonitorSlot           the call is monitored already, or its worker is full
    │   └── PortClosed              a command after shutdown
    └── (RemoteError)
        └── SipStackError           PJSIP refused an operation (mapped from pjsua2.Error)

Each class is also a ``LocalError`` or a ``RemoteError`` (outdial/errors.py), so the API's
error mapping is unchanged; the dialer catches ``SipError`` around every SIP command and
never a bare ``Exception``. A command that fails inside a worker, after it was accepted,
comes back as the event ``sip.events.CommandFailed`` instead (issue 11.4).
"""

from __future__ import annotations

from outdial.errors import ConfigError, LocalError, OutdialError, RemoteError

__all__ = [
    "InvalidTarget",
    "LocalError",
    "NoAgentSlot",
    "NoMonitorSlot",
    "PoolExhausted",
    "PortClosed",
    "RemoteError",
    "RingTimeoutTooShort",
    "SipConfigError",
    "SipError",
    "SipStackError",
    "UnknownCall",
]


class SipError(OutdialError):
    """Base of every error ``sip`` raises."""

    code = "sip_error"


class SipConfigError(SipError, ConfigError):
    """A SIP setting (trunk, codecs, RTP ports, pool bounds) is invalid."""

    code = "sip_config_invalid"


class RingTimeoutTooShort(SipError, LocalError):
    """An unanswered call must ring at least 15 s (compliance rules 5 and 22)."""

    code = "sip_ring_timeout_too_short"


class InvalidTarget(SipError, LocalError):
    """The call target is neither an E.164 number nor a ``sip:`` URI."""

    code = "sip_invalid_target"


class UnknownCall(SipError, LocalError):
    """A command names a call id this port does not hold (or already ended)."""

    code = "sip_unknown_call"


class PoolExhausted(SipError, LocalError):
    """No worker has a free customer line and the pool is at ``max_workers``."""

    code = "sip_pool_exhausted"


class NoAgentSlot(SipError, LocalError):
    """The worker holding the customer call has no free agent-leg slot."""

    code = "sip_no_agent_slot"


class NoMonitorSlot(SipError, LocalError):
    """The call has a supervisor already, or its worker has no free leg for one."""

    code = "sip_no_monitor_slot"


class PortClosed(SipError, LocalError):
    """The SIP port was shut down (or not started) when a command arrived."""

    code = "sip_port_closed"


class SipStackError(SipError, RemoteError):
    """PJSIP refused an operation; ``status`` carries the pj_status_t."""

    code = "sip_stack_error"
