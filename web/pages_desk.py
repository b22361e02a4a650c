"""The agent's desk (座席, issue 14): sign-in, the state bar, the screen pop, dispositions.

Commands the JSON API already has (ready, pause, hang up, transfer to the IVR, preview) are
sent by web/static/console/desk.js to ``/api/agent/*``; this module renders the desk and its
fragments and takes the desk's forms, calling the same runtime (dialer/agent_ops.py) and
stores (campaigns/orders.py, return_visits.py, survey_store.py). Data around the engine comes
from dialer/desk.py. An agent sees only their own calls and callbacks: every call id is
checked against the agent's own attempts.

The desk's WebSocket ``/desk/ws`` carries the engine's messages for this agent (the same hub as
``/api/agent/ws``); one desk tab per agent: a second tab is told so and closed
(``desk_taken``), while a reload of the same tab (its id kept in sessionStorage) takes over.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from aiohttp import WSMsgType, web

from campaigns import callback_times, callbacks, orders, rules, store, survey_store
from dialer import desk
from dialer.board import day_start
from dialer.errors import DispositionOwed, NotRunning
from dialer.simagents import softphone_uri
from outdial.errors import Conflict, InvalidInput, NotFound, OutdialError
from outdial.models import as_utc
from outdial.roles import Role
from web.api_dialer import RUNTIME, same_origin
from web.disposition_words import disposition_text
from web.i18n import N_
from web.inputs import form_body
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import lang_of, render

log = structlog.get_logger(__name__)
routes = Routes()
AGENTS = frozenset({Role.AGENT})
#: user id -> (tab id, socket) of the agent's one desk tab
DESK_TABS: web.AppKey[dict[int, tuple[str, web.WebSocketResponse]]] = web.AppKey("desk_tabs")

PAUSE_WORDS = {
    "break": N_("Short break"),
    "lunch": N_("Lunch"),
    "training": N_("Training"),
    "meeting": N_("Meeting"),
    "coaching": N_("Coaching"),
    "wrap_after_restart": N_("Wrap-up of a call cut by a restart"),
    # dialer/core.py on_agent_failed: the engine pauses an agent whose phone did not answer
    "softphone_unreachable": N_(
        "Your softphone did not answer the call: check that it is registered and answers "
        "automatically, then go ready."
    ),
}
OUTCOME_WORDS = {
    "satisfied": N_("Satisfied, nothing to follow up"),
    "problem_reported": N_("Problem reported (follow up)"),
    "no_feedback": N_("No feedback given"),
    "refused": N_("Refused to talk"),
}
VERDICT_WORDS = {
    "confirmed": N_("Confirmed"),
    "changed": N_("Changed"),
    "cancelled": N_("Cancelled"),
    "unreachable": N_("Unreachable"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _user(request: web.Request) -> int:
    return current_identity(request).user_id


def _live_call(request: web.Request) -> str | None:
    status = request.app[RUNTIME].agent_status(_user(request)) or {}
    call = status.get("call_id")
    return str(call) if call else None


async def _attempt(request: web.Request) -> Any:
    call_id = request.match_info["call"][:64]
    return await run_db(
        desk.own_attempt, request.app[ENGINE], _user(request), call_id, _live_call(request)
    )


async def _zone_of(request: web.Request, campaign_id: int | None) -> str:
    if campaign_id is None:
        return "UTC"

    def zone() -> str:
        db = request.app[ENGINE]
        return str(store.spec_of(db, store.get(db, campaign_id)).timezone)

    try:
        return str(await run_db(zone))
    except OutdialError:
        return "UTC"


async def _pause_menu(request: web.Request, campaign_id: int | None) -> dict[str, str]:
    """The campaign's pause reasons, code -> what the agent reads: a default reason with its
    default label in the agent's language, the campaign's own label otherwise."""
    if campaign_id is None:
        return {}
    db, _ = request.app[ENGINE], lang_of(request).gettext
    try:
        spec = await run_db(lambda: store.spec_of(db, store.get(db, campaign_id)))
    except OutdialError:
        return {}
    defaults = {r.code: r.label for r in rules.DEFAULT_PAUSE_REASONS}
    return {
        r.code: _(PAUSE_WORDS[r.code]) if defaults.get(r.code) == r.label else r.label
        for r in spec.pause_reasons
    }


def _in_words(view: dict[str, Any], gettext: Callable[[str], str]) -> dict[str, Any]:
    """The screen pop's dispositions (buttons, the record's history) in the agent's language:
    default labels translated, a manager's own labels as typed (web/disposition_words.py)."""
    history = [
        {**h, "outcome": disposition_text(h["disposition"], h["label"], gettext)}
        if h.get("disposition")
        else h
        for h in view["history"]
    ]
    buttons = [
        {
            "code": d.code,
            "label": disposition_text(d.code, d.label, gettext),
            "callback": d.callback,
        }
        for d in view["dispositions"]
    ]
    return {**view, "history": history, "dispositions": buttons}


async def _bar(request: web.Request) -> dict[str, Any]:
    """The state bar's figures: the agent's state and today's counts, callbacks due."""
    runtime, db, uid = request.app[RUNTIME], request.app[ENGINE], _user(request)
    status = runtime.agent_status(uid)
    zone = await _zone_of(request, status["campaign_id"] if status else None)
    now = _now()
    counts = await run_db(desk.today_counts, db, uid, day_start(now, zone))
    due = await run_db(desk.callbacks_due, db, uid, desk.end_of_day(now, zone))
    overdue = {c.id for c in due if as_utc(c.due_at) < now}
    return {"status": status, "counts": counts, "due": due, "overdue": overdue, "mask": desk.masked}


@routes.get("/desk", roles=AGENTS)
async def desk_page(request: web.Request) -> web.Response:
    """The agent's desk: sign-in when not in a campaign, else the state bar and the call."""
    runtime, db, uid = request.app[RUNTIME], request.app[ENGINE], _user(request)
    running = sorted(runtime.running)

    def names() -> list[dict[str, Any]]:
        out = []
        for cid in running:
            if not store.may_take(db, uid, cid):  # assigned on /people (issue 13)
                continue
            camp = store.get(db, cid)
            spec = store.spec_of(db, camp)
            out.append({"id": cid, "name": camp.name, "kind": spec.kind.value, "mode": spec.mode})
        return out

    cfg = request.app[CONFIG]

    def sip_uri() -> str:
        from dialer import sessions

        if cfg.simulated:  # the simulated carrier's softphone answers for this person
            return softphone_uri(cfg.sip_trunk, current_identity(request).username)

        try:
            return sessions.user_sip_uri(db, uid)
        except OutdialError:
            return ""

    bar = await _bar(request)
    run = runtime.running.get(bar["status"]["campaign_id"]) if bar["status"] else None
    ctx = {
        **bar,
        "preview_mode": run is not None and run.engine.settings.core.mode == "preview",
        "campaigns": await run_db(names),
        "sip_uri": await run_db(sip_uri),
        "simulated": cfg.simulated,
        # issue 19.1: that calls may be monitored, never who listens or when (policy: a setting)
        "monitor_notice": cfg.monitor_notice,
        "pause_menu": await _pause_menu(request, (bar["status"] or {}).get("campaign_id")),
        "pause_words": PAUSE_WORDS,
        **_phone_test(request),
    }
    return render("desk.html", request, ctx)


def _phone_test(request: web.Request) -> dict[str, Any]:
    """The latest test call to the agent's softphone, and whether the campaign makes one."""
    runtime, uid = request.app[RUNTIME], _user(request)
    status = runtime.agent_status(uid) or {}
    run = runtime.running.get(status.get("campaign_id", -1))
    return {
        "phone_test": status.get("softphone_test"),
        "phone_test_on": run is not None and run.engine.settings.softphone_test,
    }


@routes.get("/desk/phone-test", roles=AGENTS)
async def desk_phone_test(request: web.Request) -> web.Response:
    """How the test call to the agent's softphone stands (the fragment polls while it rings)."""
    return render("_desk_phone_test.html", request, _phone_test(request))


@routes.post("/desk/phone-test", roles=AGENTS)
async def desk_phone_retest(request: web.Request) -> web.Response:
    """Ring the agent's softphone again (the agent fixed it, or wants to be sure)."""
    await request.app[RUNTIME].test_softphone(_user(request))
    return render("_desk_phone_test.html", request, _phone_test(request))


@routes.get("/desk/bar", roles=AGENTS)
async def desk_bar(request: web.Request) -> web.Response:
    """Today's counts and the callbacks due (refreshed after each call)."""
    return render("_desk_counts.html", request, await _bar(request))


@routes.get("/desk/state", roles=AGENTS)
async def desk_state(request: web.Request) -> web.Response:
    """The snapshot a (re)connecting desk resyncs from: the engine's view of the agent and
    the call waiting for this agent's disposition, if any."""
    uid = _user(request)
    status = request.app[RUNTIME].agent_status(uid)
    call = (status or {}).get("call_id")
    if not call and status is not None:
        call = await run_db(desk.pending_call, request.app[ENGINE], uid)
    since = await run_db(_since, request.app[ENGINE], uid)
    return web.json_response({"agent": status, "call_id": call, "since": since})


def _since(db: Any, user_id: int) -> str | None:
    from sqlmodel import select

    from dialer.models import AgentSession
    from outdial.storage import session_scope

    with session_scope(db) as s:
        row = s.exec(select(AgentSession).where(AgentSession.user_id == user_id)).first()
    return as_utc(row.since).isoformat() if row else None


@routes.post("/desk/signin", roles=AGENTS, body="small")
async def desk_signin(request: web.Request) -> web.Response:
    """Sign in to a running campaign with a softphone; errors said in the agent's words."""
    form = await form_body(request)
    _ = lang_of(request).gettext
    try:
        cid = int(str(form.get("campaign_id", "")))
    except ValueError:
        return _problem(request, _("Choose a campaign."))
    sip_uri = str(form.get("sip_uri", "")).strip()[:255]
    if not await run_db(store.may_take, request.app[ENGINE], _user(request), cid):
        return _problem(
            request,
            _("You are not assigned to that campaign. Ask your manager (People page)."),
            status=403,
        )
    try:
        await request.app[RUNTIME].agent_login(_user(request), cid, sip_uri or None)
    except NotRunning:
        return _problem(
            request,
            _("That campaign is not running now. Ask your manager to start it, or choose another."),
        )
    except InvalidInput as err:
        if err.fields.get("field") == "sip_uri":
            return _problem(
                request,
                _("The softphone address is not usable: write it as sip:user@host (%(uri)s).")
                % {"uri": sip_uri or "—"},
            )
        raise
    try:  # the test call at sign-in ([dialing] softphone_test); its result shows on the desk
        await request.app[RUNTIME].test_softphone(_user(request))
    except OutdialError as err:  # the agent can go on without it
        log.warning("softphone test not placed", user_id=_user(request), error=err.message)
    return web.Response(status=204, headers={"HX-Redirect": "/desk"})


def _problem(request: web.Request, text: str, status: int = 400) -> web.Response:
    return render("_desk_problem.html", request, {"text": text}, status=status)


@routes.post("/desk/callbacks/{callback}/take", roles=AGENTS)
async def desk_take_callback(request: web.Request) -> web.Response:
    """Take a team callback due today: it becomes the agent's own and leaves the desks of the
    rest of the team (campaigns/callbacks.py ``take``)."""
    _ = lang_of(request).gettext
    raw = request.match_info["callback"]
    if not raw.isdigit():
        return _problem(request, _("There is no such callback."), status=404)
    try:
        await run_db(callbacks.take, request.app[ENGINE], int(raw), _user(request))
    except Conflict:
        text = _("Another agent of your team has taken this callback (or it is closed).")
        return _problem(request, text, status=409)
    except NotFound:
        return _problem(request, _("There is no such callback."), status=404)
    ok = render("_desk_taken.html", request, {})
    ok.headers["HX-Trigger"] = "desk-refresh"
    return ok


@routes.post("/desk/signout", roles=AGENTS)
async def desk_signout(request: web.Request) -> web.Response:
    _ = lang_of(request).gettext
    try:
        await request.app[RUNTIME].agent_logout(_user(request))
    except DispositionOwed:  # wrap-up ends with the last call's disposition
        text = _("Set the disposition of your last call first; then you can pause or sign out.")
        return _problem(request, text, status=409)
    return web.Response(status=204, headers={"HX-Redirect": "/desk"})


@routes.get("/desk/call/{call}", roles=AGENTS)
async def desk_call(request: web.Request) -> web.Response:
    """The screen pop: the customer, their history, the script, the kind's form."""
    att = await _attempt(request)
    db, uid = request.app[ENGINE], _user(request)
    live = request.app[RUNTIME].live_amd(att.campaign_id, att.call_id)
    view = await run_db(desk.call_view, db, att, live)
    draft = await run_db(desk.draft_of, db, uid, att.call_id)
    ctx = {
        "call": _in_words(view, lang_of(request).gettext),
        "draft": draft,
        "draft_json": json.dumps(draft, ensure_ascii=False),
        "outcomes": desk.RETURN_VISIT_OUTCOMES,
        "outcome_words": OUTCOME_WORDS,
        "verdict_words": VERDICT_WORDS,
        "amd_words": AMD_WORDS,
        "pause_menu": await _pause_menu(request, att.campaign_id),
        "pause_words": PAUSE_WORDS,
        "lang_code": lang_of(request).code,
    }
    return render("_desk_call.html", request, ctx)


@routes.post("/desk/call/{call}/draft", roles=AGENTS, body="small")
async def desk_draft(request: web.Request) -> web.Response:
    """What the agent has typed so far (saved as they type)."""
    att = await _attempt(request)
    form = await form_body(request)
    data = {str(k)[:64]: str(v) for k, v in form.items() if str(k) != "call_id"}
    await run_db(desk.save_draft, request.app[ENGINE], _user(request), att.call_id, data, _now())
    return web.Response(status=204)


def _saved(request: web.Request, text: str) -> web.Response:
    return render("_desk_saved.html", request, {"text": text})


@routes.post("/desk/call/{call}/verdict", roles=AGENTS, body="small")
async def desk_verdict(request: web.Request) -> web.Response:
    """The order's verdict (campaigns/orders.set_verdict: committed with its webhook)."""
    att = await _attempt(request)
    form = await form_body(request)
    _ = lang_of(request).gettext
    verdict = str(form.get("verdict", ""))
    body: dict[str, Any] = {"verdict": verdict}
    if verdict == "changed":
        changes = {
            k: str(form.get(f"change_{k}", "")).strip()
            for k in ("address", "payment", "delivery_time")
        }
        body["changes"] = {k: v for k, v in changes.items() if v}
    if verdict == "cancelled":
        body["reason"] = str(form.get("reason", ""))
    db, uid = request.app[ENGINE], _user(request)
    external_id, source = await run_db(desk.order_ref, db, att)
    try:
        await run_db(orders.set_verdict, db, external_id, body, _now(), uid, source)
    except OutdialError as err:
        return _problem(request, err.message)
    return _saved(
        request, _("Verdict saved: %(v)s.") % {"v": _(VERDICT_WORDS.get(verdict, verdict))}
    )


@routes.post("/desk/call/{call}/outcome", roles=AGENTS, body="small")
async def desk_outcome(request: web.Request) -> web.Response:
    """The return visit's outcome (campaigns/return_visits.complete)."""
    att = await _attempt(request)
    form = await form_body(request)
    _ = lang_of(request).gettext
    outcome = str(form.get("outcome", ""))
    try:
        await run_db(desk.task_outcome, request.app[ENGINE], att, outcome)
    except OutdialError as err:
        return _problem(request, err.message)
    return _saved(request, _("Outcome saved."))


@routes.post("/desk/call/{call}/survey", roles=AGENTS, body="small")
async def desk_survey(request: web.Request) -> web.Response:
    """The agent-led survey's answers (campaigns/survey_store; each answer commits)."""
    att = await _attempt(request)
    form = await form_body(request)
    _ = lang_of(request).gettext
    db, uid = request.app[ENGINE], _user(request)
    if att.transferred_at is not None:  # one response per call: the IVR's (keypad)
        return _problem(
            request,
            _("This customer was transferred to the survey IVR: the answers come from the keypad."),
            status=409,
        )

    def save() -> None:
        spec = store.spec_of(db, store.get(db, att.campaign_id))
        sid, survey = desk.survey_for(db, spec)
        answers: dict[str, object] = {}
        for q in survey.questions:
            raw = str(form.get(f"q_{q.id}", "")).strip()
            if raw:
                answers[q.id] = raw if q.kind.value == "open" else _int(raw, q.id)
        resp, _created = survey_store.start_response(
            db, sid, att.call_id, campaign_id=att.campaign_id, agent_id=uid, phone=att.number
        )
        survey_store.save_answers(db, resp.id or 0, answers, _now(), None)

    try:
        await run_db(save)
    except OutdialError as err:
        return _problem(request, err.message)
    return _saved(request, _("Survey answers saved."))


def _int(raw: str, field: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInput(f"{field}: a number", field=field) from exc


AMD_WORDS = {"person": N_("Marked: a person answered."), "machine": N_("Marked: a machine.")}


@routes.post("/desk/call/{call}/amd", roles=AGENTS, body="small")
async def desk_amd(request: web.Request) -> web.Response:
    """The agent's mark on a sampled machine verdict of their own call (rule 19; the same
    store as ``POST /api/amd/reviews``), committed at once."""
    att = await _attempt(request)
    form = await form_body(request)
    truth = str(form.get("truth", ""))[:16]
    db, by = request.app[ENGINE], current_identity(request).username
    live = request.app[RUNTIME].live_amd(att.campaign_id, att.call_id)
    try:
        await run_db(desk.amd_mark, db, att, live, truth, by, _now())
    except OutdialError as err:
        return _problem(request, err.message)
    return _saved(request, lang_of(request).gettext(AMD_WORDS[truth]))


@routes.post("/desk/call/{call}/dispose", roles=AGENTS, body="small")
async def desk_dispose(request: web.Request) -> web.Response:
    """The call's disposition, its notes and (for a callback code) the callback's customer-
    local time, refused outside the legal calling window (campaigns/callback_times.py)."""
    att = await _attempt(request)
    form = await form_body(request)
    _ = lang_of(request).gettext
    live = request.app[RUNTIME].live_amd(att.campaign_id, att.call_id)
    if await run_db(desk.amd_mark_due, request.app[ENGINE], att, live):
        return _problem(
            request,
            _("First answer the answering-machine check: was this a person or a machine?"),
        )
    code = str(form.get("code", ""))
    notes = str(form.get("notes", ""))[:4000]
    pause = str(form.get("pause_reason", "")).strip() or None
    callback_at = None
    owner = str(form.get("callback_owner", "personal")) or "personal"
    local = str(form.get("callback_local", "")).strip()
    if local:
        zone = str(form.get("zone", ""))
        try:
            callback_at = await run_db(_callback_at, request, att, local, zone)
        except OutdialError as err:
            return _problem(request, _refusal(request, err))
    try:
        done = await request.app[RUNTIME].disposition(
            _user(request), att.call_id, code, notes=notes, callback_at=callback_at,
            pause_reason=pause, callback_owner=owner,
        )  # fmt: skip
    except OutdialError as err:
        return _problem(request, _refusal(request, err))
    # the notes are the attempt's now; the draft has served its purpose
    await run_db(desk.drop_draft, request.app[ENGINE], _user(request), att.call_id)
    log.info("desk disposition", call_id=att.call_id, code=code, callback=bool(callback_at))
    return render("_desk_disposed.html", request, {"done": done})


def _callback_at(request: web.Request, att: Any, local: str, zone: str) -> datetime:
    """The customer-local time as an instant, checked against the legal window first so the
    agent reads why it is refused and the next legal time (rules 1, 14-16, 28, 33)."""
    db = request.app[ENGINE]
    view_zone = desk.call_view(db, att)["zone"]
    zone = zone if zone == view_zone else view_zone  # the customer's, never the browser's
    try:
        naive = datetime.fromisoformat(local)
    except ValueError as exc:
        raise InvalidInput("the callback time is not a date and time", field="callback") from exc
    spec = store.spec_of(db, store.get(db, att.campaign_id))
    plan = callback_times.plan_callback(naive, zone, [], spec.callback_hours, _now())
    return plan.due_at.astimezone(ZoneInfo(zone))


def _refusal(request: web.Request, err: OutdialError) -> str:
    _ = lang_of(request).gettext
    if err.code == "callback_refused" and err.fields.get("reason") == "past":
        return _("That time has already passed: choose a later time.")
    if err.code == "callback_refused" or type(err).__name__ == "CallbackRefused":
        nxt = err.fields.get("next_legal")
        text = _("That time is outside the legal calling hours for this customer.")
        if nxt:
            text += " " + _("The next legal time is %(t)s.") % {
                "t": str(nxt).replace("T", " ")[:16]
            }
        return text
    if err.code == "conflict" and "hang it up" in err.message:
        return _("The call is still connected: hang up first, then set the disposition.")
    return err.message


@routes.post("/desk/preview/skip", roles=AGENTS, body="small")
async def desk_preview_skip(request: web.Request) -> web.Response:
    """Skip the previewed record, with the agent's reason (kept in the contact's history)."""
    form = await form_body(request)
    reason = str(form.get("reason", "")).strip()[:200]
    if not reason:
        return _problem(request, lang_of(request).gettext("Say why you skip this record."))
    await request.app[RUNTIME].preview_skip(_user(request), reason)
    log.info("preview record skipped", user_id=_user(request), reason=reason)
    return web.Response(status=204)


# --- the desk's WebSocket -----------------------------------------------------------------------


class _DeskSocket:
    """The desk's socket in the agent hub: numbers leave masked, as the agent may see them
    (the engine's messages carry them in full for ``/api/agent/ws`` clients)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def send_str(self, data: str) -> None:
        msg = json.loads(data)
        if isinstance(msg.get("number"), str):
            msg["number"] = desk.masked(msg["number"])
        record = msg.get("record")
        if isinstance(record, dict) and isinstance(record.get("alternates"), list):
            record["alternates"] = [desk.masked(str(n)) for n in record["alternates"]]
        await self.ws.send_str(json.dumps(msg, ensure_ascii=False))

    async def close(self) -> None:
        await self.ws.close()


@routes.get("/desk/ws", roles=AGENTS)
async def desk_ws(request: web.Request) -> web.StreamResponse:
    """The engine's messages for this agent; one desk tab per agent (module docstring)."""
    uid = _user(request)
    same_origin(request)
    tab = request.query.get("tab", "")[:64]
    if not tab:
        raise InvalidInput("tab is required", field="tab")
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=16 * 1024)
    await ws.prepare(request)
    tabs = request.app[DESK_TABS]
    held = tabs.get(uid)
    if held is not None and held[0] != tab and not held[1].closed:
        await ws.send_json({"type": "desk_taken"})
        await ws.close()
        return ws
    if held is not None and not held[1].closed:  # a reload of the same tab takes over
        await held[1].close()
    tabs[uid] = (tab, ws)
    runtime = request.app[RUNTIME]
    socket = _DeskSocket(ws)
    runtime.hub.add(uid, socket)
    try:
        await ws.send_json({"type": "hello", "agent": runtime.agent_status(uid)})
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        runtime.hub.remove(uid, socket)
        if tabs.get(uid, ("", None))[1] is ws:
            del tabs[uid]
    return ws


def setup(app: web.Application) -> None:
    app[DESK_TABS] = {}
