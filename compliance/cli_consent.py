"""`outdial consent add|revoke|import|show` (issue 16; rules 9, 26, 30)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from compliance import consent
from outdial.cli import Ctx, emit, json_option, pass_ctx


@click.group("consent")
def consent_group() -> None:
    """Consent records: a marketing call in China needs the person's consent (rule 26).

    \b
    outdial consent add 13800138000 --evidence "web form 2026-11-20, order 123"
    outdial consent import consents.csv      (columns: 手机号, 同意, 同意日期, 同意凭证)
    outdial consent revoke 13800138000 --reason "asked on the phone"
    outdial consent show 13800138000

    A list can also carry consent itself (a 同意/consent column at `lists import`), or rest
    on one basis for every row (`lists import --lawful-basis contract`, for service calls).
    """


def _line(d: dict[str, Any]) -> str:
    return f"{d['number']} {d['status']} at {d['at']}" + (
        f" ({d['evidence']})" if d.get("evidence") else ""
    )


@consent_group.command("add")
@click.argument("number")
@click.option("--evidence", required=True, help="What was agreed, where and when (kept).")
@click.option("--at", "at_text", default=None, help="When it was given (ISO, with zone).")
@click.option("--written", is_flag=True, help="Prior express written consent (rule 10).")
@click.option("--region", default="CN", show_default=True, help="Region for national numbers.")
@json_option
@pass_ctx
def consent_add(
    ctx: Ctx,
    number: str,
    evidence: str,
    at_text: str | None,
    written: bool,
    region: str,
    as_json: bool,
) -> None:
    """Record that NUMBER consented to calls (every campaign, every purpose)."""
    data = consent.add(
        ctx.migrated_engine(),
        number,
        evidence,
        consent.parse_time(at_text),
        region=region,
        written=written,
    )
    emit(as_json, data, _line)


@consent_group.command("revoke")
@click.argument("number")
@click.option("--reason", default="", help="How the person said so (kept).")
@click.option("--region", default="CN", show_default=True)
@json_option
@pass_ctx
def consent_revoke(ctx: Ctx, number: str, reason: str, region: str, as_json: bool) -> None:
    """Record a revocation: NUMBER is not called again and goes on the DNC list (rule 9)."""
    data = consent.revoke(ctx.migrated_engine(), number, reason, region=region)
    emit(as_json, data, _line)


@consent_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--evidence",
    default="",
    help="Evidence for every row (required when the file has no 同意/consent column).",
)
@click.option("--region", default="CN", show_default=True)
@click.option("--timezone", "zone", default="Asia/Shanghai", show_default=True)
@json_option
@pass_ctx
def consent_import(
    ctx: Ctx, file: Path, evidence: str, region: str, zone: str, as_json: bool
) -> None:
    """Record consent from FILE (CSV/XLSX): a phone column and 同意/consent (yes, or
    refused), optionally 同意日期/consent_date and 同意凭证/evidence."""
    data = consent.import_file(ctx.migrated_engine(), file, evidence, region, zone)
    emit(
        as_json,
        data,
        lambda d: (
            f"{d['file']}: {d['granted']} granted, {d['refused']} refused, "
            f"{d['none']} said nothing, {len(d['rejected'])} rejected"
            + "".join(f"\n  row {r['row']}: {r['reason']}" for r in d["rejected"][:20])
        ),
    )


@consent_group.command("show")
@click.argument("number", required=False)
@click.option("--region", default="CN", show_default=True)
@json_option
@pass_ctx
def consent_show(ctx: Ctx, number: str | None, region: str, as_json: bool) -> None:
    """NUMBER's consent history (the latest 1000 events without NUMBER)."""
    rows = consent.history(ctx.migrated_engine(), number, region)
    emit(as_json, rows, lambda rs: "\n".join(_line(r) for r in rs) or "no consent recorded")
