"""`outdial lists ...`: import a call list, show lists, export contacts and rejects."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from compliance.profiles import LAWFUL_BASES
from lists import columns, export, importer, store
from outdial.cli import Ctx, emit, json_option, pass_ctx


def register(group: click.Group) -> None:
    group.add_command(lists_group)


@click.group("lists")
def lists_group() -> None:
    """Call lists: import CSV/XLSX files, look at them, export them."""


@lists_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", required=True, help="Name of an existing campaign (see --create).")
@click.option(
    "--create",
    "create_campaign",
    is_flag=True,
    help="Create the campaign when it does not exist (it gets no schedule or caller ID: "
    "load a definition before starting it).",
)
@click.option("--list", "list_name", default=None, help="List name (default: the file name).")
@click.option("--region", default=None, help="Default region for numbers, e.g. CN.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Map a column: phone=手机号, name=客户姓名, order_id=..., address=..., "
    "visit_date=送货日期 (return_visit campaigns; repeatable).",
)
@click.option("--encoding", default=None, help="utf-8, utf-8-sig, utf-16, gbk or gb18030.")
@click.option("--sheet", default=None, help="Workbook sheet (default: the first).")
@click.option("--dedupe", type=click.Choice(importer.DEDUPE_MODES), default=None)
@click.option(
    "--purpose",
    default="",
    help="Free text: why these people are called (rule 30). The campaign's purpose "
    "(service or marketing) is set in its definition.",
)
@click.option(
    "--lawful-basis",
    type=click.Choice(LAWFUL_BASES),
    default=None,
    help="One basis for every row, stated by you and written to the audit trail (a service "
    "campaign may rest on contract; marketing needs consent). Per-row consent: a column "
    "同意/consent (yes/是), with 同意日期/consent_date and 同意凭证/evidence.",
)
@click.option("--source", default="", help="Where the data came from (CRM, web form, ...).")
@json_option
@pass_ctx
def lists_import(
    ctx: Ctx,
    file: Path,
    campaign: str,
    create_campaign: bool,
    list_name: str | None,
    region: str | None,
    maps: tuple[str, ...],
    encoding: str | None,
    sheet: str | None,
    dedupe: str | None,
    purpose: str,
    lawful_basis: str | None,
    source: str,
    as_json: bool,
) -> None:
    """Import FILE into a campaign's list and print the import report."""
    opts = importer.ImportOptions(
        campaign=campaign,
        list_name=list_name,
        region=region.upper() if region else None,
        mapping=columns.parse_mapping(maps),
        encoding=encoding,
        sheet=sheet,
        dedupe=dedupe,
        purpose=purpose,
        lawful_basis=lawful_basis or "",
        uploader=f"cli:{getpass.getuser()}",
        source=source,
        create_campaign=create_campaign,
    )
    engine = ctx.migrated_engine()
    bar = _Bar() if sys.stderr.isatty() else None
    try:
        report = importer.import_file(engine, file, opts, progress=bar)
    finally:
        if bar:
            bar.close()
    emit(as_json, report, format_report)


class _Bar:
    """A click progress bar on stderr, only on a terminal; stdout stays the report."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "done":
            if self.bar is not None:
                self.bar.update(total - self.bar.pos)
            self.close()
            return
        if phase != self.phase and total:
            self.close()
            self.phase = phase
            self.bar = click.progressbar(
                length=total, label=f"{phase:<12}", file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def format_report(r: dict[str, Any]) -> str:
    if r.get("already_imported"):
        return (
            f"already imported: this file went into list {r.get('list')!r} "
            f"(job {r.get('job_id')}); nothing changed"
        )
    lines = [
        f"list {r['list']!r} (id {r['list_id']}) in campaign {r['campaign']!r}: "
        f"{r['rows_read']} rows read in {r['seconds']} s ({r['encoding']})",
        f"  imported    {r['imported']}",
        f"  suppressed  {r['suppressed']}  (on the do-not-call list: kept, never dialed)",
        f"  rejected    {r['rejected']}",
    ]
    lines += [f"    {k:<22}{v}" for k, v in r["rejected_by_reason"].items()]
    lines.append(f"  duplicates  {r['duplicates']}  (dedupe: {r['dedupe']})")
    lines += [f"    {k:<22}{v}" for k, v in r["duplicates_by_kind"].items()]
    cols = r["columns"]
    lines.append(
        f"  columns: phone={'+'.join(cols['phone'])} name={cols['name']} "
        f"order_id={cols['order_id']} address={cols['address']} custom={len(cols['custom'])}"
    )
    if r.get("formula_cells"):
        lines.append(f"  {r['formula_cells']} formula-like cells kept as text")
    if r.get("lawful_basis"):
        lines.append(f"  lawful basis: {r['lawful_basis']} (every row; in the audit trail)")
    c = r.get("consent")
    if c:
        lines.append(
            f"  consent ({c['column']}): {c['granted']} granted, {c['refused']} refused, "
            f"{c['none']} not given"
            + (f", {c['bad_date']} unreadable dates" if c["bad_date"] else "")
        )
    return "\n".join(lines)


@lists_group.command("show")
@click.option("--campaign", default=None, help="Only this campaign's lists.")
@json_option
@pass_ctx
def lists_show(ctx: Ctx, campaign: str | None, as_json: bool) -> None:
    """List call lists with their contact counts."""
    rows = [
        {
            "id": lst.id,
            "campaign": camp,
            "name": lst.name,
            "status": lst.status,
            "region": lst.region,
            "contacts": n,
            "created_at": lst.created_at.isoformat(),
        }
        for lst, camp, n in store.lists_of(ctx.migrated_engine(), campaign)
    ]
    emit(
        as_json,
        rows,
        lambda rs: (
            "\n".join(
                f"{r['id']:>4} {r['campaign']:<20} {r['name']:<24} {r['status']:<10} "
                f"{r['contacts']:>9}"
                for r in rs
            )
            or "no lists"
        ),
    )


@lists_group.command("contacts")
@click.argument("list_id", type=int)
@click.option("--rejects", is_flag=True, help="Export the rejected rows instead.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_ctx
def lists_contacts(ctx: Ctx, list_id: int, rejects: bool, out: Path | None) -> None:
    """Export a list's contacts (or its rejected rows) as CSV, to --out or stdout."""
    engine = ctx.migrated_engine()
    lines: Iterator[str] = (
        export.rejects_csv(engine, list_id) if rejects else export.contacts_csv(engine, list_id)
    )
    if out is None:
        for line in lines:
            click.echo(line, nl=False)
        return
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(lines)
