"""Route declarations: every handler names the roles it admits; the default is deny.

    routes = Routes()

    @routes.get("/api/users", roles={Role.ADMIN})
    async def list_users(request): ...

    @routes.post("/api/login", public=True)
    async def login(request): ...

The auth middleware (web/middleware.py) refuses a request whose handler has
no declaration at all, so forgetting to declare is a 403, never an open door.
``doc=Doc(...)`` (web/apidoc.py) describes the route for ``/api/openapi.json``; a test
fails when a route has none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from outdial.roles import ALL_ROLES, Role
from web.apidoc import DOC_ATTR, Doc

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCESS_ATTR = "__outdial_access__"


@dataclass(frozen=True)
class Access:
    """Who may call a handler."""

    roles: frozenset[Role]
    public: bool = False
    #: what the body may be (web/inputs.py): "json" (max_json_kb), "small" (16 KB, e.g. the
    #: unauthenticated login) or "upload" (max_upload_mb, multipart only)
    body: str = "json"

    def admits(self, role: Role | None) -> bool:
        return self.public or (role is not None and role in self.roles)


ANY_USER = ALL_ROLES
BODY_KINDS = ("json", "small", "upload")


def access_of(handler: object) -> Access | None:
    return getattr(handler, ACCESS_ATTR, None)


class Routes(web.RouteTableDef):
    """aiohttp's RouteTableDef whose verbs require ``roles=`` or ``public=True``."""

    def _declare(
        self,
        method: str,
        path: str,
        roles: Iterable[Role] | None,
        public: bool,
        doc: Doc | None = None,
        body: str = "json",
    ) -> Callable[[Handler], Handler]:
        if not public and not roles:
            raise ValueError(f"{method} {path}: declare roles=... or public=True")
        if body not in BODY_KINDS:
            raise ValueError(f"{method} {path}: body must be one of {', '.join(BODY_KINDS)}")
        access = Access(frozenset(roles or ()), public, body)

        def wrap(handler: Handler) -> Handler:
            setattr(handler, ACCESS_ATTR, access)
            if doc is not None:
                setattr(handler, DOC_ATTR, doc)
            return self.route(method, path)(handler)

        return wrap

    def get(  # type: ignore[override]
        self,
        path: str,
        *,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        doc: Doc | None = None,
    ) -> Callable[[Handler], Handler]:
        return self._declare("GET", path, roles, public, doc, "small")

    def post(  # type: ignore[override]
        self,
        path: str,
        *,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        doc: Doc | None = None,
        body: str = "json",
    ) -> Callable[[Handler], Handler]:
        return self._declare("POST", path, roles, public, doc, body)

    def put(  # type: ignore[override]
        self,
        path: str,
        *,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        doc: Doc | None = None,
        body: str = "json",
    ) -> Callable[[Handler], Handler]:
        return self._declare("PUT", path, roles, public, doc, body)

    def patch(  # type: ignore[override]
        self,
        path: str,
        *,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        doc: Doc | None = None,
        body: str = "json",
    ) -> Callable[[Handler], Handler]:
        return self._declare("PATCH", path, roles, public, doc, body)

    def delete(  # type: ignore[override]
        self,
        path: str,
        *,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        doc: Doc | None = None,
    ) -> Callable[[Handler], Handler]:
        return self._declare("DELETE", path, roles, public, doc, "small")
