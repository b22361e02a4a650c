"""Errors raised by ``web`` (see outdial/errors.py for the tree)."""

from __future__ import annotations

from outdial.errors import Forbidden


class CsrfRejected(Forbidden):
    """A cookie-authenticated state-changing request came without its CSRF token."""

    code = "csrf_rejected"


class RouteWithoutRoles(Forbidden):
    """A handler was registered without declaring who may call it (default deny)."""

    code = "route_without_roles"
