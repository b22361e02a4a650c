"""Report pages (报表): KPIs by interval and dimension with charts and downloads, the staffing
forecast (排班预测), and the report files written on schedule.

Every figure comes from reports/service.py, the same call as ``GET /api/reports/kpi`` and
``outdial reports kpi``; this module only reads the form, formats numbers and picks words.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from outdial.config import Config
from outdial.errors import OutdialError
from outdial.logs import mask_text
from outdial.models import utcnow
from outdial.roles import Role
from reports import service, targets
from reports.kpis import KPIS
from web import inputs
from web.disposition_words import disposition_text
from web.i18n import N_
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import MANAGERS, label, lang_of, render

routes = Routes()

#: KPI names in the manager's words (zh-CN: shared/domain.md's names, in messages.po)
KPI_WORDS = {
    "dials": N_("Dials"),
    "connect_rate": N_("Connect rate"),
    "contacts": N_("Contacts"),
    "successes": N_("Successes"),
    "success_rate": N_("Success rate"),
    "abandon_rate": N_("Abandon rate"),
    "aht": N_("Average handle time"),
    "talk_time": N_("Talk time"),
    "wrap_time": N_("Wrap-up time"),
    "avg_wrap_time": N_("Average wrap-up time"),
    "occupancy": N_("Occupancy"),
    "away_time": N_("Away time"),
    "idle_time": N_("Idle time"),
    "time_to_answer": N_("Time to answer"),
    "fcr": N_("First-contact resolution"),
    "plan_completion": N_("Plan completion"),
    "transfer_rate": N_("Transfer rate"),
    "return_visits": N_("Return visits done"),
    "csat": N_("Satisfaction"),
}
INTERVAL_WORDS = {
    "30m": N_("Half-hour"),
    "1h": N_("Hour"),
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
}
DIM_WORDS = {
    "agent": N_("Agent"),
    "team": N_("Team"),
    "campaign": N_("Campaign"),
    "kind": N_("Campaign type"),
    "list": N_("Call list"),
    "region": N_("Region"),
    "col:product": N_("Product"),
}
#: the engine's notes under a report (reports/report.py), as msgids: the page translates them
NOTE_WORDS = (
    N_(
        "connect rate and abandon rate are not split by agent or team: a call has an agent only "
        "once it is answered and connected; see them without the agent or team split"
    ),
    N_("agent-time KPIs are by agent, campaign or kind only"),
    N_("plan completion is by campaign, kind, list, region or column only"),
    N_("satisfaction is by agent, campaign or kind only"),
)
#: what the calls behind each figure are (reports/drill.py ``FIGURES``): %(n)s the calls listed,
#: %(of)s the calls the figure is a share of
FIGURE_WORDS = {
    "dials": N_("%(n)s calls dialled."),
    "connect_rate": N_("%(n)s answered by a person of %(of)s calls dialled."),
    "contacts": N_("%(n)s contacts (talked to an agent, or finished the IVR)."),
    "successes": N_("%(n)s successes."),
    "success_rate": N_("%(n)s successes of %(of)s contacts."),
    "abandon_rate": N_("%(n)s abandoned of %(of)s answered calls."),
    "aht": N_(
        "%(n)s calls connected to an agent: handle time (talk and wrap-up) is averaged over them."
    ),
    "avg_wrap_time": N_("%(n)s calls connected to an agent: wrap-up time is averaged over them."),
    "time_to_answer": N_("%(n)s answered calls: time to answer is averaged over them."),
    "fcr": N_("%(n)s resolved on the first contact of %(of)s contacts."),
    "return_visits": N_("%(n)s return visits done."),
    "transfer_rate": N_("%(n)s transferred of %(of)s contacts."),
}
#: figures that come from no calls (reports/kpis.py ``Kpi.source``)
NO_CALLS_WORDS = {
    "agent_time": N_(
        "This figure is agents’ time (ready, talking, wrap-up, away), not calls: there are no "
        "calls behind it to list."
    ),
    "contacts": N_(
        "This figure counts records of the call lists, not calls: there are no calls behind it "
        "to list."
    ),
    "surveys": N_(
        "This figure comes from survey answers, not calls: see the survey results for them."
    ),
}
PERIOD_WORDS = {"daily": N_("Daily"), "weekly": N_("Weekly"), "monthly": N_("Monthly")}
MAX_ROWS = 500  # rows shown on the page; the download has them all
MAX_CHARTS = 8  # charts of the first eight figures picked; the table has them all


def _form(request: web.Request, zones: list[str]) -> dict[str, Any]:
    """The report form as the manager filled it (defaults: today in the report's time zone, by
    half-hour). ``zones``: the chosen campaigns' zones; their common one, else UTC, unless the
    manager picked another (``zone``)."""
    q = request.query
    picked = q.get("zone", "")
    zone = picked if picked in _zone_choices(zones) else ""
    shown = zone or (zones[0] if len(zones) == 1 else "UTC")
    today = datetime.now(ZoneInfo(shown)).date().isoformat()
    by = [d for d in q.getall("by", []) if d in DIM_WORDS]
    column = q.get("column", "").strip()[:64]
    kpis = [k for k in q.getall("kpi", []) if k] or list(service.DEFAULT_KPIS)
    return {
        "from": q.get("from") or today,
        "to": q.get("to") or q.get("from") or today,
        "interval": q.get("interval") or "30m",
        "by": by,
        "column": column,
        "kpi": kpis,
        "campaign": q.get("campaign", ""),
        "include_simulated": q.get("include_simulated", "") in ("1", "on", "true"),
        "zone": zone or shown,
        "zones": _zone_choices(zones),
        "zone_count": len(zones),
    }


def _zone_choices(zones: list[str]) -> list[str]:
    """The zones a manager can count a report in: the campaigns' own, and UTC."""
    return sorted(set(zones)) + ([] if "UTC" in zones else ["UTC"])


def _params(form: dict[str, Any]) -> dict[str, Any]:
    by = list(form["by"]) + ([f"col:{form['column']}"] if form["column"] else [])
    return {
        "from": form["from"],
        "to": form["to"],
        "interval": form["interval"],
        "by": ",".join(by),
        "kpi": ",".join(form["kpi"]),
        "campaign": [form["campaign"]] if form["campaign"] else [],
        "include_simulated": "true" if form["include_simulated"] else "",
        "zone": form["zone"],
    }


def _seconds(v: float) -> str:
    s = round(v)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def cell(v: Any, unit: str) -> str:
    """A KPI value as a supervisor reads it: 35.2 %, 3:05 (minutes:seconds), 1,234."""
    if v is None:
        return "–"
    if unit == "ratio":
        return f"{float(v) * 100:.1f} %"
    if unit == "seconds":
        return _seconds(float(v))
    return f"{int(v):,}"


def _when(text: str, interval: str, keep_offset: bool, one_day: bool = False) -> str:
    """``2026-11-15T09:30+08:00`` as ``2026-11-15 09:30``, or ``09:30`` in a one-day report
    (the offset only on a DST day, where 01:30 comes twice)."""
    if interval not in ("30m", "1h"):
        return text
    shown = text[11:] if one_day else text.replace("T", " ")
    return shown if keep_offset else shown[: 5 if one_day else 16]


def _view(request: web.Request, rep: Any, form: dict[str, Any]) -> dict[str, Any]:
    _ = lang_of(request).gettext
    cols: list[str] = rep.columns
    units = service.kpi_units([c for c in cols[1 + len(rep.query.by) :]])
    offsets = {str(r[0])[16:] for r in rep.rows}
    keep = len(offsets) > 1
    one_day = len({str(r[0])[:10] for r in rep.rows}) == 1
    dims = list(rep.query.by)
    nobody = {"agent": _("No agent (not answered)")}

    def head(c: str) -> str:
        if c == "interval":
            return _(INTERVAL_WORDS[rep.query.interval])
        if c in DIM_WORDS:
            return _(DIM_WORDS[c])
        if c.startswith("col:"):
            return c[4:]
        base, _sep, rest = c.partition(":")
        return _(KPI_WORDS.get(base, base)) + (f" ({rest})" if rest else "")

    def dim_value(d: str, v: Any) -> str:
        if v in ("", None):
            return nobody.get(d, _("(none)"))
        return _(label("kind", str(v))) if d == "kind" else str(v)

    rows = []
    base = _params(form)
    for r in rep.rows[:MAX_ROWS]:
        status = rep.status(r)
        href = drill_link(base, dims, r)
        when = _when(str(r[0]), rep.query.interval, keep, one_day)
        cells = [{"text": when, "cls": "", "href": ""}]
        cells += [
            {"text": dim_value(d, r[1 + i]), "cls": "", "href": ""} for i, d in enumerate(dims)
        ]
        for c in cols[1 + len(dims) :]:
            v = r[cols.index(c)]
            cells.append(  # an empty figure has no calls to show
                {
                    "text": cell(v, units[c]),
                    "cls": "num " + status.get(c, ""),
                    "href": href + "&" + urlencode([("kpi", c)]) if v is not None else "",
                }
            )
        rows.append(cells)
    charts = []
    # a chart point opens the calls behind it (web/static/console/reports.js): the series'
    # dimension values as a query fragment, keyed by the name chart_series gives the series
    series_dims: dict[str, str] = {}
    if dims:
        empty_name = nobody.get(dims[0], _("(none)")) if len(dims) == 1 else "-"
        for r in rep.rows:
            name = " · ".join(str(r[1 + i]) or empty_name for i in range(len(dims)))
            series_dims.setdefault(
                name, "&" + urlencode([(f"d.{d}", str(r[1 + i] or "")) for i, d in enumerate(dims)])
            )
    for k in [c for c in cols[1 + len(dims) :] if c in KPIS][:MAX_CHARTS]:
        empty = nobody.get(dims[0], _("(none)")) if len(dims) == 1 else "-"
        data = service.chart_series(rep, k, empty=empty)
        if all(v is None for x in data["series"] for v in x["data"]):
            continue  # nothing to draw (e.g. connect rate split by agent): the note says why
        link = drill_link(base, [], [""]).removesuffix("&at=") + "&" + urlencode([("kpi", k)])
        data["drill"] = {"base": link, "at": data["x"]}
        data["drill"]["series"] = [series_dims.get(x["name"], "") for x in data["series"]]
        data["x"] = [_when(x, rep.query.interval, keep, one_day) for x in data["x"]]
        data["title"] = head(k)
        data["kind"] = "line" if rep.query.interval in ("30m", "1h") else "bar"
        target = rep.targets.get(k)
        if target:
            scale = 100.0 if data["unit"] == "ratio" else 1.0
            data["target"] = float(target["value"]) * scale
        charts.append({"title": head(k), "json": json.dumps(data, ensure_ascii=False)})
    return {
        "targets": _target_rows(rep.targets, [c for c in cols if c in KPIS]),
        "targets_set": bool(rep.targets),
        "head": [{"text": head(c), "num": i > len(dims)} for i, c in enumerate(cols)],
        "rows": rows,
        "total": len(rep.rows),
        "shown": min(len(rep.rows), MAX_ROWS),
        "charts": charts,
        "zone": rep.query.zone,
        "notes": rep.notes,
    }


def drill_link(params: dict[str, Any], dims: list[str], row: list[Any]) -> str:
    """The calls behind a report row: ``/reports/calls`` with the report's own parameters, the
    row's interval label (``at``) and its dimension values (``d.<dimension>``)."""
    pairs = [(k, v) for k, v in params.items() if k not in ("campaign", "kpi") and v]
    pairs += [("campaign", c) for c in params["campaign"]]
    pairs += [("at", str(row[0]))] + [(f"d.{d}", str(row[1 + i] or "")) for i, d in enumerate(dims)]
    return "/reports/calls?" + urlencode(pairs)


def _target_rows(current: dict[str, dict[str, Any]], shown: list[str]) -> list[dict[str, Any]]:
    """The target form's rows: one per KPI shown, ratios in percent as the table shows them."""
    out = []
    for k in shown:
        t = current.get(k)
        unit = KPIS[k].unit
        value = "" if t is None else f"{float(t['value']) * (100 if unit == 'ratio' else 1):g}"
        op = t["op"] if t else (">=" if KPIS[k].higher_is_better else "<=")
        out.append({"kpi": k, "words": KPI_WORDS.get(k, k), "unit": unit, "op": op, "value": value})
    return out


def _downloads(request: web.Request, params: dict[str, Any]) -> dict[str, str]:
    base = {k: v for k, v in params.items() if k != "campaign" and v}
    pairs = list(base.items()) + [("campaign", c) for c in params["campaign"]]
    lang = "zh-CN" if lang_of(request).code.startswith("zh") else "en"
    return {
        fmt: "/api/reports/kpi?" + urlencode([*pairs, ("format", fmt), ("lang", lang)])
        for fmt in ("csv", "xlsx")
    }


@routes.get("/reports", roles=MANAGERS)
async def reports_page(request: web.Request) -> web.Response:
    """KPIs by interval and dimension: a form, charts, a table and CSV/XLSX downloads."""
    engine = request.app[ENGINE]
    chosen = [request.query["campaign"]] if request.query.get("campaign") else []
    zones = sorted(set((await run_db(service.campaign_zones, engine, chosen)).values()))
    form = _form(request, zones)
    params = _params(form)
    ctx: dict[str, Any] = {
        "form": form,
        "kpi_words": KPI_WORDS,
        "interval_words": INTERVAL_WORDS,
        "dim_words": DIM_WORDS,
        "campaigns": await run_db(service.campaign_names, engine),
        "error": None,
        "view": None,
        "downloads": _downloads(request, params),
        "back": request.path_qs,
    }
    try:
        rep = await run_db(service.kpi_report, engine, params, utcnow())
    except OutdialError as err:
        ctx["error"] = {"message": err.message, "field": err.fields.get("field", "")}
        return render("reports.html", request, ctx, status=400)
    ctx["view"] = _view(request, rep, form)
    return render("reports.html", request, ctx)


@routes.post("/reports/targets", roles=MANAGERS)
async def save_targets(request: web.Request) -> web.Response:
    """The manager's targets from the report page (``op:<kpi>``, ``value:<kpi>``; ratios in
    percent, empty clears); back to the same report, coloured by the new targets."""
    form = await inputs.form_body(request)
    wanted: dict[str, tuple[str | None, object]] = {}
    for key in form:
        if not key.startswith("value:") or key[6:] not in KPIS:
            continue
        kpi, raw = key[6:], str(form.get(key, "")).strip()[:32]
        value: object = raw
        if raw and KPIS[kpi].unit == "ratio":
            try:
                value = float(raw.rstrip("% ")) / 100  # the page shows ratios in percent
            except ValueError:
                value = raw  # reports/targets.py names the field
        wanted[kpi] = (str(form.get(f"op:{kpi}", "")) or None, value)
    try:
        await run_db(
            targets.save_all, request.app[ENGINE], wanted, current_identity(request).user_id
        )
    except OutdialError as err:
        ctx = {"message": err.message, "field": err.fields.get("field", "")}
        return render("_report_targets_msg.html", request, ctx, status=400)
    back = str(form.get("back", ""))
    if not back.startswith("/reports") or back.startswith("//") or "\\" in back:
        back = "/reports"
    return web.Response(status=204, headers={"HX-Redirect": back})


#: who may list the calls behind a report; only managers and admins see whole numbers
DRILL_ROLES = MANAGERS | {Role.QA}


@routes.get("/reports/calls", roles=DRILL_ROLES)
async def calls_page(request: web.Request) -> web.Response:
    """The calls behind one figure (``kpi``) of one row (or chart point) of a KPI report,
    newest first, 200 a page (``before``: the last call of the page before)."""
    q = request.query
    params: dict[str, Any] = {
        k: q.get(k, "") for k in ("from", "to", "interval", "by", "include_simulated")
    }
    params["campaign"] = q.getall("campaign", [])
    values = {k[2:]: v for k, v in q.items() if k.startswith("d.")}
    kpi = q.get("kpi", "")[:64]
    ctx: dict[str, Any] = {
        "error": None,
        "calls": None,
        "back": _back_to_report(q, params),
        "at": q.get("at", ""),
        "kpi_name": KPI_WORDS.get(kpi.split(":", 1)[0].replace("satisfaction", "csat"), ""),
        "dims": [
            (DIM_WORDS.get(d, d[4:] if d.startswith("col:") else d), v) for d, v in values.items()
        ],
    }
    try:
        before = inputs.int_field(dict(q), "before") if q.get("before") else None
        seen = max(0, inputs.int_field(dict(q), "seen", 0))
        got = await run_db(
            service.drill_calls, request.app[ENGINE], params, ctx["at"], values, kpi, before
        )
    except OutdialError as err:
        ctx["error"] = {"message": err.message, "field": err.fields.get("field", "")}
        return render("reports_calls.html", request, ctx, status=400)
    ctx["calls"] = _calls_view(request, got, kpi, seen)
    return render("reports_calls.html", request, ctx)


def _back_to_report(q: Any, params: dict[str, Any]) -> str:
    back_pairs = [(k, v) for k, v in q.items() if k in params and k != "by" and v]
    back_pairs += [
        ("by", d) for d in str(params["by"]).split(",") if d and not d.startswith("col:")
    ]
    cols = [d[4:] for d in str(params["by"]).split(",") if d.startswith("col:")]
    back_pairs += [("column", cols[0])] if cols else []
    return "/reports?" + urlencode(back_pairs)


def _calls_view(request: web.Request, got: Any, kpi: str, seen: int) -> dict[str, Any]:
    """The listed calls in the reader's words: what the figure counts ("12 abandoned of 380
    answered calls"), disposition labels, numbers masked unless a manager reads them."""
    _ = lang_of(request).gettext
    if got.no_calls:
        return {"no_calls": _(NO_CALLS_WORDS.get(got.no_calls, NO_CALLS_WORDS["agent_time"]))}
    whole = current_identity(request).role in MANAGERS
    rows = [
        {
            **r,
            "number": r["number"] if whole else mask_text(r["number"]),
            "disposition": disposition_text(r["disposition"], r["disposition_label"], _)
            if r["disposition"]
            else "",
        }
        for r in got.rows
    ]
    base = kpi.split(":", 1)[0] or "dials"
    nums = {"n": f"{got.total:,}", "of": f"{got.of or 0:,}"}
    older = ""
    if got.older is not None:
        pairs = [(k, v) for k, v in request.query.items() if k not in ("before", "seen")]
        pairs += [("before", str(got.older)), ("seen", str(seen + len(rows)))]
        older = request.path + "?" + urlencode(pairs)
    newest = ""
    if seen:
        pairs = [(k, v) for k, v in request.query.items() if k not in ("before", "seen")]
        newest = request.path + "?" + urlencode(pairs)
    return {
        "no_calls": "",
        "summary": _(FIGURE_WORDS.get(base, FIGURE_WORDS["dials"])) % nums,
        "total": got.total,
        "rows": rows,
        "first": seen + 1,
        "last": seen + len(rows),
        "older": older,
        "newest": newest,
        "masked": not whole,
    }


@routes.get("/reports/forecast", roles=MANAGERS)
async def forecast_page(request: web.Request) -> web.Response:
    """Agents needed per half hour to finish a campaign's records by a deadline."""
    engine = request.app[ENGINE]
    campaign = request.query.get("campaign", "")
    deadline = request.query.get("deadline", "")
    if not deadline:
        tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
        deadline = tomorrow.strftime("%Y-%m-%dT18:00")
    ctx: dict[str, Any] = {
        "campaigns": await run_db(service.campaign_names, engine),
        "campaign": campaign,
        "deadline": deadline,
        "plan": None,
        "error": None,
        "chart": "",
    }
    status = 200
    if campaign:
        try:
            plan = await run_db(service.staffing, engine, campaign, deadline, utcnow())
        except OutdialError as err:
            ctx["error"] = {"message": err.message, "field": err.fields.get("field", "")}
            status = 400
        else:
            halves = [h for h in plan["half_hours"] if h.get("open_share", 0) > 0]
            ctx["plan"] = {**plan, "shown": halves}
            ctx["chart"] = json.dumps(
                {
                    "x": [_when(h["label"], "30m", False) for h in halves],
                    "unit": "count",
                    "kind": "bar",
                    "title": lang_of(request).gettext("Agents needed"),
                    "series": [
                        {
                            "name": lang_of(request).gettext("Agents needed"),
                            "data": [h["agents"] for h in halves],
                        }
                    ],
                },
                ensure_ascii=False,
            )
    return render("reports_forecast.html", request, ctx, status=status)


@routes.get("/reports/files", roles=MANAGERS)
async def files_page(request: web.Request) -> web.Response:
    """The report files written every day, week and month, to download."""
    cfg: Config = request.app[CONFIG]
    rows = await run_db(service.report_files, cfg.data_dir)
    return render("reports_files.html", request, {"files": rows, "period_words": PERIOD_WORDS})
