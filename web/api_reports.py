"""KPI reports over HTTP (issue 15): the report, its exports, targets, report files and the
staffing forecast. Rules live in reports/; this module parses the request and answers."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from outdial.config import Config
from outdial.models import utcnow
from outdial.roles import Role
from reports import export, files, kpis, query, service, targets
from reports.errors import ReportInvalid
from reports.intervals import INTERVALS
from web.apidoc import ANY_OBJ, INT, NUM, STR, Doc, arr, obj
from web.inputs import json_body
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

log = structlog.get_logger(__name__)
routes = Routes()
READERS = {Role.ADMIN, Role.MANAGER}
PARAMS = ("from", "to", "interval", "by", "kpi", "campaign", "zone", "include_simulated")
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@routes.get(
    "/api/reports/catalogue",
    roles=READERS,
    doc=Doc("The KPIs, intervals and dimensions reports know", returns=ANY_OBJ),
)
async def catalogue(request: web.Request) -> web.Response:
    """What a report can show: KPIs (names, 中文, units), dimensions, intervals."""
    return web.json_response(
        {
            "kpis": [
                {"name": k.name, "zh": k.zh, "unit": k.unit, "higher_is_better": k.higher_is_better}
                for k in kpis.KPIS.values()
            ],
            "dimensions": [*query.DIMENSIONS, "col:<list column>"],
            "intervals": list(INTERVALS),
            "max_days": query.MAX_DAYS,
        }
    )


@routes.get(
    "/api/reports/kpi",
    roles=READERS,
    doc=Doc(
        "A KPI report by interval and dimensions (JSON, CSV or XLSX)",
        query={
            "from": "first day or time (ISO)",
            "to": "last day (included) or time",
            "interval": "30m, 1h, day, week or month",
            "by": "comma-separated: agent, campaign, kind, list, region, col:<column>",
            "kpi": "comma-separated KPI names (default: all)",
            "campaign": "campaign id or name (repeatable)",
            "zone": "IANA zone for a report across zones",
            "include_simulated": "true: count the simulated carrier's calls and simulated "
            "agents too (left out by default)",
            "format": "json, csv or xlsx",
            "lang": "en or zh-CN (export headers)",
        },
        returns=ANY_OBJ,
    ),
)
async def kpi_report(request: web.Request) -> web.StreamResponse:
    """``?from&to&interval&by&kpi&campaign&zone[&include_simulated=true]``
    [``&format=csv|xlsx&lang=zh-CN``]."""
    params: dict[str, Any] = {k: request.query.get(k) for k in PARAMS}
    params["campaign"] = request.query.getall("campaign", [])
    fmt = request.query.get("format", "json")
    if fmt not in ("json", *TYPES):
        raise ReportInvalid("format must be json, csv or xlsx", field="format")
    lang = export.check_lang(request.query.get("lang"))
    rep = await run_db(service.kpi_report, request.app[ENGINE], params, utcnow())
    if fmt == "json":
        return web.json_response(rep.as_dict(), dumps=_dumps)
    body = export.to_csv(rep, lang) if fmt == "csv" else export.to_xlsx(rep, lang)
    name = f"kpi-{rep.query.interval}.{fmt}"
    return web.Response(
        body=body,
        headers={
            "Content-Type": TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


@routes.get(
    "/api/reports/targets",
    roles=READERS,
    doc=Doc("KPI targets (shown red/green)", returns=obj(targets=arr(ANY_OBJ))),
)
async def list_targets(request: web.Request) -> web.Response:
    return web.json_response({"targets": await run_db(targets.load, request.app[ENGINE])})


@routes.put(
    "/api/reports/targets/{kpi}",
    roles=READERS,
    doc=Doc(
        "Set a KPI's target",
        body=obj(required=["value"], value=NUM, op=STR),
        returns=obj(target=ANY_OBJ),
    ),
)
async def put_target(request: web.Request) -> web.Response:
    body = await _json(request)
    ident = current_identity(request)
    out = await run_db(
        targets.set_target,
        request.app[ENGINE],
        request.match_info["kpi"],
        body.get("op"),
        body.get("value"),
        ident.user_id,
    )
    return web.json_response({"target": out})


@routes.delete(
    "/api/reports/targets/{kpi}",
    roles=READERS,
    doc=Doc("Remove a KPI's target", returns=obj(deleted=STR)),
)
async def delete_target(request: web.Request) -> web.Response:
    await run_db(targets.delete_target, request.app[ENGINE], request.match_info["kpi"])
    return web.json_response({"deleted": request.match_info["kpi"]})


@routes.get(
    "/api/reports/files",
    roles=READERS,
    doc=Doc("Report files written on schedule (daily, weekly, monthly)", returns=ANY_OBJ),
)
async def list_files(request: web.Request) -> web.Response:
    cfg: Config = request.app[CONFIG]
    return web.json_response({"files": await run_db(files.list_files, cfg.data_dir)})


@routes.get(
    "/api/reports/files/{name}",
    roles=READERS,
    doc=Doc("Download a scheduled report file", content_type="application/octet-stream"),
)
async def download_file(request: web.Request) -> web.StreamResponse:
    cfg: Config = request.app[CONFIG]
    path = files.path_of(cfg.data_dir, request.match_info["name"])
    return web.FileResponse(
        path, headers={"Content-Disposition": f'attachment; filename="{path.name}"'}
    )


async def _json(request: web.Request) -> dict[str, Any]:
    """The JSON object body, bounded and checked like every JSON route (web/inputs.py)."""
    return await json_body(request)


SCHEDULER: web.AppKey[Any] = web.AppKey("reports.scheduler")


def setup(app: web.Application) -> None:
    """Start the report-file schedule with the server (reports/files.py)."""

    async def start(app: web.Application) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from reports import report

        engine = app[ENGINE]
        try:
            zone = await run_db(report.report_zone, engine, [], None)
        except Exception as exc:  # the database may be down at start: /readyz says so
            log.warning("report schedule in UTC: campaign zones not readable", error=str(exc))
            zone = "UTC"
        sched = AsyncIOScheduler(timezone=zone)
        files.install(sched, engine, app[CONFIG].data_dir, zone)
        sched.start()
        app[SCHEDULER] = sched

    async def stop(app: web.Application) -> None:
        sched = app.get(SCHEDULER)
        if sched is not None:
            sched.shutdown(wait=False)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


@routes.post(
    "/api/reports/forecast",
    roles=READERS,
    doc=Doc(
        "Staffing forecast: agents needed per half hour to finish a campaign by a deadline",
        body=obj(
            required=["campaign", "deadline"],
            campaign=STR,
            deadline=STR,
            history_days=INT,
            answer_within=NUM,
            level=NUM,
        ),
        returns=ANY_OBJ,
    ),
)
async def staffing_forecast(request: web.Request) -> web.Response:
    """``{"campaign", "deadline", "history_days"?, "answer_within"?, "level"?}``."""
    from reports import forecast_store

    body = await _json(request)
    for name in ("campaign", "deadline"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ReportInvalid(f"{name} is required", field=name)
    extra: dict[str, Any] = {}
    for name, kind in (("history_days", int), ("answer_within", float), ("level", float)):
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ReportInvalid(f"{name} must be a number", field=name)
            extra[name if name != "history_days" else "days"] = kind(value)
    out = await run_db(
        forecast_store.plan,
        request.app[ENGINE],
        body["campaign"],
        body["deadline"],
        utcnow(),
        **extra,
    )
    return web.json_response(out, dumps=_dumps)
