"""Errors raised by ``dialer`` (see outdial/errors.py for the tree).

OutdialError
├── LocalError
│   ├── IllegalTransition      a state machine was asked for a move its table forbids
│   │   └── DispositionOwed    an agent in wrap-up tried to pause or log out first (409)
│   ├── SimulationError        a scenario file or simulator argument is invalid
│   ├── UnknownAgent           an agent request names an agent not logged in (409)
│   ├── UnknownCall            a request names a call the engine does not track
│   ├── NotRunning             the request needs a running campaign engine (409)
│   ├── CampaignNotReady       a campaign cannot start as configured (409)
│   ├── GateUnavailable        no compliance gate can be built: never dial without one (503)
│   ├── NotYourCall            (also outdial Forbidden) an agent named another agent's call
│   └── IvrPromptFailed        an IVR prompt cannot be found or made (espeak-ng, sox)
└── RemoteError
"""

from __future__ import annotations

from outdial.errors import Forbidden, LocalError, RemoteError

__all__ = [
    "CampaignNotReady",
    "DispositionOwed",
    "GateUnavailable",
    "IllegalTransition",
    "IvrPromptFailed",
    "LocalError",
    "NotRunning",
    "NotYourCall",
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
    http_status = 409


class DispositionOwed(IllegalTransition):
    """An agent in wrap-up asked to pause or log out before setting the disposition of their
    last call (field ``call_id``): after-call work is finished first, as Genesys and Amazon
    Connect require."""

    code = "disposition_owed"
    http_status = 409


class SimulationError(LocalError):
    """A scenario for ``outdial simulate`` is malformed (field ``scenario``, ``reason``)."""

    code = "simulation_invalid"


class UnknownAgent(LocalError):
    """An agent request names an agent not logged in to the campaign (field ``agent``)."""

    code = "unknown_agent"
    http_status = 409


class UnknownCall(LocalError):
    """An event or request names a call the engine is not tracking (field ``call_id``)."""

    code = "unknown_call"


class NotRunning(LocalError):
    """A request needs a running campaign engine (field ``campaign``)."""

    code = "campaign_not_running"
    http_status = 409


class CampaignNotReady(LocalError):
    """A campaign cannot start as configured (fields ``campaign``, ``field``, ``rules``)."""

    code = "campaign_not_ready"
    http_status = 409


class GateUnavailable(LocalError):
    """No compliance gate could be built for a campaign (field ``campaign``).

    The runtime never falls back to allowing every dial: without a gate it refuses to start.
    """

    code = "compliance_gate_unavailable"
    http_status = 503


class NotYourCall(Forbidden):
    """An agent named a call that is not theirs (field ``call_id``)."""

    code = "not_your_call"


class IvrPromptFailed(LocalError):
    """An IVR prompt has no text in the survey or its WAV cannot be made (field ``path``)."""

    code = "ivr_prompt_failed"
