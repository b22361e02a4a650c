"""The aiohttp application: middlewares, then each package's routes."""

from __future__ import annotations

import importlib

from aiohttp import web
from sqlalchemy.engine import Engine

from outdial.config import Config
from outdial.memo import Memo
from web import api_auth, headers, health
from web.keys import CONFIG, ENGINE, FIGURES, FIGURES_TTL
from web.middleware import auth_middleware, error_middleware, limits_middleware
from web.routing import Routes
from web.shell import page_middleware

#: optional route modules added by later packages; each exposes ``routes: Routes``
ROUTE_MODULES = (
    "web.api_lists",
    "web.api_compliance",
    "web.api_campaigns",
    "web.api_dialer",
    "web.api_monitor",  # after api_dialer: its start-up makes the runtime monitoring needs
    "web.api_prompts",
    "web.api_reports",
    "web.api_amd",
    "web.openapi",
    # the web console (issue 13): its shell first, then its pages
    "web.shell",
    "web.pages_board",
    "web.pages_live",
    "web.pages_lists",
    "web.pages_campaigns",
    "web.pages_compliance",
    "web.pages_compliance_admin",
    "web.pages_people",
    "web.pages_prompts",
    "web.pages_surveys",
    "web.pages_desk",  # the agent's desk (issue 14)
    "web.pages_quality",  # quality control (issue 19)
    "web.pages_quality_alerts",
    "web.pages_my_quality",
    "web.pages_reports",
)


def create_app(config: Config, engine: Engine) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, page_middleware, limits_middleware, auth_middleware],
        client_max_size=config.max_upload_bytes,
    )
    app[CONFIG] = config
    app[ENGINE] = engine
    app[FIGURES] = Memo(ttl=FIGURES_TTL)

    async def close_figures(app: web.Application) -> None:
        app[FIGURES].close()

    app.on_cleanup.append(close_figures)
    headers.setup(app)
    app.add_routes(health.routes)
    app.add_routes(api_auth.routes)
    api_auth.setup(app)
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        routes: Routes = module.routes
        app.add_routes(routes)
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    return app
