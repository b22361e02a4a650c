"""`outdial amd ...`: people's marks on sampled machine verdicts (rule 19, issue 20)."""

from __future__ import annotations

from typing import Any

import click

from compliance import amd_reviews
from outdial.cli import Ctx, emit, json_option, pass_ctx


@click.group("amd")
def amd_group() -> None:
    """Answering-machine detection: review sampled machine verdicts (rule 19)."""


def _campaign_id(ctx: Ctx, name: str) -> int:
    from campaigns import store as campaigns

    row = campaigns.by_name(ctx.migrated_engine(), name)
    assert row.id is not None
    return row.id


@amd_group.command("samples")
@click.option("--campaign", required=True, help="Campaign name.")
@click.option("--all", "show_all", is_flag=True, help="Marked samples too, with their mark.")
@json_option
@pass_ctx
def amd_samples(ctx: Ctx, campaign: str, show_all: bool, as_json: bool) -> None:
    """Sampled machine verdicts waiting for a person's mark, and the estimate so far."""
    engine = ctx.migrated_engine()
    cid = _campaign_id(ctx, campaign)
    rows = amd_reviews.samples(engine, cid, pending_only=not show_all)
    data = {
        "campaign": campaign,
        "samples": [
            {
                "call_id": r.call_id,
                "answered_at": r.answered_at,
                "state": r.state,
                "truth": r.truth,
            }
            for r in rows
        ],
        "estimate": amd_reviews.summary(engine, cid),
    }
    emit(as_json, data, _samples_text)


def _samples_text(d: dict[str, Any]) -> str:
    lines = [
        f"{s['call_id']}  answered {s['answered_at']}  {s['state']}  {s['truth'] or 'not marked'}"
        for s in d["samples"]
    ] or ["no sampled machine verdicts waiting for a mark"]
    return "\n".join([*lines, _estimate_text(d["estimate"])])


def _estimate_text(e: dict[str, Any]) -> str:
    low, high = e["interval95"]
    return (
        f"AMD false positives: {e['persons']} person(s) in {e['marked']} marked sample(s), "
        f"rate {e['rate']:.1%} (95 % interval {low:.1%}-{high:.1%}); the UK gauge uses "
        f"{e['gauge_rate']:.1%} (lab rate {e['lab_rate']:.1%} until 30 marks); "
        f"{e['pending']} waiting"
    )


@amd_group.command("mark")
@click.argument("call_id")
@click.argument("truth", type=click.Choice(list(amd_reviews.TRUTHS)))
@click.option("--by", default="cli", show_default=True, help="Who heard the call.")
@json_option
@pass_ctx
def amd_mark(ctx: Ctx, call_id: str, truth: str, by: str, as_json: bool) -> None:
    """Record that sampled call CALL_ID was really a person or a machine."""
    engine = ctx.migrated_engine()
    sample = amd_reviews.mark(engine, call_id, truth, by)
    data = {"call_id": sample.call_id, "truth": truth}
    data["estimate"] = amd_reviews.summary(engine, sample.campaign_id)  # type: ignore[assignment]
    emit(as_json, data, lambda d: f"{d['call_id']}: {d['truth']}\n" + _estimate_text(d["estimate"]))


def register(group: click.Group) -> None:
    group.add_command(amd_group)
