"""Errors raised by ``campaigns`` (see outdial/errors.py for the tree).

    OutdialError
    ├── LocalError
    │   └── Conflict
    │       ├── VerdictAlreadySet      an order already has a different verdict
    │       └── CallbackClosed         the callback is done or cancelled
    └── RemoteError
        └── InvalidInput
            ├── CampaignInvalid        a campaign definition breaks one or more rules
            ├── CallbackRefused        outside legal hours, in the past, or a bad zone
            ├── VerdictInvalid         a verdict is malformed (no changes, no reason, ...)
            ├── SurveyInvalid          a survey definition or an answer is malformed
            └── WebhookDeliveryError   the receiver refused or could not be reached

Pure modules (rules.py, surveys.py) raise these too: they hold only data.
"""

from __future__ import annotations

from outdial.errors import Conflict, InvalidInput, LocalError, RemoteError


class CampaignInvalid(InvalidInput):
    """A campaign definition breaks rules; ``problems`` lists every one, not only the first."""

    code = "campaign_invalid"


class CallbackRefused(InvalidInput):
    """A callback cannot be scheduled at that time; ``next_legal`` suggests one when known."""

    code = "callback_refused"


class CallbackClosed(Conflict):
    code = "callback_closed"


class VerdictInvalid(InvalidInput):
    code = "verdict_invalid"


class VerdictAlreadySet(Conflict):
    code = "verdict_already_set"


class SurveyInvalid(InvalidInput):
    code = "survey_invalid"


class WebhookDeliveryError(RemoteError):
    code = "webhook_delivery_failed"


__all__ = [
    "CallbackClosed",
    "CallbackRefused",
    "CampaignInvalid",
    "LocalError",
    "RemoteError",
    "SurveyInvalid",
    "VerdictAlreadySet",
    "VerdictInvalid",
    "WebhookDeliveryError",
]
