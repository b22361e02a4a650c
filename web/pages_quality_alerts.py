"""KPI alerts (预警) and QA reports (issue 19 parts 5 and 6).

Thresholds are kept on /quality/alerts; a background check (every ``CHECK_EVERY`` seconds,
and on demand from the page) evaluates them with quality/alerts.py over the reports
engine's KPIs and logs what fires. The floor board shows the active alerts through a small
include (``/quality/alerts/strip``). QA reports: /quality/reports and its CSV export.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from campaigns.webhook_targets import TargetPolicy
from outdial.errors import OutdialError
from quality import alert_store, alert_webhook, qa_report
from quality.alerts import SCOPES, Metric
from quality.errors import ThresholdInvalid
from quality.models import QcAlert
from web import inputs
from web.keys import CONFIG, ENGINE
from web.middleware import run_db
from web.pages_quality import REVIEWERS
from web.routing import Routes
from web.shell import MANAGERS, render

log = structlog.get_logger(__name__)
routes = Routes()
WATCHERS = frozenset({*REVIEWERS})
CHECK_EVERY = 15.0  # seconds; the board asks for the strip every 5 s
CHECKER: web.AppKey[asyncio.Task[None]] = web.AppKey("qc_alert_checker", asyncio.Task)
WEBHOOK = web.AppKey("qc_alert_webhook", alert_webhook.AlertWebhook)
#: the unit a metric's limit is typed in, for the form and the tables
UNITS = {
    Metric.ABANDON_RATE: "ratio",
    Metric.CONNECT_RATE: "ratio",
    Metric.CONNECT_DROP: "ratio",
    Metric.AHT: "seconds",
    Metric.AVG_WRAP_TIME: "seconds",
    Metric.PAUSED_SECONDS: "seconds",
    Metric.QA_SCORE: "score",
}


# --- alerts -----------------------------------------------------------------------------


async def _alerts_page(request: web.Request, **extra: Any) -> web.Response:
    engine = request.app[ENGINE]
    ctx = {
        "thresholds": await run_db(alert_store.thresholds, engine),
        "active": await run_db(alert_store.active, engine),
        "log": await run_db(alert_store.log, engine),
        "metrics": [(m.value, sorted(s.value for s in SCOPES[m])) for m in Metric],
        "units": {m.value: u for m, u in UNITS.items()},
        "error": "",
        "checked": None,
        # the host only: the page never shows the path, a token in it, or the secret
        "webhook_host": urlsplit(request.app[CONFIG].alert_webhook_url).hostname or "",
        **extra,
    }
    name = "_quality_alerts.html" if request.headers.get("HX-Request") else "quality_alerts.html"
    return render(name, request, ctx)


@routes.get("/quality/alerts", roles=WATCHERS)
async def alerts_page(request: web.Request) -> web.Response:
    return await _alerts_page(request)


def _limit(text: str, unit: str) -> float:
    """A limit as typed: percentages for rates (2.5 means 2.5 %), seconds, or a score."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise ThresholdInvalid(f"the limit {text!r} is not a number", field="limit") from None
    return value / 100 if unit == "ratio" else value


@routes.post("/quality/thresholds", roles=WATCHERS)
async def add_threshold(request: web.Request) -> web.Response:
    form = await inputs.form_body(request)
    metric = str(form.get("metric", ""))
    try:
        unit = UNITS.get(Metric(metric), "") if metric in set(Metric) else ""
        vol = str(form.get("min_volume", "0")).strip() or "0"
        if not vol.isdigit():
            raise ThresholdInvalid("the minimum volume is a whole number", field="min_volume")
        await run_db(
            alert_store.add_threshold,
            request.app[ENGINE],
            metric,
            str(form.get("scope", "")),
            inputs.check_text(str(form.get("subject", ""))[:128], "subject"),
            _limit(str(form.get("limit", "")), unit),
            int(vol[:9]),
        )
    except OutdialError as err:
        return await _alerts_page(request, error=err.message)
    return await _alerts_page(request)


@routes.post("/quality/thresholds/{threshold_id}/delete", roles=WATCHERS)
async def delete_threshold(request: web.Request) -> web.Response:
    try:
        tid = int(request.match_info["threshold_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    await run_db(alert_store.delete_threshold, request.app[ENGINE], tid)
    return await _alerts_page(request)


@routes.post("/quality/alerts/check", roles=WATCHERS)
async def check_now(request: web.Request) -> web.Response:
    new = await check(request.app)
    return await _alerts_page(request, checked=len(new))


@routes.get("/quality/alerts/strip", roles=MANAGERS | WATCHERS)
async def alert_strip(request: web.Request) -> web.Response:
    """Active alerts for the floor board (an htmx include refreshed with the board)."""
    active = await run_db(alert_store.active, request.app[ENGINE])
    units = {m.value: u for m, u in UNITS.items()}
    return render("_quality_alert_strip.html", request, {"active": active, "units": units})


async def check(app: web.Application) -> list[QcAlert]:
    """Check every threshold now; hand the newly raised alerts to the webhook (not awaited)."""
    engine = app[ENGINE]
    new: list[QcAlert] = await run_db(alert_store.check, engine, datetime.now(UTC))
    hook = app.get(WEBHOOK)
    if hook is not None and new:
        rules = {t.id: t.min_volume for t in await run_db(alert_store.thresholds, engine)}
        hook.fire(alert_webhook.payload(a, rules.get(a.threshold_id, 0)) for a in new)
    return new


async def _check_forever(app: web.Application) -> None:
    while True:
        await asyncio.sleep(CHECK_EVERY)
        try:
            await check(app)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: try again next round
            log.warning("alert check failed", error=str(exc))


async def _start(app: web.Application) -> None:
    cfg = app[CONFIG]
    if cfg.alert_webhook_url:
        policy = TargetPolicy(cfg.webhook_allow_http, cfg.webhook_allow_private)
        target = alert_webhook.Target(cfg.alert_webhook_url, cfg.alert_webhook_secret, policy)
        app[WEBHOOK] = alert_webhook.AlertWebhook(target)
    app[CHECKER] = asyncio.create_task(_check_forever(app), name="qc-alerts")


async def _stop(app: web.Application) -> None:
    task = app.get(CHECKER)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    hook = app.get(WEBHOOK)
    if hook is not None:
        await hook.close()


def setup(app: web.Application) -> None:
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


# --- QA reports -------------------------------------------------------------------------


def _report_params(request: web.Request) -> tuple[datetime, datetime, tuple[str, ...], str]:
    today = datetime.now(UTC).date()
    q = request.query
    try:
        start = datetime.fromisoformat(q.get("from") or (today - timedelta(days=27)).isoformat())
        end = datetime.fromisoformat(q.get("to") or today.isoformat())
    except ValueError:
        raise ThresholdInvalid("dates are YYYY-MM-DD", field="from") from None
    start, end = start.replace(tzinfo=start.tzinfo or UTC), end.replace(tzinfo=end.tzinfo or UTC)
    if len(q.get("to") or "") <= 10:
        end += timedelta(days=1)  # a date as "to" includes that day
    by = tuple(b for b in (q.get("by") or "agent,week").split(",") if b)[:3]
    return start, end, by, (q.get("by") or "agent,week")


@routes.get("/quality/reports", roles=REVIEWERS)
async def reports_page(request: web.Request) -> web.Response:
    start, end, by, by_text = _report_params(request)
    rep = await run_db(qa_report.report, request.app[ENGINE], start, end, by)
    ctx = {
        "rep": rep,
        "from": start.date().isoformat(),
        "to": (end - timedelta(days=1)).date().isoformat(),
        "by_text": by_text,
        "groupings": [
            "agent,week",
            "agent",
            "team",
            "team,week",
            "campaign",
            "campaign,week",
            "week",
            "agent,campaign",
        ],
    }
    return render("quality_reports.html", request, ctx)


@routes.get("/quality/reports.csv", roles=REVIEWERS)
async def reports_csv(request: web.Request) -> web.Response:
    start, end, by, _ = _report_params(request)
    rep = await run_db(qa_report.report, request.app[ENGINE], start, end, by)
    name = f"qa-{start.date().isoformat()}-{(end - timedelta(days=1)).date().isoformat()}.csv"
    return web.Response(
        body=qa_report.to_csv(rep),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
