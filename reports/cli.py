"""`outdial reports ...`: KPI reports, targets, report files and the staffing forecast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from outdial.cli import Ctx, emit, json_option, pass_ctx
from outdial.models import utcnow
from reports import export, service, targets


def register(group: click.Group) -> None:
    group.add_command(reports_group)


@click.group("reports")
def reports_group() -> None:
    """KPI reports (shared/domain.md): by interval and dimension, exports, targets."""


def _text(data: dict[str, Any]) -> str:
    cols = data["columns"]
    lines = [f"zone {data['zone']}, interval {data['interval']}, {len(data['rows'])} rows"]
    lines.append("\t".join(cols))
    for r in data["rows"]:
        lines.append("\t".join("" if r[c] is None else str(r[c]) for c in cols))
    lines.extend(f"note: {n}" for n in data["notes"])
    return "\n".join(lines)


@reports_group.command("kpi")
@click.option("--from", "start", required=True, help="ISO date or time (report zone if naive).")
@click.option("--to", "end", required=True, help="ISO date (inclusive) or time (exclusive).")
@click.option("--interval", default="30m", help="30m, 1h, day, week or month.")
@click.option("--by", default="", help="agent,campaign,kind,list,region,col:<list column>")
@click.option("--kpi", default="", help="Comma-separated KPI names (default: all).")
@click.option("--campaign", multiple=True, help="Only these campaigns (repeatable).")
@click.option("--zone", default=None, help="Report zone (default: the campaigns' own zone).")
@click.option(
    "--include-simulated",
    is_flag=True,
    help="Count the simulated carrier's calls and simulated agents too (left out by default).",
)
@click.option("--lang", default="en", help="Column names of exports: en or zh-CN.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--xlsx", "xlsx_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def kpi(
    ctx: Ctx,
    start: str,
    end: str,
    interval: str,
    by: str,
    kpi: str,
    campaign: tuple[str, ...],
    zone: str | None,
    include_simulated: bool,
    lang: str,
    csv_file: Path | None,
    xlsx_file: Path | None,
    as_json: bool,
) -> None:
    """KPIs per interval and dimension, e.g. --from 2026-12-01 --to 2026-12-07 --by agent."""
    lang = export.check_lang(lang)
    engine = ctx.migrated_engine()
    params: dict[str, Any] = {"from": start, "to": end, "interval": interval, "by": by, "kpi": kpi}
    params |= {"campaign": list(campaign), "zone": zone, "include_simulated": include_simulated}
    rep = service.kpi_report(engine, params, utcnow())
    if csv_file:
        csv_file.write_bytes(export.to_csv(rep, lang))
    if xlsx_file:
        xlsx_file.write_bytes(export.to_xlsx(rep, lang))
    data = rep.as_dict()
    if (csv_file or xlsx_file) and not as_json:
        click.echo(f"wrote {len(rep.rows)} rows to {csv_file or ''} {xlsx_file or ''}".strip())
        return
    emit(as_json, data, _text)


@reports_group.group("targets")
def targets_group() -> None:
    """Targets per KPI (shown red/green in reports)."""


@targets_group.command("list")
@json_option
@pass_ctx
def targets_list(ctx: Ctx, as_json: bool) -> None:
    data = targets.load(ctx.migrated_engine())
    emit(as_json, data, lambda d: "\n".join(f"{k} {v['op']} {v['value']}" for k, v in d.items()))


@targets_group.command("set")
@click.argument("kpi_name")
@click.argument("value")
@click.option("--op", default=None, help=">= or <= (default: the KPI's good direction).")
@json_option
@pass_ctx
def targets_set(ctx: Ctx, kpi_name: str, value: str, op: str | None, as_json: bool) -> None:
    data = targets.set_target(ctx.migrated_engine(), kpi_name, op, value)
    emit(as_json, data, lambda d: f"{d['kpi']} {d['op']} {d['value']}")


@reports_group.command("forecast")
@click.option("--campaign", required=True, help="Campaign name.")
@click.option("--deadline", required=True, help="ISO time (campaign zone if naive).")
@click.option("--history-days", default=14, type=click.IntRange(1, 400), show_default=True)
@click.option("--answer-within", default=60.0, show_default=True, help="Callback queue target, s.")
@click.option("--level", default=0.8, show_default=True, help="Callback service level, 0-1.")
@json_option
@pass_ctx
def forecast_cmd(
    ctx: Ctx,
    campaign: str,
    deadline: str,
    history_days: int,
    answer_within: float,
    level: float,
    as_json: bool,
) -> None:
    """Staffing forecast (排班预测): agents per half hour to finish the list by the deadline."""
    from reports import forecast_store

    data = forecast_store.plan(
        ctx.migrated_engine(), campaign, deadline, utcnow(), history_days, answer_within, level
    )
    emit(as_json, data, _plan_text)


def _plan_text(d: dict[str, Any]) -> str:
    r = d["rates"]
    lines = [
        f"{d['campaign']}: {d['records_left']} records left by {d['deadline']} ({d['zone']})",
        f"talk share {r['talk_share']}, talk {r['talk_seconds']} s, AHT {r['aht']} s, "
        f"answer rate {r['answer_rate']}",
        "half hour\topen\tcontacts\tdials\tagents\tcallbacks\tcallback agents",
    ]
    for h in d["half_hours"]:
        lines.append(
            f"{h['label']}\t{h['open_share']}\t{h['contacts']}\t{h['dials']}\t{h['agents']}"
            f"\t{h['callbacks_due']}\t{h['callback_agents']}"
        )
    return "\n".join(lines)
