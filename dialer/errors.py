"""Errors raised by ``dialer`` (see outdial/errors.py for the tree).

OutdialError
├── LocalError
│   ├── IllegalTransition      a state machine was asked for a move its table forbids
│   └── SimulationError        a scenario file or simulator argument is invalid
└── RemoteError
"""

from __future__ import annotations

from outdial.errors import LocalError, RemoteError

__all__ = [
    "IllegalTransition",
    "LocalError",
    "NotRunning",
    "RemoteError",
    "SimulationError",
    "UnknownAgent",
    "UnknownCall",
]


class IllegalTransition(LocalError):
    """An agent or call state machine received an event its table has no row for.

    Fields: ``machine`` ("agent" or "call"), ``entity`` (its id), ``state`` and ``event``.
    """

    code = "illegal_transition"


class SimulationError(LocalError):
    """A scenario for ``outdial simulate`` is malformed (field ``scenario``, ``reason``)."""

    code = "simulation_invalid"


class UnknownAgent(LocalError):
    """An agent request names an agent not logged in to the campaign (field ``agent``)."""

    code = "unknown_agent"


class UnknownCall(LocalError):
    """An event or request names a call the engine is not tracking (field ``call_id``)."""

    code = "unknown_call"


class NotRunning(LocalError):
    """A request needs a running campaign engine (field ``campaign``)."""

    code = "campaign_not_running"
