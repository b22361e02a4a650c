"""The console's shell: templates, language, static assets, CSP, error pages, log in and out.

Pages are server-rendered Jinja2 (autoescape on) with htmx; no inline script anywhere, so
the Content-Security-Policy allows scripts from this origin only. Every state-changing page
request goes through the same auth middleware as the API: htmx sends the session's CSRF
token in ``X-CSRF-Token`` (web/static/console/console.js reads it from a <meta> tag).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web
from sqlmodel import Session, select

from outdial import auth
from outdial.errors import AuthError, OutdialError
from outdial.roles import Role
from web import i18n, inputs, pacer_words
from web.i18n import LANG_COOKIE, N_, Lang
from web.keys import CONFIG, ENGINE, IDENTITY
from web.middleware import SESSION_COOKIE, identify, run_db, status_for
from web.models import ConsolePref
from web.routing import ANY_USER, Routes

log = structlog.get_logger(__name__)
routes = Routes()
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "outdial_login_csrf"
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
LANG_KEY = web.RequestKey("console_lang", Lang)
#: user id -> saved locale (a cache of the console_prefs table)
PREFS: web.AppKey[dict[int, str]] = web.AppKey("console_prefs")

#: what the console's menu offers each role: (path, message id); pages check roles themselves
MENU: list[tuple[str, str, frozenset[Role]]] = [
    ("/", N_("Floor board"), MANAGERS),
    ("/lists", N_("Call lists"), MANAGERS),
    ("/lists/upload", N_("Upload a list"), MANAGERS),
    ("/campaigns/new", N_("New campaign"), MANAGERS),
    ("/dnc", N_("Do-not-call list"), MANAGERS),
    ("/reports", N_("Reports"), MANAGERS),
    ("/people", N_("People"), frozenset({Role.ADMIN})),
    ("/surveys", N_("Surveys"), frozenset({Role.SURVEYOR, Role.MANAGER, Role.ADMIN})),
    ("/audit", N_("Audit trail"), frozenset({Role.ADMIN})),
    ("/desk", N_("My desk"), frozenset({Role.AGENT})),
    # quality control (issue 19)
    ("/quality", N_("Quality review"), frozenset({Role.QA, Role.MANAGER, Role.ADMIN})),
    ("/my/quality", N_("My quality scores"), frozenset({Role.AGENT})),
]
#: words for stored codes (campaigns/rules.py, dialer/states.py, outdial/roles.py)
LABELS: dict[str, dict[str, str]] = {
    "role": {
        "admin": N_("administrator"),
        "manager": N_("campaign manager"),
        "agent": N_("agent"),
        "surveyor": N_("survey team"),
        "qa": N_("quality reviewer"),
    },
    "kind": {
        "return_visit": N_("return visit"),
        "order_verification": N_("order verification"),
        "satisfaction_survey": N_("satisfaction survey"),
        "generic": N_("general"),
    },
    "mode": {
        "predictive": N_("predictive"),
        "progressive": N_("progressive"),
        "preview": N_("preview"),
        "agentless": N_("agentless"),
    },
    "state": {
        "draft": N_("not started"),
        "running": N_("dialing"),
        "scheduled": N_("waiting for its schedule"),
        "paused": N_("paused"),
        "stopped": N_("stopped"),
        "completed": N_("completed"),
    },
    "agent": {
        "ready": N_("ready"),
        "reserved": N_("reserved"),
        "talk": N_("on call"),
        "wrap": N_("wrap-up"),
        "paused": N_("paused"),
        "logged_out": N_("signed out"),
    },
    "call": {
        "queued": N_("queued"),
        "claimed": N_("being prepared"),
        "dialing": N_("dialing"),
        "ringing": N_("ringing"),
        "early_media": N_("ringing (early media)"),
        "answered": N_("answered, checking for a machine"),
        "machine": N_("answering machine"),
        "waiting_for_agent": N_("live answer waiting for an agent"),
        "ivr": N_("in the IVR"),
        "bridging": N_("connecting to an agent"),
        "bridged": N_("talking to an agent"),
    },
    "list": {
        "importing": N_("importing"),
        "ready": N_("ready to dial"),
        "failed": N_("import failed"),
    },
    "contact": {
        "new": N_("not called yet"),
        "suppressed": N_("do not call"),
        "retry": N_("to call again"),
        "claimed": N_("being dialed"),
        "dialing": N_("being dialed"),
        "wrap": N_("in wrap-up"),
        "done": N_("finished"),
    },
    "reject": {
        "empty": N_("no number"),
        "not_a_number": N_("not a phone number"),
        "too_short": N_("too short"),
        "too_long": N_("too long"),
        "invalid_country_code": N_("unknown country code"),
        "invalid_length": N_("wrong length"),
        "invalid_for_region": N_("not a valid number in the region"),
        "bad_date": N_("unreadable date"),
    },
    "day": {
        "mon": N_("Monday"),
        "tue": N_("Tuesday"),
        "wed": N_("Wednesday"),
        "thu": N_("Thursday"),
        "fri": N_("Friday"),
        "sat": N_("Saturday"),
        "sun": N_("Sunday"),
    },
    # a call's sip_outcome or final state (dialer/hopper.py), in the desk's call history
    "outcome": {
        "no_answer": N_("not answered"),
        "busy": N_("busy (line engaged)"),
        "failed": N_("call failed"),
        "cancelled": N_("call failed"),
        "answered": N_("answered"),
        "abandoned": N_("abandoned"),
        "completed": N_("completed"),
        "machine": N_("answering machine"),
        "bad_number": N_("number not in service"),
        "dropped": N_("call dropped"),
    },
    # compliance/profiles.py LAWFUL_BASES, as the upload page offers them
    "basis": {
        "consent": N_("consent"),
        "contract": N_("contract (our customer)"),
        "request": N_("the customer's own request"),
        "legitimate_interest": N_("legitimate interest"),
        "legal_obligation": N_("legal obligation"),
    },
    "field": {
        "phone": N_("Phone number(s)"),
        "name": N_("Customer name"),
        "order_id": N_("Order number"),
        "address": N_("Address"),
        "visit_date": N_("Visit date"),
    },
    # the survey editor's answer types (web/pages_surveys.py ANSWER_TYPES)
    "answer_type": {
        "scale5": N_("score 1-5"),
        "scale10": N_("score 1-10"),
        "nps": N_("0-10, would recommend (NPS)"),
        "yes_no": N_("yes / no"),
        "open": N_("open comment"),
        "choice": N_("choice"),
    },
    # survey results over time (campaigns/survey_results.py Period)
    "grain": {"day": N_("By day"), "week": N_("By week"), "month": N_("By month")},
    # shared/compliance-rules.md: why the gate held a number back
    "rule": {
        "rule-1": N_("outside calling hours (US, rule 1)"),
        "rule-7": N_("on the national do-not-call registry (rule 7)"),
        "rule-8": N_("on the company do-not-call list (rule 8)"),
        "rule-9": N_("consent revoked or objected (rule 9)"),
        "rule-10": N_("mobile number without consent (rule 10)"),
        "rule-14": N_("outside Florida's calling hours (rule 14)"),
        "rule-17": N_("Sunday, holiday or state hours (rule 17)"),
        "rule-21": N_("abandoned in the last 72 hours (rule 21)"),
        "rule-24": N_("on the TPS register or objected (rule 24)"),
        "rule-26": N_("no consent (rule 26)"),
        "rule-28": N_("outside calling hours (China, rule 28)"),
        "rule-29": N_("daily or monthly call cap reached (rule 29)"),
        "rule-30": N_("no lawful basis recorded for the list (rule 30)"),
        "rule-31": N_("no lawful basis or objected (EU, rule 31)"),
        "rule-32": N_("time zone unknown (rule 32)"),
        "rule-33": N_("outside hours in one of its possible time zones (rule 33)"),
        "rule-34": N_("attempt cap reached (rule 34)"),
        "rule-35": N_("quiet day or holiday (rule 35)"),
    },
    # quality control (quality/sampling.py, quality/review.py, quality/alerts.py)
    "qc_reason": {
        "dispute": N_("disputed by the agent"),
        "complaint": N_("complaint"),
        "low_survey": N_("survey score 1–2"),
        "routine": N_("weekly sample"),
    },
    "qc_status": {
        "open": N_("waiting for the agent"),
        "acknowledged": N_("acknowledged"),
        "disputed": N_("disputed"),
        "upheld": N_("score kept after dispute"),
        "revised": N_("replaced by a new review"),
    },
    "qc_metric": {
        "abandon_rate": N_("abandon rate"),
        "connect_rate": N_("connect rate"),
        "connect_drop": N_("connect-rate fall (last hour)"),
        "aht": N_("average handle time"),
        "avg_wrap_time": N_("average wrap-up time"),
        "paused_seconds": N_("paused for"),
        "qa_score": N_("QA score (7 days)"),
    },
    "qc_scope": {"campaign": N_("campaign"), "agent": N_("agent")},
    "qc_by": {
        "agent": N_("Agent"),
        "team": N_("Team"),
        "campaign": N_("Campaign"),
        "week": N_("Week"),
    },
}


def label(kind: str, code: str) -> str:
    """The message id for a stored code (the code itself when it has none yet)."""
    return LABELS.get(kind, {}).get(code, code)


def is_page(request: web.Request) -> bool:
    """Console pages and their fragments; the JSON API and probes keep their JSON errors."""
    p = request.path
    return not (p.startswith("/api/") or p in ("/healthz", "/readyz"))


_hashes: dict[str, str] = {}


def static_url(path: str) -> str:
    """/static/<path>?v=<content hash>: served with a year's cache, changed when the file is."""
    digest = _hashes.get(path)
    if digest is None:
        digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
        _hashes[path] = digest
    return f"/static/{path}?v={digest}"


def lang_of(request: web.Request) -> Lang:
    """The request's language: saved choice, cookie, Accept-Language, English."""
    found = request.get(LANG_KEY)
    if isinstance(found, Lang):
        return found
    ident = request.get(IDENTITY)
    code = None
    if isinstance(ident, auth.Identity):
        code = request.app[PREFS].get(ident.user_id)
    code = code or i18n.normalise(request.cookies.get(LANG_COOKIE))
    code = code or i18n.from_accept_language(request.headers.get("Accept-Language", ""))
    found = i18n.lang(code)
    request[LANG_KEY] = found
    return found


def context_of(request: web.Request) -> dict[str, Any]:
    lang = lang_of(request)
    ident = request.get(IDENTITY)
    role = ident.role if isinstance(ident, auth.Identity) else None
    menu = [(path, label) for path, label, roles in MENU if role in roles]
    return {
        "_": lang.gettext,
        "ngettext": lang.ngettext,
        "lang": lang,
        "locales": i18n.LOCALES,
        "ident": ident if isinstance(ident, auth.Identity) else None,
        "menu": menu,
        "path": request.path,
        "static": static_url,
        "csrf": ident.csrf_token if isinstance(ident, auth.Identity) else "",
        "label": label,
        "kind_label": lambda c: label("kind", c),
        "mode_label": lambda c: label("mode", c),
        "state_label": lambda c: label("state", c),
        "role_label": lambda c: label("role", c),
        "pacer_says": lambda reason: pacer_words.say(str(reason), lang),
        # the simulated carrier answers every call (sip/simcarrier.py): said on every page
        "simulated": request.app[CONFIG].simulated,
    }


def render(
    name: str, request: web.Request, context: dict[str, Any], status: int = 200
) -> web.Response:
    ctx = {**context_of(request), **context}
    resp = aiohttp_jinja2.render_template(name, request, ctx, status=status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.trim_blocks = env.lstrip_blocks = True
    app[PREFS] = {}
    app.on_startup.append(_load_prefs)
    i18n.translations("zh_CN")  # compile the catalog now: a broken .po fails the start


async def _load_prefs(app: web.Application) -> None:
    def load() -> dict[int, str]:
        with Session(app[ENGINE]) as s:
            return {p.user_id: p.locale for p in s.exec(select(ConsolePref))}

    try:
        app[PREFS].update(await run_db(load))
    except Exception as exc:  # the database may be down at start: /readyz says so, pages wait
        log.warning("console language choices not loaded", error=str(exc))


# --- errors as pages -------------------------------------------------------------------------


Next = Callable[[web.Request], Any]


@web.middleware
async def page_middleware(request: web.Request, handler: Next) -> web.StreamResponse:
    """Errors on console paths become pages in the user's language (never a traceback);
    not logged in: the login page."""
    if not is_page(request):
        resp: web.StreamResponse = await handler(request)
        return resp
    try:
        resp = await handler(request)
        return resp
    except AuthError:
        if request.method == "GET" and not request.headers.get("HX-Request"):
            raise web.HTTPSeeOther(f"/login?next={request.path_qs}") from None
        return _error_page(request, 401)
    except OutdialError as err:
        return _error_page(request, status_for(err), err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if IDENTITY not in request:  # no route matched: say who is logged in, keep the menu
            with contextlib.suppress(OutdialError):
                request[IDENTITY] = await identify(request)
        return _error_page(request, exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("unhandled error", path=request.path, method=request.method, ref=ref)
        return _error_page(request, 500, ref=ref)


def _error_page(
    request: web.Request, status: int, err: OutdialError | None = None, ref: str = ""
) -> web.Response:
    detail = ""
    if err is not None and status in (400, 409, 413, 422):
        detail = err.message  # the package's own words: what was wrong with the input
    ctx = {"status": status, "detail": detail, "ref": ref}
    if request.headers.get("HX-Request"):
        return render("_error_fragment.html", request, ctx, status=status)
    return render("error.html", request, ctx, status=status)


# --- static assets ---------------------------------------------------------------------------


@routes.get("/static/{path:.+}", public=True)
async def static(request: web.Request) -> web.StreamResponse:
    """Vendored and console assets; versioned URLs, so a year's cache."""
    rel = request.match_info["path"]
    target = (STATIC_DIR / rel).resolve()
    if not target.is_relative_to(STATIC_DIR.resolve()) or not target.is_file():
        raise web.HTTPNotFound()
    resp = web.FileResponse(target)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp


@routes.get("/favicon.ico", public=True)
async def favicon(request: web.Request) -> web.StreamResponse:
    """The console's icon where browsers and bookmarks look for it without a <link> (no 404
    in their logs); a week's cache, as the URL carries no version."""
    resp = web.FileResponse(STATIC_DIR / "console" / "favicon.svg")
    resp.content_type = "image/svg+xml"
    resp.headers["Cache-Control"] = "public, max-age=604800"
    return resp


# --- log in, log out, language ---------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@routes.get("/login", public=True)
async def login_page(request: web.Request) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    ctx = {"next": _safe_next(request.query.get("next")), "login_csrf": token, "failed": False}
    resp = render("login.html", request, ctx)
    _set_login_cookie(request, resp, token)
    return resp


def _set_login_cookie(request: web.Request, resp: web.StreamResponse, token: str) -> None:
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.app[CONFIG].secure_cookies,
        path="/login",
    )


@routes.post("/login", public=True, body="small")
async def login_submit(request: web.Request) -> web.StreamResponse:
    """A plain form post. Login CSRF: the form's token must match a SameSite=Strict cookie
    set by this site's login page, which a cross-site form cannot carry."""
    form = await inputs.form_body(request)
    sent, kept = str(form.get("login_csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not kept or not secrets.compare_digest(sent, kept):
        raise web.HTTPForbidden()
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    nxt = _safe_next(str(form.get("next", "/")))
    try:
        user = await run_db(
            auth.authenticate, engine, str(form.get("username", "")), str(form.get("password", ""))
        )
    except AuthError:
        ctx = {"next": nxt, "login_csrf": kept, "failed": True}
        return render("login.html", request, ctx, status=401)
    secret, _csrf = await run_db(auth.create_session, engine, user, cfg.session_hours)
    resp = web.Response(status=303, headers={"Location": nxt})
    resp.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="Strict",
        secure=cfg.secure_cookies,
        max_age=int(cfg.session_hours * 3600),
        path="/",
    )
    resp.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@routes.post("/logout", roles=ANY_USER)
async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_db(auth.end_session, request.app[ENGINE], cookie)
    resp = web.Response(status=204, headers={"HX-Redirect": "/login"})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


@routes.post("/language", public=True)
async def set_language(request: web.Request) -> web.Response:
    """Switch language: a cookie for everyone, and saved for a logged-in user.
    (Public so the login page can switch too; a logged-in switch still needs the CSRF header,
    checked here because the middleware skips public routes.)"""
    form = await inputs.form_body(request)
    code = i18n.normalise(str(form.get("lang", ""))) or i18n.DEFAULT
    ident = request.get(IDENTITY)
    if isinstance(ident, auth.Identity):
        if ident.via == "session":
            sent = request.headers.get("X-CSRF-Token", "")
            if not ident.csrf_token or not secrets.compare_digest(sent, ident.csrf_token):
                raise web.HTTPForbidden()
        await run_db(_save_pref, request.app[ENGINE], ident.user_id, code)
        request.app[PREFS][ident.user_id] = code
    back = _safe_next(request.headers.get("HX-Current-URL-Path") or str(form.get("back", "/")))
    resp = web.Response(status=204, headers={"HX-Redirect": back})
    resp.set_cookie(LANG_COOKIE, code, samesite="Strict", max_age=365 * 86400, path="/")
    return resp


def _save_pref(engine: Any, user_id: int, code: str) -> None:
    with Session(engine) as s:
        row = s.get(ConsolePref, user_id) or ConsolePref(user_id=user_id)
        row.locale = code
        s.add(row)
        s.commit()
