"""Liveness and readiness probes."""

from __future__ import annotations

from aiohttp import web

from outdial import migrate
from outdial.errors import OutdialError
from outdial.storage import check_reachable
from web.apidoc import STR, Doc, obj
from web.keys import ENGINE
from web.middleware import run_db
from web.routing import Routes

routes = Routes()


@routes.get(
    "/healthz", public=True, doc=Doc("Liveness: the process answers", returns=obj(status=STR))
)
async def healthz(_request: web.Request) -> web.Response:
    """The process is up and its event loop answers."""
    return web.json_response({"status": "ok"})


@routes.get(
    "/readyz",
    public=True,
    doc=Doc("Readiness: the database answers and its schema is current", returns=obj(status=STR)),
)
async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers and its schema is at this code's heads."""
    engine = request.app[ENGINE]

    def probe() -> None:
        check_reachable(engine)
        migrate.require_current(engine)

    try:
        await run_db(probe)
    except OutdialError as err:
        return web.json_response({"status": "unready", **err.as_dict()}, status=503)
    return web.json_response({"status": "ready"})
