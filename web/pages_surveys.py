"""The survey team's pages (issue 14): surveys, their IVR prompts and campaigns, results,
open answers and exports.

Definitions are validated by campaigns/surveys.py ``parse_survey``; every number on the
results pages is counted by the database (campaigns/survey_sql.py, the same math as
campaigns/survey_results.py ``view``); the export reads every response through
survey_results.py ``view``. Pages only translate forms and render. Phone numbers are masked
by the view before they reach a template.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from campaigns import prompts, survey_results, survey_sql, survey_store, surveys
from campaigns import store as campaign_store
from campaigns.errors import PromptTooLarge, SurveyInvalid
from campaigns.survey_results import Filters, Period
from outdial import exports
from outdial.errors import Conflict, InvalidInput, NotFound, OutdialError
from outdial.roles import Role
from web import inputs
from web.i18n import N_
from web.keys import CONFIG, ENGINE
from web.middleware import run_db
from web.routing import Routes
from web.shell import lang_of, render

routes = Routes()
#: who designs surveys and reads results (outdial/roles.py: the surveyor role, and managers)
SURVEY_TEAM = frozenset({Role.SURVEYOR, Role.MANAGER, Role.ADMIN})
#: the editor's answer types: form value -> (kind, low, high)
ANSWER_TYPES: dict[str, tuple[str, int, int]] = {
    "scale5": ("scale", 1, 5),
    "scale10": ("scale", 1, 10),
    "nps": ("scale", 0, 10),
    "yes_no": ("yes_no", 1, 5),
    "open": ("open", 1, 5),
    "choice": ("choice", 1, 5),
}
MAX_QUESTIONS = 30
#: what each of the IVR's fixed prompts is for (campaigns/surveys.py ``prompts``)
PROMPT_LABELS = {
    "intro": N_("Greeting"),
    "invalid": N_("After a wrong key"),
    "no_input": N_("After no key"),
    "thanks": N_("Thanks and goodbye"),
    "opt_out": N_("After the opt-out key"),
}
IVR_FIELDS = ("opt_out_key", "repeats", "key_timeout_s", "inter_digit_s", "record_seconds")


def _sid(request: web.Request) -> int:
    try:
        return int(request.match_info["survey_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


def prompt_label(pid: str) -> str:
    """The message id naming a prompt ("q:<id>" is its question)."""
    return PROMPT_LABELS.get(pid, N_("Question") if pid.startswith("q:") else pid)


def question_type(q: surveys.Question) -> str:
    """The editor's answer type of a parsed question."""
    return answer_type({"kind": q.kind.value, "low": q.low, "high": q.high})


def answer_type(q: dict[str, Any]) -> str:
    """The editor's answer type of a stored question."""
    if q.get("kind") == "scale":
        scale = (int(q.get("low", 1)), int(q.get("high", 5)))
        return {(1, 10): "scale10", (0, 10): "nps"}.get(scale, "scale5")
    return str(q.get("kind", "scale5"))


# --- the list and the editor -------------------------------------------------------------------


@routes.get("/surveys", roles=SURVEY_TEAM)
async def list_page(request: web.Request) -> web.Response:
    rows = await run_db(survey_store.list_surveys, request.app[ENGINE])
    return render("surveys.html", request, {"surveys": rows})


def _editor_ctx(definition: dict[str, Any], sid: int | None, error: str = "") -> dict[str, Any]:
    questions = [dict(q, type=answer_type(q)) for q in definition.get("questions", [])]
    return {
        "d": definition,
        "questions": questions,
        "sid": sid,
        "error": error,
        "types": list(ANSWER_TYPES),
        "responses": 0,
    }


@routes.get("/surveys/new", roles=SURVEY_TEAM)
async def new_page(request: web.Request) -> web.Response:
    """A blank survey, or the seeds' six questions with ``?template=seed``."""
    if request.query.get("template") == "seed":
        definition = surveys.survey_to_dict(surveys.SEED_TEMPLATE)
        definition["name"] = ""
    else:
        definition = surveys.survey_to_dict(surveys.SEED_TEMPLATE)
        definition.update(name="", title_zh="", title_en="", questions=[_blank()])
    return render("survey_editor.html", request, _editor_ctx(definition, None))


@routes.get("/surveys/{survey_id}/edit", roles=SURVEY_TEAM)
async def edit_page(request: web.Request) -> web.Response:
    sid, engine = _sid(request), request.app[ENGINE]
    row, _ = await run_db(survey_store.get_survey, engine, sid)
    counts = await run_db(survey_store.list_surveys, engine)
    ctx = _editor_ctx(dict(row.definition), sid)
    ctx["responses"] = sum(int(c["responses"]) for c in counts if c["id"] == sid)
    return render("survey_editor.html", request, ctx)


def _blank() -> dict[str, Any]:
    return {"id": "", "kind": "scale", "low": 1, "high": 5, "zh": "", "en": ""}


def from_form(form: Any) -> dict[str, Any]:
    """The definition a submitted editor form describes (validated later by parse_survey)."""
    data: dict[str, Any] = {
        k: str(form.get(k, "")).strip() for k in ("name", "title_zh", "title_en")
    }
    for k in IVR_FIELDS:
        raw = str(form.get(k, "")).strip()
        data[k] = int(raw) if raw.isdigit() else raw
    questions = []
    raw_count = str(form.get("count", "0"))
    count = min(int(raw_count), MAX_QUESTIONS) if raw_count.isdigit() else 0
    for i in range(count):
        kind, low, high = ANSWER_TYPES.get(str(form.get(f"q{i}_type", "")), ("", 1, 5))
        q: dict[str, Any] = {
            "id": str(form.get(f"q{i}_id", "")).strip(),
            "kind": kind or str(form.get(f"q{i}_type", "")),
            "zh": str(form.get(f"q{i}_zh", "")).strip(),
            "en": str(form.get(f"q{i}_en", "")).strip(),
        }
        if kind == "scale":
            q.update(low=low, high=high)
        if kind == "choice":
            try:
                q["choices"] = json.loads(str(form.get(f"q{i}_choices", "[]")))
            except ValueError:
                q["choices"] = []
        questions.append(q)
    data["questions"] = questions
    return data


@routes.post("/surveys/save", roles=SURVEY_TEAM)
async def save(request: web.Request) -> web.Response:
    """The editor's buttons: add a question, remove one, or save (then to the survey page)."""
    form = await inputs.form_body(request)
    data = from_form(form)
    sid_raw = str(form.get("survey_id", ""))
    sid = int(sid_raw) if sid_raw.isdigit() else None
    action = str(form.get("action", "save"))
    if action == "add" and len(data["questions"]) < MAX_QUESTIONS:
        data["questions"].append(_blank())
        return render("_survey_form.html", request, _editor_ctx(data, sid))
    if action.startswith("remove:") and action[7:].isdigit():
        del data["questions"][int(action[7:]) : int(action[7:]) + 1]
        return render("_survey_form.html", request, _editor_ctx(data, sid))
    engine = request.app[ENGINE]
    try:
        survey = surveys.parse_survey(data)

        def store() -> int:
            if sid is None:
                existing = {r["name"] for r in survey_store.list_surveys(engine)}
                if survey.name in existing:
                    raise Conflict(f"a survey named {survey.name!r} already exists", field="name")
            else:  # a survey is known by its name (campaigns name it): the editor keeps it
                row, _ = survey_store.get_survey(engine, sid)
                if row.name != survey.name:
                    raise Conflict("a saved survey keeps its name", field="name")
            return survey_store.save_survey(engine, survey).id or 0

        saved = await run_db(store)
    except (SurveyInvalid, Conflict, InvalidInput) as err:
        ctx = _editor_ctx(data, sid, err.message)
        return render("_survey_form.html", request, ctx, status=400)
    return web.Response(status=204, headers={"HX-Redirect": f"/surveys/{saved}?saved=1"})


# --- one survey: its questions, IVR prompts and campaigns --------------------------------------


async def _survey_ctx(request: web.Request, error: str = "") -> dict[str, Any]:
    sid, engine, data_dir = _sid(request), request.app[ENGINE], request.app[CONFIG].data_dir

    def load() -> dict[str, Any]:
        row, survey = survey_store.get_survey(engine, sid)
        owner = prompts.resolve_for_listing(engine, "survey", row.name, None)
        have = {(p["lang"], p["name"]): p for p in prompts.list_prompts(data_dir, owner)}
        rows: list[dict[str, Any]] = [
            {"id": pid, "zh": zh, "en": en, "zh_file": have.get(("zh", prompts.safe(pid))),
             "en_file": have.get(("en", prompts.safe(pid))), "label": prompt_label(pid)}
            for pid, zh, en in surveys.prompts(survey)
        ]  # fmt: skip
        # played in this order: the greeting, the questions, then what follows a key
        rows.sort(key=lambda r: (r["id"] != "intro", not str(r["id"]).startswith("q:")))
        camps = survey_store.attached_campaigns(engine, row.name)
        return {"row": row, "survey": survey, "prompts": rows, "campaigns": camps}

    return {**(await run_db(load)), "sid": sid, "error": error, "query": ""}


@routes.get("/surveys/{survey_id}", roles=SURVEY_TEAM)
async def survey_page(request: web.Request) -> web.Response:
    ctx = await _survey_ctx(request)
    ctx["saved"] = request.query.get("saved")
    ctx["answer_type_of"] = question_type
    return render("survey.html", request, ctx)


@routes.post("/surveys/{survey_id}/prompts", roles=SURVEY_TEAM, body="upload")
async def prompt_upload(request: web.Request) -> web.Response:
    """One question's recorded prompt in one language (same checks as POST /api/prompts)."""
    sid, engine, cfg = _sid(request), request.app[ENGINE], request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"survey-prompt-{secrets.token_hex(8)}.part"
    fields: dict[str, str] = {}
    error = ""
    try:
        async for part in inputs.multipart_parts(request):
            if part.name == "file":
                await inputs.save_part(
                    part, path, cfg.max_upload_bytes, PromptTooLarge, problem="size"
                )
            elif part.name in ("name", "lang"):
                fields[part.name] = await inputs.part_text(part)
        if not path.exists():
            raise InvalidInput("choose a WAV file to upload", field="file")
        row, _ = await run_db(survey_store.get_survey, engine, sid)
        owner = await run_db(
            prompts.resolve_owner, engine, "survey", row.name, fields.get("lang", "")
        )
        await run_db(prompts.store, cfg.data_dir, owner, fields.get("name", ""), path)
    except OutdialError as err:
        error = err.message
    finally:
        path.unlink(missing_ok=True)
    ctx = await _survey_ctx(request, error)
    return render("_survey_prompts.html", request, ctx, status=400 if error else 200)


@routes.get("/surveys/{survey_id}/prompts/{lang}/{name}/audio", roles=SURVEY_TEAM)
async def prompt_audio(request: web.Request) -> web.StreamResponse:
    sid, engine, data_dir = _sid(request), request.app[ENGINE], request.app[CONFIG].data_dir
    lang, name = request.match_info["lang"], request.match_info["name"]
    if lang not in prompts.LANGS:
        raise web.HTTPNotFound()
    row, _ = await run_db(survey_store.get_survey, engine, sid)
    owner = await run_db(prompts.resolve_owner, engine, "survey", row.name, lang)
    found = [p for p in prompts.list_prompts(data_dir, owner) if p["name"] == prompts.safe(name)]
    if not found:
        raise web.HTTPNotFound()
    return _wav(Path(found[0]["path"]))


def _wav(path: Path) -> web.FileResponse:
    resp = web.FileResponse(path, headers={"Content-Type": "audio/wav"})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@routes.post("/surveys/{survey_id}/campaigns", roles=SURVEY_TEAM)
async def attach(request: web.Request) -> web.Response:
    """Exactly the ticked campaigns ask this survey (their definition's ``survey``)."""
    sid, engine = _sid(request), request.app[ENGINE]
    form = await inputs.form_body(request)
    wanted = {int(v) for v in form.getall("campaign", []) if str(v).isdigit()}

    def save() -> list[str]:
        row, _ = survey_store.get_survey(engine, sid)
        return survey_store.attach(engine, row.name, wanted)

    changed = await run_db(save)
    ctx = await _survey_ctx(request)
    ctx["changed"] = changed
    return render("_survey_campaigns.html", request, ctx)


# --- results, open answers, exports ------------------------------------------------------------


def filters_of(request: web.Request, zones: dict[str, str], now: datetime) -> Filters:
    """The filters in the query string; the period's day defaults to today in the chosen
    campaign's zone (UTC when every campaign is shown)."""
    q = request.query
    campaign = q.get("campaign", "")
    try:
        period = Period(q.get("period", ""))
    except ValueError:
        raise InvalidInput("period is day, week or month", field="period") from None
    raw_on = q.get("on", "")
    try:
        on = date.fromisoformat(raw_on) if raw_on else None
    except ValueError:
        raise InvalidInput("the day is written YYYY-MM-DD", field="on") from None
    if on is None and period is not Period.ALL:
        on = now.astimezone(ZoneInfo(zones.get(campaign, "UTC"))).date()
    scores = set()
    for v in q.getall("score", []):
        if not v.isdigit() or int(v) > 10:
            raise InvalidInput("a score is a whole number 0-10", field="score")
        scores.add(int(v))
    return Filters(
        campaign=campaign,
        agent=q.get("agent", ""),
        channel=q.get("channel", ""),
        period=period,
        on=on,
        score_question=q.get("q", ""),
        scores=frozenset(scores),
    )


async def _filtered(
    request: web.Request,
) -> tuple[Any, surveys.Survey, survey_sql.Scope, dict[str, str], Filters]:
    """The survey, who answered it, every campaign's zone, and the query's filters."""
    sid, engine = _sid(request), request.app[ENGINE]

    def load() -> tuple[Any, surveys.Survey, survey_sql.Scope, dict[str, str]]:
        row, survey = survey_store.get_survey(engine, sid)
        where = survey_sql.scope(engine, sid)
        zones = dict(where.zones)
        for camp, has in survey_store.attached_campaigns(engine, row.name):
            if has:
                zones.setdefault(camp.name, campaign_store.spec_of(engine, camp).timezone)
        return row, survey, where, zones

    row, survey, where, zones = await run_db(load)
    return row, survey, where, zones, filters_of(request, zones, datetime.now(UTC))


async def _view(request: web.Request) -> dict[str, Any]:
    sid, engine = _sid(request), request.app[ENGINE]
    row, survey, where, zones, f = await _filtered(request)
    grain = f.period.value or "day"
    counted = await run_db(survey_sql.summary, engine, survey, sid, f, where, grain)
    v = counted.view
    head = survey_results.scored_question(survey, f.score_question if f.scores else "")
    span = survey_results.period_span(f.period, f.on) if f.on else None
    words = {"yes": lang_of(request).gettext("yes"), "no": lang_of(request).gettext("no")}
    charts = {
        st.question_id: {
            "labels": [words.get(k, k) for k in st.distribution],
            "values": list(st.distribution.values()),
            "kind": st.kind,
            "name": lang_of(request).gettext("answers"),
        }
        for st in v.questions
    }
    trend = counted.groups["trend"]
    trend_chart = {
        "labels": [g.key for g in trend],
        "csat": [None if g.csat is None else round(g.csat * 100, 1) for g in trend],
        "offered": [g.offered for g in trend],
        "csat_name": lang_of(request).gettext("CSAT"),
        "offered_name": lang_of(request).gettext("Surveys offered"),
    }
    return {
        "by_campaign": counted.groups["campaign"],
        "by_agent": counted.groups["agent"],
        "trend": trend,
        "grain": grain,
        "trend_chart": trend_chart,
        "charts": charts,
        "sid": sid,
        "row": row,
        "survey": survey,
        "questions": {q.id: q for q in survey.questions},
        "v": v,
        "f": f,
        "span": span,
        "score_q": head,
        "score_values": list(range(head.low, head.high + 1)) if head else [],
        "campaigns": sorted(zones),
        "agents": sorted(set(where.agents.values())),
        "zone": zones.get(f.campaign, "UTC"),
        "query": request.query_string,
    }


@routes.get("/surveys/{survey_id}/results", roles=SURVEY_TEAM)
async def results_page(request: web.Request) -> web.Response:
    ctx = await _view(request)
    return render("survey_results.html", request, ctx)


@routes.get("/surveys/{survey_id}/answers", roles=SURVEY_TEAM)
async def answers_page(request: web.Request) -> web.Response:
    ctx = await _view(request)
    return render("survey_answers.html", request, ctx)


@routes.get("/surveys/{survey_id}/export.{fmt}", roles=SURVEY_TEAM)
async def export(request: web.Request) -> web.Response:
    """The current view (same filters as the page), one row per response, phones masked."""
    fmt = request.match_info["fmt"]
    if fmt not in ("csv", "xlsx"):
        raise web.HTTPNotFound()
    sid, engine = _sid(request), request.app[ENGINE]
    _row, survey, _where, _zones, f = await _filtered(request)
    facts = await run_db(survey_store.response_facts, engine, sid)
    rows = survey_results.table(survey, survey_results.view(survey, facts, f))
    if fmt == "xlsx":
        blob = exports.to_xlsx(rows, "responses")
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        blob, ctype = exports.to_csv(rows), "text/csv"
    name = f"survey-{sid}-results.{fmt}"
    return web.Response(
        body=blob,
        content_type=ctype,
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@routes.get("/surveys/{survey_id}/clips/{response_id}/{question}", roles=SURVEY_TEAM)
async def clip(request: web.Request) -> web.StreamResponse:
    """An IVR open answer's recording, only from the data dir's recordings folder."""
    sid, engine = _sid(request), request.app[ENGINE]
    root = (request.app[CONFIG].data_dir / "recordings").resolve()
    rid, qid = request.match_info["response_id"], request.match_info["question"]
    if not rid.isdigit():
        raise web.HTTPNotFound()
    ref = await run_db(survey_store.ivr_answer, engine, sid, int(rid), qid)
    if not isinstance(ref, str):
        raise web.HTTPNotFound()
    path = Path(ref).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("the recording is no longer on this server")
    return _wav(path)
