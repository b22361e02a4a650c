"""`outdial prompts add|list|remove`: uploaded prompt WAVs (issue 7); every command takes --json.

Checks and storage are campaigns/prompts.py's; this is the command line over them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from campaigns import prompts
from outdial.cli import Ctx, emit, json_option, pass_ctx
from outdial.errors import InvalidInput

_owner_options = [
    click.option("--campaign", default=None, help="Campaign id or name (e.g. safe_harbor)."),
    click.option("--survey", default=None, help="Survey id or name (IVR question prompts)."),
    click.option("--lang", type=click.Choice(prompts.LANGS), default=None),
]


def _with_owner(f: Any) -> Any:
    for opt in reversed(_owner_options):
        f = opt(f)
    return f


def _scope(campaign: str | None, survey: str | None) -> tuple[str, str]:
    if bool(campaign) == bool(survey):
        raise InvalidInput("give exactly one of --campaign NAME or --survey NAME")
    return ("campaign", campaign) if campaign else ("survey", survey or "")


def _line(d: dict[str, Any]) -> str:
    lang = f" [{d['lang']}]" if d.get("lang") else ""
    return f"{d['name']:<24} {d['seconds']:>7.2f} s {d['sample_rate']:>6} Hz{lang}  {d['path']}"


@click.group("prompts")
def prompts_group() -> None:
    """Prompt WAVs: 8000 Hz (or 16000 Hz) mono 16-bit PCM, 0.3-120 s."""


@prompts_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_owner
@click.option("--name", required=True, help="Prompt name (a survey's: intro, q:q1, thanks...).")
@json_option
@pass_ctx
def prompts_add(
    ctx: Ctx,
    /,
    file: Path,
    campaign: str | None,
    survey: str | None,
    lang: str | None,
    name: str,
    as_json: bool,
) -> None:
    """Check FILE and store it as a campaign's or a survey's prompt."""
    scope, ref = _scope(campaign, survey)
    cfg = ctx.config()
    owner = prompts.resolve_owner(ctx.migrated_engine(cfg), scope, ref, lang)
    stored = prompts.store(cfg.data_dir, owner, name, file)
    emit(as_json, stored, lambda d: f"stored {d['name']} ({d['seconds']:.2f} s): {d['path']}")


@prompts_group.command("list")
@_with_owner
@json_option
@pass_ctx
def prompts_list(
    ctx: Ctx, /, campaign: str | None, survey: str | None, lang: str | None, as_json: bool
) -> None:
    """A campaign's or a survey's uploaded prompts (a survey's in every language by default)."""
    scope, ref = _scope(campaign, survey)
    cfg = ctx.config()
    owner = prompts.resolve_for_listing(ctx.migrated_engine(cfg), scope, ref, lang)
    rows = prompts.list_prompts(cfg.data_dir, owner)
    emit(as_json, rows, lambda rs: "\n".join(map(_line, rs)) or "no uploaded prompts")


@prompts_group.command("remove")
@_with_owner
@click.option("--name", required=True)
@json_option
@pass_ctx
def prompts_remove(
    ctx: Ctx,
    /,
    campaign: str | None,
    survey: str | None,
    lang: str | None,
    name: str,
    as_json: bool,
) -> None:
    """Delete a prompt (a survey's in every language unless --lang is given)."""
    scope, ref = _scope(campaign, survey)
    cfg = ctx.config()
    owner = prompts.resolve_for_listing(ctx.migrated_engine(cfg), scope, ref, lang)
    gone = prompts.remove(cfg.data_dir, owner, name)
    emit(as_json, {"removed": gone}, lambda d: "\n".join(f"removed {p}" for p in d["removed"]))


def register(group: click.Group) -> None:
    group.add_command(prompts_group)
