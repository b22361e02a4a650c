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
            ├── WebhookDeliveryError   the receiver refused or could not be reached
            └── PromptInvalid          an uploaded prompt WAV is not what the IVR can play
                └── PromptTooLarge     the upload is over ``max_upload_mb`` (HTTP 413)

Pure modules (rules.py, callback_times.py, verdicts.py, surveys.py) raise these too: they
hold only data.
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


class PromptInvalid(InvalidInput):
    """An uploaded prompt is refused; ``problem`` names the check (``sample_rate``,
    ``channels``, ``length`` ...) and ``expected`` what would pass."""

    code = "prompt_invalid"


class PromptTooLarge(PromptInvalid):
    code = "upload_too_large"
    http_status = 413


__all__ = [
    "CallbackClosed",
    "CallbackRefused",
    "CampaignInvalid",
    "LocalError",
    "PromptInvalid",
    "PromptTooLarge",
    "RemoteError",
    "SurveyInvalid",
    "VerdictAlreadySet",
    "VerdictInvalid",
    "WebhookDeliveryError",
]
