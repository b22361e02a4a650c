"""The root of outdial's error tree.

Every package has its own ``errors.py`` whose classes derive from these:

    OutdialError
    ├── LocalError      our side is wrong: a bug, a bad configuration, a refused role
    │   └── ConfigError
    └── RemoteError     the outside world is wrong: a carrier, a SIP peer, an upload,
                        a database that cannot be reached

Errors carry fields, not only strings; ``str(err)`` is a one-line message fit
to show a user. No bare ``ValueError`` crosses a package boundary.
"""

from __future__ import annotations


class OutdialError(Exception):
    """Base of every error outdial raises on purpose."""

    #: short machine-readable code, e.g. ``"config_invalid"``; shown in JSON errors
    code: str = "error"

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form: ``{"error": code, "message": ..., **fields}``."""
        out: dict[str, object] = {"error": self.code, "message": self.message}
        out.update({k: v for k, v in self.fields.items() if _jsonable(v)})
        return out


def _jsonable(value: object) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))


class LocalError(OutdialError):
    """Our side is wrong: a bug, bad configuration, a forbidden request."""

    code = "local_error"


class RemoteError(OutdialError):
    """The outside world is wrong: a peer, a carrier, an upload, a database."""

    code = "remote_error"


class ConfigError(LocalError):
    """The configuration (environment, TOML file, flags) is invalid."""

    code = "config_invalid"


class DatabaseUrlInvalid(ConfigError):
    """The database URL cannot be understood."""

    code = "database_url_invalid"


class DatabaseUnreachable(RemoteError):
    """The database server does not answer or refuses us."""

    code = "database_unreachable"


class DatabaseNotMigrated(LocalError):
    """The database schema is behind (or ahead of) this version of outdial."""

    code = "database_not_migrated"


class DataDirMissing(ConfigError):
    """The data directory does not exist."""

    code = "data_dir_missing"


class AuthError(LocalError):
    """Authentication failed: unknown user, wrong password, disabled account, bad token."""

    code = "unauthenticated"


class Forbidden(LocalError):
    """The caller is known but its role may not do this."""

    code = "forbidden"


class NotFound(LocalError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(LocalError):
    """The request clashes with what is stored (a duplicate name, say)."""

    code = "conflict"


class InvalidInput(RemoteError):
    """A request or file from outside is malformed."""

    code = "invalid_input"


class LoginThrottled(AuthError):
    """Too many failed logins for this account or from this address: wait and retry."""

    code = "login_throttled"
    http_status = 429
