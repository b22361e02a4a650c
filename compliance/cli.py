"""`outdial dnc ...`, `outdial audit verify`, `outdial compliance ...`."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from compliance import registry, store
from outdial.cli import Ctx, emit, json_option, pass_ctx
from outdial.errors import InvalidInput
from outdial.models import as_utc


@click.group()
def dnc() -> None:
    """The internal do-not-call list and national registry snapshots (rules 7, 8, 24)."""


@dnc.command("add")
@click.argument("number")
@click.option("--reason", default="", help="Why (kept with the entry).")
@click.option("--region", default="CN", show_default=True, help="Region for national numbers.")
@json_option
@pass_ctx
def dnc_add(ctx: Ctx, number: str, reason: str, region: str, as_json: bool) -> None:
    """Suppress NUMBER from now on, for every campaign."""
    entry, created = store.dnc_add(ctx.migrated_engine(), number, "manual", reason, region=region)
    data = {"number": entry.number, "added": created, "captured_at": as_utc(entry.captured_at)}
    emit(as_json, data, lambda d: f"{d['number']} " + ("added" if d["added"] else "already listed"))


@dnc.command("remove")
@click.argument("number")
@click.option("--region", default="CN", show_default=True)
@json_option
@pass_ctx
def dnc_remove(ctx: Ctx, number: str, region: str, as_json: bool) -> None:
    """Lift a suppression (audited)."""
    removed = store.dnc_remove(ctx.migrated_engine(), number, region, by="cli")
    data = {"number": store.normalize(number, region), "removed": removed}
    emit(
        as_json,
        data,
        lambda d: f"{d['number']} " + ("removed" if d["removed"] else "was not listed"),
    )


@dnc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--registry",
    "registry_name",
    default=None,
    help="Load a national registry snapshot instead (us-national, uk-tps, uk-ctps).",
)
@click.option("--as-of", "as_of", default=None, help="Snapshot date of a registry (YYYY-MM-DD).")
@click.option("--region", default="CN", show_default=True)
@json_option
@pass_ctx
def dnc_import(
    ctx: Ctx, file: Path, registry_name: str | None, as_of: str | None, region: str, as_json: bool
) -> None:
    """Add every number of FILE (one per line) to the internal list, or load a registry."""
    engine = ctx.migrated_engine()
    if registry_name:
        if not as_of:
            raise InvalidInput("a registry snapshot needs --as-of YYYY-MM-DD (rules 7, 24)")
        try:
            snapshot = date.fromisoformat(as_of)
        except ValueError as exc:
            raise InvalidInput(f"--as-of is not a date: {as_of!r}") from exc
        reg = registry.from_file(registry_name, snapshot, file)
        snap = store.registry_save(engine, reg)
        data: dict[str, Any] = {"registry": snap.name, "as_of": snap.as_of, "count": snap.count}
        emit(
            as_json,
            data,
            lambda d: f"{d['registry']} snapshot of {d['as_of']}: {d['count']} numbers",
        )
        return
    with file.open(encoding="utf-8-sig", errors="replace") as fh:
        result = store.dnc_import(engine, fh, region=region)
    data = {
        "read": result.read,
        "added": result.added,
        "already": result.already,
        "invalid": [{"line": n, "text": t} for n, t in result.invalid],
    }
    emit(
        as_json,
        data,
        lambda d: (
            f"read {d['read']}: added {d['added']}, already listed "
            f"{d['already']}, invalid {len(d['invalid'])}"
        ),
    )


@dnc.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@json_option
@pass_ctx
def dnc_export(ctx: Ctx, output: Path | None, as_json: bool) -> None:
    """Write the internal list (number, source, reason, captured_at)."""
    entries = store.dnc_export(ctx.migrated_engine())
    rows = [
        {
            "number": e.number,
            "source": e.source,
            "reason": e.reason,
            "captured_at": as_utc(e.captured_at).isoformat(),
        }
        for e in entries
    ]
    if as_json:
        emit(True, rows, "")
        return
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        out.write("number,source,reason,captured_at\n")
        for r in rows:
            reason = r["reason"].replace('"', '""')
            out.write(f'{r["number"]},{r["source"]},"{reason}",{r["captured_at"]}\n')
    finally:
        if output:
            out.close()


@click.group()
def audit() -> None:
    """The tamper-evident audit trail (rule 36)."""


@audit.command("verify")
@click.option("--head", default=None, help="A head hash kept elsewhere, to detect a cut tail.")
@json_option
@pass_ctx
def audit_verify(ctx: Ctx, head: str | None, as_json: bool) -> None:
    """Walk the chain; report the first tampered or missing entry (exit 1), or that it is intact."""
    verdict = store.audit_verify(ctx.migrated_engine(), expected_head=head)
    data = {
        "intact": verdict.intact,
        "rows": verdict.rows,
        "first_bad_id": verdict.first_bad_id,
        "head": verdict.head,
    }
    emit(
        as_json,
        data,
        lambda d: (
            f"audit trail intact: {d['rows']} entries, head {d['head']}"
            if d["intact"]
            else f"audit trail BROKEN at entry {d['first_bad_id']} of {d['rows']}"
        ),
    )
    if not verdict.intact:
        sys.exit(1)


@click.group("compliance")
def compliance_group() -> None:
    """Explain calling decisions (rules 1-36)."""


@compliance_group.command("check")
@click.option("--campaign", default=None, help="Campaign name.")
@click.option(
    "--profile",
    type=click.Choice(["us", "uk", "cn", "eu"]),
    default=None,
    help="A jurisdiction profile alone, instead of a campaign.",
)
@click.option("--number", required=True, help="E.164 number, e.g. +12125551234.")
@click.option("--at", "at_text", default=None, help="Dial instant (ISO, with zone); default now.")
@json_option
@pass_ctx
def compliance_check(
    ctx: Ctx,
    campaign: str | None,
    profile: str | None,
    number: str,
    at_text: str | None,
    as_json: bool,
) -> None:
    """May NUMBER be dialed at AT? Every reason as a rule code, and when it would be allowed."""
    from campaigns import store as campaigns
    from compliance import gate as gates
    from compliance import profiles

    if (campaign is None) == (profile is None):
        raise InvalidInput("give exactly one of --campaign or --profile")
    profiles.use_operator_dir(ctx.config().profiles_dir)
    engine = ctx.migrated_engine()
    at = gates.parse_instant(at_text)
    if campaign is not None:
        row = campaigns.by_name(engine, campaign)
        assert row.id is not None
        gate = gates.gate_for(engine, row.id)
    else:
        gate = gates.profile_gate(engine, profile or "")
    decision = gates.what_if(engine, gate, store.normalize(number), at)
    data = decision.as_dict()
    data["number"] = store.normalize(number)
    data["at"] = at.isoformat()

    def human(d: dict[str, Any]) -> str:
        lines = [f"{d['number']} at {d['at']}: " + ("ALLOWED" if d["allowed"] else "BLOCKED")]
        lines += [f"  {r['rule']} {r['category']}: {r['detail']}" for r in d["reasons"]]
        lines += [f"  local time in {z}: {t}" for z, t in d["local_times"].items()]
        if not d["allowed"]:
            lines.append(f"  next allowed: {d['next_allowed_at'] or 'not by waiting'}")
        return "\n".join(lines)

    emit(as_json, data, human)


@compliance_group.command("preview")
@click.option("--campaign", required=True, help="Campaign name.")
@click.option("--at", "at_text", default=None, help="As of (ISO, with zone); default now.")
@json_option
@pass_ctx
def compliance_preview(ctx: Ctx, campaign: str, at_text: str | None, as_json: bool) -> None:
    """Before launch: records dialable now, later today, and blocked, by reason."""
    from campaigns import store as campaigns
    from compliance import gate as gates

    engine = ctx.migrated_engine()
    at = gates.parse_instant(at_text)
    row = campaigns.by_name(engine, campaign)
    assert row.id is not None
    until = at + timedelta(hours=24)
    summary, extra = gates.preview_report(engine, row.id, at, until)
    data = {
        "campaign": campaign,
        "at": at.isoformat(),
        "until": until.isoformat(),
        "dialable_now": summary.now,
        "later": summary.later,
        "blocked": summary.blocked,
        "by_reason": dict(summary.by_reason),
        **extra,
    }
    emit(as_json, data, _preview_text)


def _preview_text(d: dict[str, Any]) -> str:
    lines = [
        f"{d['campaign']} ({d['purpose']}): {d['dialable_now']} dialable now, "
        f"{d['later']} later (within 24 h), {d['blocked']} blocked"
    ]
    lines += [f"  {k}: {v}" for k, v in sorted(d["by_reason"].items())]
    if d["missing_basis_total"]:
        lines.append(f"{d['missing_basis_total']} records have no lawful basis:")
        lines += [
            f"  {m['list']} row {m['row']} {m['number']}: {m['missing']}"
            for m in d["missing_basis"][:20]
        ]
        if d["missing_basis_total"] > 20:
            lines.append(f"  ... and {d['missing_basis_total'] - 20} more (--json lists them)")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    from compliance import cli_amd
    from compliance.cli_consent import consent_group

    cli_amd.register(group)
    group.add_command(consent_group)
    group.add_command(dnc)
    group.add_command(audit)
    group.add_command(compliance_group)
