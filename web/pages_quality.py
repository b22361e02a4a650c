"""Quality review (质检, issue 19): the review queue, one call with its recording and the
scorecard to fill, and the scorecards themselves. Rules and arithmetic live in quality/;
these handlers read through it and render."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from outdial.errors import OutdialError
from outdial.roles import Role
from quality import cards, recordings, review, sampling, store
from quality.errors import CardInvalid, QualityNotFound, RuleInvalid
from web import inputs
from web.disposition_words import disposition_text
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes
from web.shell import lang_of, render

routes = Routes()
#: who reviews calls and keeps scorecards
REVIEWERS = frozenset({Role.QA, Role.MANAGER, Role.ADMIN})
#: the card the page shows as an example (quality.cards.example_card)
EXAMPLE_CARD = json.dumps(cards.example_card(), ensure_ascii=False, indent=2)


def _int(request: web.Request, key: str) -> int:
    try:
        return int(request.match_info[key])
    except ValueError:
        raise web.HTTPNotFound() from None


# --- the queue --------------------------------------------------------------------------


async def _queue_page(
    request: web.Request, added: int | None = None, rule_error: str = ""
) -> web.Response:
    engine = request.app[ENGINE]
    ctx = {
        "queue": await run_db(review.queue, engine),
        "cards": await run_db(store.current_cards, engine),
        "added": added,
        "rule": await run_db(review.get_rule, engine),
        "rule_error": rule_error,
    }
    name = "_quality_queue.html" if request.headers.get("HX-Request") else "quality.html"
    return render(name, request, ctx)


@routes.get("/quality", roles=REVIEWERS)
async def queue_page(request: web.Request) -> web.Response:
    """The review queue: disputes, complaints, low survey scores, then the routine sample."""
    return await _queue_page(request)


@routes.post("/quality/sample", roles=REVIEWERS)
async def draw_sample(request: web.Request) -> web.Response:
    """Add this week's sample (quality/sampling.py) to the queue."""
    added = await run_db(review.fill_queue, request.app[ENGINE], datetime.now(UTC))
    return await _queue_page(request, added=added)


@routes.post("/quality/rule", roles=REVIEWERS)
async def save_rule(request: web.Request) -> web.Response:
    """Change the weekly sampling rule (used from the next draw on)."""
    form = await inputs.form_body(request)
    try:
        values = [str(form.get(k, "")).strip() for k in review.RULE_FIELDS]
        floor = str(form.get("low_score_floor", "")).strip()
        if not all(v.isdigit() and len(v) < 4 for v in values):
            raise RuleInvalid("calls per agent and days are whole numbers", field="rule")
        try:
            floor_value = float(floor)
        except ValueError:
            raise RuleInvalid("the low-score floor is a number", field="low_score_floor") from None
        per_agent, new_extra, new_days, low_extra = (int(v) for v in values)
        rule = sampling.Rule(per_agent, new_extra, new_days, low_extra, floor_value)
        await run_db(
            review.save_rule,
            request.app[ENGINE],
            rule,
            current_identity(request).user_id,
            datetime.now(UTC),
        )
    except OutdialError as err:
        return await _queue_page(request, rule_error=err.message)
    return await _queue_page(request)


# --- one call ---------------------------------------------------------------------------


def recording_of(data_dir: Path, call_id: str) -> Path | None:
    """DATA_DIR/recordings/<call id>.wav when the call was recorded."""
    try:
        path = recordings.recording_path(data_dir, call_id)
    except ValueError:
        return None
    return path if path.is_file() else None


async def _review_ctx(
    request: web.Request, attempt_id: int, card_id: int | None = None
) -> dict[str, Any]:
    engine = request.app[ENGINE]
    detail = await run_db(review.call_detail, engine, attempt_id)
    card_row, card, card_error = None, None, ""
    try:
        card_row, card = await run_db(store.card_for, engine, card_id, detail["campaign"].kind)
    except (CardInvalid, QualityNotFound) as err:
        card_error = err.message
    rec = recording_of(request.app[CONFIG].data_dir, detail["attempt"].call_id)
    disputed = [e for e in detail["evaluations"] if e["status"] == review.Status.DISPUTED]
    code = detail["attempt"].disposition or ""
    # a default label in the reader's language ("Success / 成功" is stored data), as the desk
    word = disposition_text(code, detail["disposition_label"], lang_of(request).gettext)
    return {
        **detail,
        "disposition_label": word if code and word != code else "",
        "card_row": card_row,
        "card": card,
        "card_error": card_error,
        "cards": await run_db(store.current_cards, engine),
        "recorded": rec is not None,
        "disputed": disputed,
        "answers": {},
        "comment": "",
        "error": "",
        "saved": None,
        "score": None,
    }


@routes.get("/quality/calls/{attempt_id}", roles=REVIEWERS)
async def review_page(request: web.Request) -> web.Response:
    """One call: recording, record, disposition, survey answers, and the scorecard."""
    card_id = request.query.get("card", "")
    ctx = await _review_ctx(
        request, _int(request, "attempt_id"), int(card_id) if card_id.isdigit() else None
    )
    return render("quality_review.html", request, ctx)


def _answers_of(form: Any, card: cards.Card) -> dict[str, str]:
    return {i.id: str(form.get(f"item-{i.id}", "")) for i in card.items()}


@routes.post("/quality/calls/{attempt_id}/score", roles=REVIEWERS)
async def preview_score(request: web.Request) -> web.Response:
    """The composite of the card as filled so far (computed by quality/cards.py)."""
    form = await inputs.form_body(request)
    card_id = str(form.get("card_id", ""))
    if not card_id.isdigit():
        raise CardInvalid("choose a scorecard", field="card_id")
    _, card = await run_db(store.get_card, request.app[ENGINE], int(card_id))
    raw = _answers_of(form, card)
    missing = [i for i in card.items() if not raw[i.id]]
    score = None
    if not missing:
        try:
            score = cards.score(card, cards.parse_answers(card, raw))
        except OutdialError:
            score = None
    ctx = {"score": score, "card": card, "missing": len(missing)}
    return render("_quality_score.html", request, ctx)


@routes.post("/quality/calls/{attempt_id}", roles=REVIEWERS)
async def save_review(request: web.Request) -> web.Response:
    """Save the filled card (committed before the answer); a problem keeps what was typed."""
    attempt_id = _int(request, "attempt_id")
    form = await inputs.form_body(request)
    card_id = str(form.get("card_id", ""))
    comment = inputs.check_text(str(form.get("comment", "")).strip()[:4000], "comment")
    ctx = await _review_ctx(request, attempt_id, int(card_id) if card_id.isdigit() else None)
    card = ctx["card"]
    if card is None:
        raise CardInvalid(ctx["card_error"] or "choose a scorecard", field="card_id")
    raw = _answers_of(form, card)
    ident = current_identity(request)
    try:
        ev = await run_db(
            review.evaluate,
            request.app[ENGINE],
            attempt_id,
            ctx["card_row"].id,
            raw,
            comment,
            ident.user_id,
            datetime.now(UTC),
        )
    except OutdialError as err:
        ctx.update(answers=raw, comment=comment, error=err.message)
        return render("_quality_form.html", request, ctx, status=400)
    ctx = await _review_ctx(request, attempt_id, ctx["card_row"].id)
    ctx["saved"] = ev
    return render("_quality_form.html", request, ctx)


@routes.post("/quality/evaluations/{evaluation_id}/uphold", roles=REVIEWERS)
async def uphold(request: web.Request) -> web.Response:
    """Keep a disputed score, with a reply to the agent."""
    form = await inputs.form_body(request)
    reply = inputs.check_text(str(form.get("reply", "")).strip()[:4000], "reply")
    if not reply:
        raise CardInvalid("write the agent a reply: why the score stands", field="reply")
    await run_db(review.uphold, request.app[ENGINE], _int(request, "evaluation_id"), reply)
    return web.Response(status=204, headers={"HX-Redirect": "/quality"})


@routes.get("/quality/recordings/{attempt_id}", roles={*REVIEWERS, Role.AGENT})
async def recording(request: web.Request) -> web.StreamResponse:
    """The call's recording (ranges served, so the player can seek). An agent gets only
    their own calls."""
    detail = await run_db(review.call_detail, request.app[ENGINE], _int(request, "attempt_id"))
    ident = current_identity(request)
    if ident.role is Role.AGENT and detail["attempt"].agent_user_id != ident.user_id:
        raise web.HTTPNotFound()
    path = recording_of(request.app[CONFIG].data_dir, detail["attempt"].call_id)
    if path is None:
        raise web.HTTPNotFound()
    resp = web.FileResponse(path, headers={"Content-Type": "audio/wav"})
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# --- scorecards -------------------------------------------------------------------------


async def _cards_page(request: web.Request, **extra: Any) -> web.Response:
    ctx = {
        "rows": await run_db(store.card_rows, request.app[ENGINE]),
        "example": EXAMPLE_CARD,
        "text": "",
        "error": "",
        "saved": None,
        **extra,
    }
    name = "_quality_cards.html" if request.headers.get("HX-Request") else "quality_cards.html"
    return render(name, request, ctx)


@routes.get("/quality/cards", roles=REVIEWERS)
async def cards_page(request: web.Request) -> web.Response:
    return await _cards_page(request)


def parse_definition(text: str) -> object:
    """A card definition as JSON, or TOML; a clear error when it is neither."""
    if not text.strip():
        raise CardInvalid("paste a scorecard definition (JSON or TOML)", field="definition")
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CardInvalid(
                f"not valid JSON: {exc.msg} at line {exc.lineno}", field="definition"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardInvalid(f"neither JSON nor valid TOML: {exc}", field="definition") from None


@routes.post("/quality/cards", roles=REVIEWERS)
async def save_card(request: web.Request) -> web.Response:
    """A new card, or a new version of a card with the same name."""
    form = await inputs.form_body(request)
    text = inputs.check_text(str(form.get("definition", ""))[:100_000], "definition")
    try:
        raw = parse_definition(text)
        row = await run_db(
            store.save_card,
            request.app[ENGINE],
            raw,
            current_identity(request).user_id,
            datetime.now(UTC),
        )
    except OutdialError as err:
        return await _cards_page(request, text=text, error=err.message)
    return await _cards_page(request, saved=row)


@routes.post("/quality/cards/{name}/retire", roles=REVIEWERS)
async def retire_card(request: web.Request) -> web.Response:
    await run_db(
        store.retire_card,
        request.app[ENGINE],
        request.match_info["name"],
        current_identity(request).user_id,
        datetime.now(UTC),
    )
    return await _cards_page(request)
