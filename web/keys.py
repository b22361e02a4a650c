"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.engine import Engine

from outdial.config import Config

if TYPE_CHECKING:
    from outdial.auth import Identity

ENGINE = web.AppKey("engine", Engine)
CONFIG = web.AppKey("config", Config)
IDENTITY = web.RequestKey("identity", object)  # holds Identity | None
__all__ = ["CONFIG", "ENGINE", "IDENTITY", "Identity"]
