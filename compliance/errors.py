"""Errors raised by ``compliance`` (see outdial/errors.py for the tree).

LocalError
├── ProfileError          a jurisdiction profile file is malformed; ``field`` names the culprit
├── PolicyLooserError     a campaign policy tries to loosen a profile (``field``, ``profile``)
├── NumberFormatError     a phone number is not E.164
└── ChainError            an audit row cannot be canonicalised (non-JSON value)
"""

from __future__ import annotations

from outdial.errors import LocalError, RemoteError

__all__ = [
    "ChainError",
    "LocalError",
    "NaiveTimeError",
    "NumberFormatError",
    "PolicyLooserError",
    "ProfileError",
    "RemoteError",
]


class ProfileError(LocalError):
    """A profile data file (or dict) is invalid. ``fields['field']`` is a dotted path."""

    code = "profile_invalid"

    def __init__(self, message: str, *, field: str, profile: str = "?") -> None:
        super().__init__(f"{profile}: {field}: {message}", field=field, profile=profile)
        self.field = field


class PolicyLooserError(LocalError):
    """A campaign setting is looser than one of its profiles (profiles are a floor)."""

    code = "policy_looser_than_profile"

    def __init__(self, message: str, *, field: str, profile: str) -> None:
        super().__init__(message, field=field, profile=profile)
        self.field = field


class NumberFormatError(LocalError):
    """A number handed to the core is not in E.164 form."""

    code = "number_not_e164"


class NaiveTimeError(LocalError):
    """Instants must be aware datetimes: a naive one would be read in the host's zone."""

    code = "naive_datetime"


class ChainError(LocalError):
    """An audit row holds a value canonical JSON cannot represent."""

    code = "audit_row_invalid"


class InvalidNumberInput(RemoteError):
    """A phone number given by a user or a file cannot be read as a number."""

    code = "invalid_number"
