"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.engine import Engine

from outdial.config import Config
from outdial.memo import Memo

if TYPE_CHECKING:
    from outdial.auth import Identity

ENGINE = web.AppKey("engine", Engine)
CONFIG = web.AppKey("config", Config)
IDENTITY = web.RequestKey("identity", object)  # holds Identity | None
#: counts the floor board and the live view show that read every contact or call of a day:
#: at most 2 * FIGURES_TTL seconds old, FIGURES_TTL when watched (outdial/memo.py)
FIGURES = web.AppKey("figures", Memo)
FIGURES_TTL = 1.0
__all__ = ["CONFIG", "ENGINE", "FIGURES", "FIGURES_TTL", "IDENTITY", "Identity"]
