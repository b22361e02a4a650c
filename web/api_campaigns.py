"""Campaigns, callbacks, orders, return visits, surveys and webhooks over HTTP (issue 7).

Handlers parse, check who is asking and call campaigns/*; the rules live there.
Agents see and change their own callbacks and the team's; managers and admins see all.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from campaigns import (
    callbacks,
    files,
    orders,
    return_visits,
    store,
    survey_store,
    surveys,
    webhook_targets,
    webhooks,
)
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.roles import Role
from web.apidoc import ANY_OBJ, INT, STR, TIME, Doc, arr, desc, enum, obj, ref
from web.inputs import int_field, json_body, str_field
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import ANY_USER, Routes

routes = Routes()
MANAGERS = {Role.MANAGER, Role.ADMIN}
CALLERS = {Role.AGENT, Role.MANAGER, Role.ADMIN}
SURVEY_READERS = {Role.SURVEYOR, Role.MANAGER, Role.ADMIN}
SENDER_TASK = web.AppKey("campaigns_sender", asyncio.Task)


def _now() -> datetime:
    return datetime.now(UTC)


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number", field=name) from exc


def _actor(request: web.Request) -> int | None:
    """None (see everything) for managers and admins; the user's id for an agent."""
    ident = current_identity(request)
    return None if ident.role in MANAGERS else ident.user_id


def _local(value: object, name: str = "local_time") -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{name} must look like 2026-05-01T10:30", field=name) from exc


def _batch(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if items is None:  # a single item sent at the top level
        return [{k: v for k, v in body.items() if k not in ("campaign", "source")}]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"{key} must be a list of objects", field=key)
    return items


# --- campaigns ------------------------------------------------------------------------------


@routes.post(
    "/api/campaigns",
    roles=MANAGERS,
    doc=Doc(
        "Create a campaign from a definition (the campaign-file shape)",
        body=ref("CampaignDefinition"),
        returns=obj(campaign=ref("Campaign")),
        status=201,
    ),
)
async def campaigns_create(request: web.Request) -> web.Response:
    """Body: a campaign definition (the campaign-file shape, no secrets). With a
    ``webhook_url`` the answer carries the generated ``webhook_secret``, this once."""
    body = await json_body(request)
    spec = files.definition(body)
    webhook_targets.require_url(spec.webhook_url, _policy(request))
    engine = request.app[ENGINE]

    def create() -> dict[str, Any]:
        with contextlib.suppress(NotFound):
            store.by_name(engine, spec.name)
            raise Conflict(f"campaign {spec.name!r} already exists", name=spec.name)
        row, _ = store.save_spec(engine, spec)
        secret = store.ensure_webhook_secret(engine, row.id or 0)
        out = store.campaign_json(engine, row)
        if secret:
            out["webhook_secret"] = secret
        return out

    return web.json_response({"campaign": await run_db(create)}, status=201)


@routes.post(
    "/api/campaigns/{campaign_id}/webhook-secret",
    roles=MANAGERS,
    doc=Doc(
        "Replace the campaign's webhook secret; the new one is shown this once",
        returns=obj(webhook_secret=STR),
        status=201,
    ),
)
async def campaigns_rotate_secret(request: web.Request) -> web.Response:
    """A new webhook secret for the campaign (the old one stops working); shown this once."""
    secret = await run_db(
        store.rotate_webhook_secret, request.app[ENGINE], _int(request, "campaign_id")
    )
    return web.json_response({"webhook_secret": secret}, status=201)


def _policy(request: web.Request) -> webhook_targets.TargetPolicy:
    cfg = request.app[CONFIG]
    return webhook_targets.TargetPolicy(cfg.webhook_allow_http, cfg.webhook_allow_private)


@routes.get(
    "/api/campaigns",
    roles=ANY_USER,
    doc=Doc("List campaigns with their definitions", returns=obj(campaigns=arr(ref("Campaign")))),
)
async def campaigns_list(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]

    def rows() -> list[dict[str, Any]]:
        return [store.campaign_json(engine, c) for c in store.all_campaigns(engine)]

    return web.json_response({"campaigns": await run_db(rows)})


@routes.get(
    "/api/campaigns/{campaign_id}",
    roles=ANY_USER,
    doc=Doc("One campaign with its definition", returns=obj(campaign=ref("Campaign"))),
)
async def campaigns_show(request: web.Request) -> web.Response:
    engine, cid = request.app[ENGINE], _int(request, "campaign_id")
    data = await run_db(lambda: store.campaign_json(engine, store.get(engine, cid)))
    return web.json_response({"campaign": data})


@routes.post(
    "/api/dispositions",
    roles=CALLERS,
    doc=Doc(
        "Record a disposition outside a live call; a retry with the same key answers 200",
        body=obj(
            required=["campaign_id", "idempotency_key", "code"],
            campaign_id=INT,
            idempotency_key=STR,
            code=STR,
            contact_ref=STR,
            note=STR,
        ),
        returns=obj(disposition=ANY_OBJ),
        status=201,
    ),
)
async def dispositions_record(request: web.Request) -> web.Response:
    """Body: campaign_id, idempotency_key, code, contact_ref, note. A retry answers 200."""
    body = await json_body(request)
    ident = current_identity(request)
    row, created = await run_db(
        store.record_disposition,
        request.app[ENGINE],
        int_field(body, "campaign_id"),
        str_field(body, "idempotency_key"),
        str_field(body, "code"),
        ident.user_id,
        str_field(body, "contact_ref"),
        str_field(body, "note"),
    )
    return web.json_response(
        {"disposition": {"id": row.id, "code": row.code, "created": created}},
        status=201 if created else 200,
    )


# --- callbacks ------------------------------------------------------------------------------


@routes.get(
    "/api/callbacks",
    roles=CALLERS,
    doc=Doc(
        "Callbacks: an agent sees their own and their own team's (managers: all)",
        query={"status": "pending (default), done, cancelled"},
        returns=obj(callbacks=arr(ANY_OBJ)),
    ),
)
async def callbacks_list(request: web.Request) -> web.Response:
    status = request.query.get("status", "pending")
    rows = await run_db(
        callbacks.list_callbacks, request.app[ENGINE], _actor(request), status or None
    )
    return web.json_response({"callbacks": [callbacks.callback_json(c) for c in rows]})


@routes.post(
    "/api/callbacks",
    roles=CALLERS,
    doc=Doc(
        "Schedule a callback at a customer-local time",
        body=obj(
            required=["campaign_id", "phone", "local_time", "zone"],
            campaign_id=INT,
            phone=STR,
            local_time=desc(STR, "customer-local, no offset: 2026-05-01T10:30"),
            zone=desc(STR, "IANA zone of local_time"),
            candidate_zones=arr(STR),
            owner=enum("agent", "team"),
            owner_id=desc(INT, "managers only"),
            note=STR,
            customer_name=STR,
            contact_ref=STR,
            idempotency_key=STR,
        ),
        returns=obj(callback=ANY_OBJ),
        status=201,
    ),
)
async def callbacks_create(request: web.Request) -> web.Response:
    """The one way to make a callback besides an agent's "callback" disposition (the same
    record, the same list; README "Callbacks" documents every field). Body: campaign_id,
    phone, local_time (customer-local, no offset), zone, candidate_zones?, owner ("agent" |
    "team"), owner_id? (managers), contact_ref?, customer_name?, note?, idempotency_key?"""
    body = await json_body(request)
    campaign_id = body.get("campaign_id")
    if isinstance(campaign_id, bool) or not isinstance(campaign_id, int):
        raise InvalidInput("field 'campaign_id' is required and must be a number")
    for name in ("phone", "local_time", "zone"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise InvalidInput(f"field {name!r} is required (README: Callbacks)", field=name)
    ident = current_identity(request)
    owner = str_field(body, "owner", "agent")
    owner_id = ident.user_id
    if ident.role in MANAGERS and body.get("owner_id") is not None:
        owner_id = int_field(body, "owner_id")
    zones = body.get("candidate_zones") or []
    if not isinstance(zones, list):
        raise InvalidInput("candidate_zones must be a list of IANA zones", field="candidate_zones")
    cb, created = await run_db(
        lambda: callbacks.schedule(
            request.app[ENGINE],
            int_field(body, "campaign_id"),
            str_field(body, "phone"),
            _local(body.get("local_time", "")),
            str_field(body, "zone"),
            _now(),
            candidate_zones=[str(z) for z in zones],
            owner_kind=owner,
            owner_id=owner_id,
            created_by=ident.user_id,
            note=str_field(body, "note"),
            customer_name=str_field(body, "customer_name", max_len=200),
            contact_ref=str_field(body, "contact_ref"),
            idempotency_key=str_field(body, "idempotency_key") or None,
        )
    )
    return web.json_response(
        {"callback": callbacks.callback_json(cb)}, status=201 if created else 200
    )


@routes.patch(
    "/api/callbacks/{callback_id}",
    roles=CALLERS,
    doc=Doc(
        "Move a callback to a new customer-local time",
        body=obj(required=["local_time"], local_time=STR, zone=STR),
        returns=obj(callback=ANY_OBJ),
    ),
)
async def callbacks_reschedule(request: web.Request) -> web.Response:
    """Body: local_time, zone? — a new customer-local time, checked against legal hours."""
    body = await json_body(request)
    cb = await run_db(
        callbacks.reschedule,
        request.app[ENGINE],
        _int(request, "callback_id"),
        _local(body.get("local_time", "")),
        _now(),
        _actor(request),
        str_field(body, "zone") or None,
    )
    return web.json_response({"callback": callbacks.callback_json(cb)})


@routes.delete(
    "/api/callbacks/{callback_id}",
    roles=CALLERS,
    doc=Doc("Cancel a callback", returns=obj(callback=ANY_OBJ)),
)
async def callbacks_cancel(request: web.Request) -> web.Response:
    cb = await run_db(
        callbacks.close,
        request.app[ENGINE],
        _int(request, "callback_id"),
        "cancelled",
        _now(),
        _actor(request),
    )
    return web.json_response({"callback": callbacks.callback_json(cb)})


# --- orders, return visits ------------------------------------------------------------------


@routes.post(
    "/api/orders",
    roles=MANAGERS,
    doc=Doc(
        "Push orders to verify; idempotent on (source, external_id)",
        body=obj(
            required=["campaign"], campaign=desc(STR, "id or name"), source=STR, orders=arr(ANY_OBJ)
        ),
        returns=obj(orders=arr(ANY_OBJ)),
        status=201,
    ),
)
async def orders_push(request: web.Request) -> web.Response:
    """Body: campaign (id or name), source?, and orders: [...] or one order's fields.
    Idempotent on (source, external_id): 201 if any order is new, else 200."""
    body = await json_body(request)
    engine = request.app[ENGINE]
    items = _batch(body, "orders")

    def push() -> list[tuple[Any, bool]]:
        campaign = store.resolve(engine, body.get("campaign") or 0)
        return orders.upsert_orders(engine, campaign, items, str(body.get("source") or "default"))

    done = await run_db(push)
    out = [{**orders.order_json(o), "created": c} for o, c in done]
    return web.json_response({"orders": out}, status=201 if any(c for _, c in done) else 200)


@routes.get(
    "/api/orders/{external_id}",
    roles=CALLERS,
    doc=Doc(
        "An order and its verdict",
        query={"source": "the order system (default: default)"},
        returns=obj(order=ANY_OBJ),
    ),
)
async def orders_show(request: web.Request) -> web.Response:
    order = await run_db(
        orders.get_order,
        request.app[ENGINE],
        request.match_info["external_id"],
        request.query.get("source", "default"),
    )
    return web.json_response({"order": orders.order_json(order)})


@routes.post(
    "/api/orders/{external_id}/verdict",
    roles=CALLERS,
    doc=Doc(
        "Set an order's verdict",
        query={"source": "the order system (default: default)"},
        body=obj(
            required=["verdict"],
            verdict=enum("confirmed", "changed", "cancelled", "unreachable"),
            changes=ANY_OBJ,
            reason=STR,
        ),
        returns=obj(order=ANY_OBJ),
        status=201,
    ),
)
async def orders_verdict(request: web.Request) -> web.Response:
    """Body: verdict, changes? (changed), reason? (cancelled). The same verdict again is 200."""
    body = await json_body(request)
    order, created = await run_db(
        orders.set_verdict,
        request.app[ENGINE],
        request.match_info["external_id"],
        body,
        _now(),
        current_identity(request).user_id,
        request.query.get("source", "default"),
    )
    return web.json_response({"order": orders.order_json(order)}, status=201 if created else 200)


@routes.post(
    "/api/return-visits",
    roles=MANAGERS,
    doc=Doc(
        "Push return-visit tasks",
        body=obj(
            required=["campaign"],
            campaign=desc(STR, "id or name"),
            tasks=arr(
                obj(external_id=STR, phone=STR, customer_name=STR, subject=STR, happened_at=TIME)
            ),
        ),
        returns=obj(tasks=arr(ANY_OBJ)),
        status=201,
    ),
)
async def return_visits_push(request: web.Request) -> web.Response:
    """Body: campaign, and tasks: [{external_id, phone, customer_name, subject, happened_at}]."""
    body = await json_body(request)
    engine = request.app[ENGINE]
    items = _batch(body, "tasks")

    def push() -> list[tuple[Any, bool]]:
        return return_visits.add_tasks(
            engine, store.resolve(engine, body.get("campaign") or 0), items
        )

    done = await run_db(push)
    out = [{**return_visits.task_json(t), "created": c} for t, c in done]
    return web.json_response({"tasks": out}, status=201 if any(c for _, c in done) else 200)


# --- surveys --------------------------------------------------------------------------------


@routes.post(
    "/api/surveys",
    roles=SURVEY_READERS,
    doc=Doc(
        "Save a survey definition (outdial surveys template seed --json shows the shape)",
        body=ref("SurveyDefinition"),
        returns=obj(survey=ANY_OBJ),
        status=201,
    ),
)
async def surveys_save(request: web.Request) -> web.Response:
    """Body: a survey definition (``outdial surveys template seed --json`` shows the shape)."""
    survey = surveys.parse_survey(await json_body(request))
    row = await run_db(survey_store.save_survey, request.app[ENGINE], survey)
    return web.json_response({"survey": {"id": row.id, **row.definition}}, status=201)


@routes.post(
    "/api/surveys/{survey_id}/responses",
    roles=ANY_USER,
    doc=Doc(
        "Save agent-led survey answers; each answer commits alone",
        description="A response with every question answered is completed, whatever status says.",
        body=obj(
            required=["idempotency_key"],
            idempotency_key=desc(STR, "e.g. the call id"),
            campaign_id=INT,
            phone=STR,
            answers=desc(ANY_OBJ, "question id -> value"),
            status=enum("completed", "partial"),
        ),
        returns=obj(response=obj(id=INT, status=STR, saved=arr(STR))),
    ),
)
async def surveys_answer(request: web.Request) -> web.Response:
    """Agent-led answers. Body: idempotency_key (e.g. the call id), campaign_id?, phone?,
    answers {question: value}, status? ("completed" to finish). Each answer commits alone."""
    body = await json_body(request)
    engine, ident = request.app[ENGINE], current_identity(request)
    answers = body.get("answers") or {}
    if not isinstance(answers, dict):
        raise InvalidInput("answers maps question ids to values", field="answers")
    sid, key = _int(request, "survey_id"), str_field(body, "idempotency_key")
    if not key:
        raise InvalidInput("idempotency_key is required", field="idempotency_key")

    def save() -> dict[str, Any]:
        row, _ = survey_store.get_survey(engine, sid)
        resp, _ = survey_store.start_response(
            engine,
            row.id or 0,
            key,
            campaign_id=int_field(body, "campaign_id") if body.get("campaign_id") else None,
            agent_id=ident.user_id,
            phone=str_field(body, "phone"),
        )
        status = str_field(body, "status") if body.get("status") else None
        resp = survey_store.save_answers(engine, resp.id or 0, answers, _now(), status)
        return {"id": resp.id, "status": resp.status, "saved": sorted(answers)}

    return web.json_response({"response": await run_db(save)})


@routes.get(
    "/api/surveys/{survey_id}/results",
    roles=SURVEY_READERS,
    doc=Doc(
        "Per-question mean, distribution, top box, CSAT, NPS",
        query={"by": "campaign, agent or day"},
        returns=ANY_OBJ,
    ),
)
async def surveys_results(request: web.Request) -> web.Response:
    """?by=campaign|agent|day for grouped results; a day is a calendar day in the answer's
    campaign's time zone (UTC outside a campaign), named per campaign in ``day_zones``."""
    data = await run_db(
        survey_store.results,
        request.app[ENGINE],
        _int(request, "survey_id"),
        request.query.get("by") or None,
    )
    return web.json_response(data)


@routes.get(
    "/api/surveys/{survey_id}/export",
    roles=SURVEY_READERS,
    doc=Doc(
        "Every response as a table",
        query={"format": "csv (default) or xlsx"},
        content_type="text/csv",
        returns=STR,
    ),
)
async def surveys_export(request: web.Request) -> web.Response:
    """?format=csv (default) or xlsx."""
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("format is csv or xlsx", field="format")
    table = await run_db(survey_store.export_table, request.app[ENGINE], _int(request, "survey_id"))
    if fmt == "xlsx":
        blob = survey_store.to_xlsx(table)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        blob, ctype = survey_store.to_csv(table), "text/csv"
    name = f"survey-{request.match_info['survey_id']}.{fmt}"
    return web.Response(
        body=blob,
        content_type=ctype,
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- webhooks -------------------------------------------------------------------------------


@routes.get(
    "/api/webhooks/dead",
    roles=MANAGERS,
    doc=Doc("Verdict deliveries that failed for 24 h", returns=obj(deliveries=arr(ANY_OBJ))),
)
async def webhooks_dead(request: web.Request) -> web.Response:
    rows = await run_db(orders.deliveries, request.app[ENGINE], "dead")
    return web.json_response({"deliveries": [orders.delivery_json(d) for d in rows]})


@routes.post(
    "/api/webhooks/{delivery_id}/resend",
    roles=MANAGERS,
    doc=Doc("Queue a dead delivery again", returns=obj(delivery=ANY_OBJ)),
)
async def webhooks_resend(request: web.Request) -> web.Response:
    d = await run_db(orders.resend, request.app[ENGINE], _int(request, "delivery_id"), _now())
    return web.json_response({"delivery": orders.delivery_json(d)})


def setup(app: web.Application) -> None:
    """Start the webhook sender and callback housekeeping with the app; stop them with it."""

    async def start(app: web.Application) -> None:
        cfg = app[CONFIG]
        sender = webhooks.WebhookSender(
            app[ENGINE],
            policy=webhook_targets.TargetPolicy(cfg.webhook_allow_http, cfg.webhook_allow_private),
            secrets_file=cfg.webhook_secrets_file,
        )
        app[SENDER_TASK] = asyncio.create_task(webhooks.run_forever(sender))

    async def stop(app: web.Application) -> None:
        task = app.get(SENDER_TASK)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
