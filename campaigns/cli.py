"""`outdial campaigns|surveys|callbacks|orders|webhooks ...`: every command takes ``--json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from campaigns import (
    callbacks,
    files,
    orders,
    rules,
    schema,
    store,
    survey_store,
    surveys,
    templates,
)
from outdial.cli import Ctx, emit, json_option, pass_ctx
from outdial.errors import Conflict, NotFound


def _now() -> datetime:
    return datetime.now(UTC)


# --- campaigns ------------------------------------------------------------------------------


@click.group("campaigns")
def campaigns_group() -> None:
    """Campaigns: kinds, schedules, retry rules, scripts, dispositions, dialing.

    Start from a complete definition: outdial campaigns new --kind return_visit > FILE,
    edit it, then outdial campaigns load FILE. Every key: outdial campaigns schema.
    """


def _brief(d: dict[str, Any]) -> str:
    return f"{d['id']:>4} {d['name']:<32} {d['kind']:<20} {d['mode']:<12} {d['status']}"


@campaigns_group.command("create")
@click.argument("name")
@click.option("--kind", default="generic", type=click.Choice([k.value for k in rules.Kind]))
@click.option("--mode", default="progressive", type=click.Choice([m.value for m in rules.Mode]))
@click.option("--caller-id", required=True, help="E.164 number shown to customers (rule 11).")
@click.option("--timezone", default="Asia/Shanghai")
@click.option("--region", default="CN")
@click.option("--script", default="", help="Agent script; {field} is filled from the record.")
@click.option("--webhook-url", default="")
@json_option
@pass_ctx
def campaigns_create(ctx: Ctx, /, name: str, as_json: bool, **opts: str) -> None:
    """Create a campaign (defaults for everything a file could set)."""
    engine = ctx.migrated_engine()
    spec = rules.parse_campaign({"name": name, **opts})
    try:
        store.by_name(engine, spec.name)
    except NotFound:
        pass
    else:
        raise Conflict(f"campaign {name!r} already exists", name=name)
    row, _ = store.save_spec(engine, spec)
    emit(as_json, store.campaign_json(engine, row), lambda d: f"created campaign {d['id']}")


@campaigns_group.command("list")
@json_option
@pass_ctx
def campaigns_list(ctx: Ctx, as_json: bool) -> None:
    """List campaigns."""
    engine = ctx.migrated_engine()
    rows = [store.campaign_json(engine, c) for c in store.all_campaigns(engine)]
    emit(as_json, rows, lambda rs: "\n".join(map(_brief, rs)) or "no campaigns")


@campaigns_group.command("show")
@click.argument("campaign")
@json_option
@pass_ctx
def campaigns_show(ctx: Ctx, campaign: str, as_json: bool) -> None:
    """Show one campaign (by id or name) with its definition."""
    engine = ctx.migrated_engine()
    data = store.campaign_json(engine, store.resolve(engine, campaign))
    emit(as_json, data, _show)


def _show(d: dict[str, Any]) -> str:
    spec = d["definition"]
    lines = [_brief(d), f"  version {d['version']}, purpose {spec.get('purpose', '')}"]
    dialing = spec.get("dialing", {})
    lines.append("  dialing:")
    for key, value in dialing.items():
        lines.append(f"    {key:<26} {json.dumps(value, ensure_ascii=False)}")
    if "max_lines" not in dialing:
        lines.append(f"    {'max_lines':<26} the trunk's (OUTDIAL_SIP_MAX_LINES)")
    return "\n".join(lines)


@campaigns_group.command("new")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(list(templates.KINDS)),
    help="What the campaign is for; sets the dispositions, script and default mode.",
)
@click.option(
    "--mode",
    default=None,
    type=click.Choice([m.value for m in rules.Mode]),
    help="Dialing mode (default: progressive; survey: agentless; callback: preview).",
)
@json_option
def campaigns_new(kind: str, mode: str | None, as_json: bool) -> None:
    """Print a complete, commented campaign definition (TOML) to edit and load.

    \b
    outdial campaigns new --kind return_visit > spring.toml
    $EDITOR spring.toml && outdial campaigns load spring.toml
    """
    text = templates.render(kind, mode)
    spec = files.definition(files.parse_text(text, ".toml"))  # never print a bad template
    data = {"kind": kind, "mode": spec.mode.value, "toml": text}
    emit(as_json, data, lambda d: d["toml"].rstrip("\n"))


@campaigns_group.command("schema")
@json_option
def campaigns_schema(as_json: bool) -> None:
    """Print the JSON Schema of a campaign definition (also GET /api/schemas/campaign.json)."""
    emit(True, schema.campaign_schema(), "")


@campaigns_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def campaigns_load(ctx: Ctx, file: Path, as_json: bool) -> None:
    """Create or update a campaign from a TOML or JSON file."""
    engine = ctx.migrated_engine()
    row, version, secret = files.load(engine, file)
    data = store.campaign_json(engine, row)
    if secret:
        data["webhook_secret"] = secret  # shown this once; rotate with `campaigns rotate-secret`

    def human(d: dict[str, Any]) -> str:
        line = f"loaded campaign {d['name']!r} (id {d['id']}, version {version})"
        if secret:
            line += f"\nwebhook secret (shown once): {secret}"
        return line

    emit(as_json, data, human)


@campaigns_group.command("rotate-secret")
@click.argument("campaign")
@json_option
@pass_ctx
def campaigns_rotate_secret(ctx: Ctx, campaign: str, as_json: bool) -> None:
    """Replace a campaign's webhook secret; the new one is shown once."""
    engine = ctx.migrated_engine()
    row = store.resolve(engine, campaign)
    secret = store.rotate_webhook_secret(engine, row.id or 0)
    emit(as_json, {"campaign": row.name, "webhook_secret": secret}, lambda d: d["webhook_secret"])


# --- surveys --------------------------------------------------------------------------------


@click.group("surveys")
def surveys_group() -> None:
    """Satisfaction surveys: templates, results, exports."""


@surveys_group.group("template")
def template_group() -> None:
    """Built-in survey templates."""


@template_group.command("seed")
@click.option("--save", is_flag=True, help="Also store it in the database as a survey.")
@json_option
@pass_ctx
def template_seed(ctx: Ctx, save: bool, as_json: bool) -> None:
    """The seeds' six questions (five 1-5 scales and one open comment), zh and en.

    With --save it is stored, and its name and id are printed: use either wherever a
    survey is named (a campaign's `survey = "..."`, `outdial surveys results NAME`).
    """
    data = surveys.survey_to_dict(surveys.SEED_TEMPLATE)
    if save:
        data["id"] = survey_store.save_survey(ctx.migrated_engine(), surveys.SEED_TEMPLATE).id

    def human(d: dict[str, Any]) -> str:
        head = [f"saved survey {d['name']!r} (id {d['id']})"] if "id" in d else []
        return "\n".join(
            head + [f"{q['id']:<10} {q['kind']:<6} {q['zh']} / {q['en']}" for q in d["questions"]]
        )

    emit(as_json, data, human)


@surveys_group.command("list")
@json_option
@pass_ctx
def surveys_list(ctx: Ctx, as_json: bool) -> None:
    """Stored surveys: id, name, questions, responses (completed of all)."""
    rows = survey_store.list_surveys(ctx.migrated_engine())
    emit(
        as_json,
        rows,
        lambda rs: (
            "\n".join(
                f"{r['id']:>4} {r['name']:<32} {r['questions']} questions, "
                f"{r['completed']} of {r['responses']} responses completed"
                for r in rs
            )
            or "no surveys (outdial surveys template seed --save stores the seeds' one)"
        ),
    )


@surveys_group.command("results")
@click.argument("survey")
@click.option("--by", type=click.Choice(surveys.GROUPS), default=None)
@json_option
@pass_ctx
def surveys_results(ctx: Ctx, survey: str, by: str | None, as_json: bool) -> None:
    """Per-question mean, distribution, top box, CSAT and NPS.

    Days (--by day) are calendar days in each campaign's time zone (UTC outside a campaign).
    """
    data = survey_store.results(ctx.migrated_engine(), survey, by)
    emit(as_json, data, _results_text)


def _results_text(d: dict[str, Any]) -> str:
    """One line per question and group: n, mean, top box, CSAT/NPS and the distribution."""
    lines = []
    if d["by"] == "day" and d["day_zones"]:
        zones = ", ".join(f"{c or '(no campaign)'}: {z}" for c, z in d["day_zones"].items())
        lines.append(f"days in: {zones}")
    for key, stats in d["groups"].items():
        for st in stats:
            parts = [f"{key:<16} {st['question_id']:<10} n={st['count']:<5}"]
            if "mean" in st:
                parts.append(f"mean={st['mean']:.2f}")
            for name, label in (("top_box_share", "top box"), ("csat", "CSAT")):
                if name in st:
                    parts.append(f"{label} {st[name]:.0%}")
            if "nps" in st:
                parts.append(f"NPS {st['nps']:+.0f}")
            if "yes_share" in st:
                parts.append(f"yes {st['yes_share']:.0%}")
            if st.get("distribution"):
                parts.append(
                    "[" + " ".join(f"{k}:{v}" for k, v in st["distribution"].items()) + "]"
                )
            if st.get("open_answers"):
                parts.append(f"{len(st['open_answers'])} comments")
            lines.append(" ".join(parts))
    return "\n".join(lines) or "no answers yet"


@surveys_group.command("export")
@click.argument("survey")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def surveys_export(ctx: Ctx, survey: str, out: Path, as_json: bool) -> None:
    """Write every response to OUT (.csv or .xlsx)."""
    table = survey_store.export_table(ctx.migrated_engine(), survey)
    blob = survey_store.to_xlsx(table) if out.suffix == ".xlsx" else survey_store.to_csv(table)
    out.write_bytes(blob)
    data = {"path": str(out), "responses": len(table) - 1}
    emit(as_json, data, lambda d: f"wrote {d['responses']} responses to {d['path']}")


# --- callbacks, orders, webhooks ------------------------------------------------------------


@click.group("callbacks")
def callbacks_group() -> None:
    """Scheduled callbacks."""


@callbacks_group.command("list")
@click.option(
    "--status", default="pending", type=click.Choice(["pending", "done", "cancelled", "all"])
)
@json_option
@pass_ctx
def callbacks_list(ctx: Ctx, status: str, as_json: bool) -> None:
    """List callbacks (every owner), earliest due first."""
    rows = callbacks.list_callbacks(
        ctx.migrated_engine(), None, None if status == "all" else status
    )
    data = [callbacks.callback_json(c) for c in rows]
    emit(
        as_json,
        data,
        lambda rs: (
            "\n".join(
                f"{r['id']:>5} {r['due_at']} {r['local_time']} {r['customer_zone']:<16} "
                f"{r['phone']} {r['customer_name'] or '-'} campaign {r['campaign_id']} "
                f"{r['owner_kind']}:{r['owner_id'] or '-'} {r['status']}"
                for r in rs
            )
            or "no callbacks"
        ),
    )


@click.group("orders")
def orders_group() -> None:
    """Orders to verify."""


@orders_group.command("show")
@click.argument("external_id")
@click.option("--source", default="default")
@json_option
@pass_ctx
def orders_show(ctx: Ctx, external_id: str, source: str, as_json: bool) -> None:
    """Show an order and its verdict."""
    data = orders.order_json(orders.get_order(ctx.migrated_engine(), external_id, source))
    emit(
        as_json,
        data,
        lambda d: f"{d['external_id']} ship by {d['ship_by']}: {d['verdict'] or 'no verdict yet'}",
    )


@click.group("webhooks")
def webhooks_group() -> None:
    """Verdict webhooks: the dead-letter list and manual re-send."""


@webhooks_group.command("dead")
@json_option
@pass_ctx
def webhooks_dead(ctx: Ctx, as_json: bool) -> None:
    """Deliveries that failed for 24 h."""
    data = [orders.delivery_json(d) for d in orders.deliveries(ctx.migrated_engine(), "dead")]
    emit(
        as_json,
        data,
        lambda rs: (
            "\n".join(
                f"{r['id']:>5} {r['url']} attempts={r['attempts']} {r['last_error']}" for r in rs
            )
            or "no dead letters"
        ),
    )


@webhooks_group.command("resend")
@click.argument("delivery_id", type=int)
@json_option
@pass_ctx
def webhooks_resend(ctx: Ctx, delivery_id: int, as_json: bool) -> None:
    """Queue a delivery again with a fresh 24 h schedule (the server sends it)."""
    d = orders.resend(ctx.migrated_engine(), delivery_id, _now())
    emit(as_json, orders.delivery_json(d), lambda r: f"delivery {r['id']} queued again")


def register(group: click.Group) -> None:
    for g in (campaigns_group, surveys_group, callbacks_group, orders_group, webhooks_group):
        group.add_command(g)
