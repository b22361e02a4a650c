"""Errors raised by ``campaigns`` (see outdial/errors.py for the tree)."""

from __future__ import annotations

from outdial.errors import LocalError, RemoteError

__all__ = ["LocalError", "RemoteError"]
