"""``outdial campaign status NAME [--json]``: why is a campaign (not) dialing?

Reads the database only (dialer/status.py), so it works from any shell while ``outdial
serve`` dials: attempts by state, agents by state, records by status, the abandon gauge, and
the pacer's last decisions with their inputs, as the running engine persisted them.
"""

from __future__ import annotations

from typing import Any

import click

from dialer.status import db_status


def _human(d: dict[str, Any]) -> str:
    ab = d["abandon"]
    lines = [
        f"campaign {d['campaign_id']} {d['name']}: {d['status']} ({d['mode']})",
        f"  calls in flight: {d['calls_in_flight']}",
        "  attempts: " + _pairs(d["attempts_by_state"]),
        "  agents: " + _pairs(d["agents_by_state"]),
        "  records: " + _pairs(d["records_by_status"]) + f" ({d['records_remaining']} to go)",
        f"  abandon gauge: {ab['rate']:.2%} ({ab['abandoned']} of {ab['live_answers']} "
        "live answers)",
    ]
    if not d["decisions"]:
        lines.append("  pacer: no decision recorded yet")
    for dec in d["decisions"]:
        lines.append(
            f"  {dec['at']}: {dec['mode']}, place {dec['calls']}. {dec.get('reason', '')} "
            f"ready {dec.get('ready_agents', '?')}, busy {dec.get('busy_agents', '?')}, "
            f"ringing {dec.get('ringing', '?')}, waiting {dec.get('waiting_for_agent', '?')}, "
            f"hit rate {dec.get('hit_rate', 0):.1%}, "
            f"expected free agents {dec.get('expected_free_agents', '?')}, "
            f"abandon gauge {dec.get('abandon_gauge', 0):.2%}"
        )
    return "\n".join(lines)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def register(group: click.Group) -> None:
    """Add ``campaign status`` to the ``outdial`` group (creating ``campaign`` if needed)."""
    from outdial.cli import emit, json_option, pass_ctx

    campaign = group.commands.get("campaign")
    if not isinstance(campaign, click.Group):

        @group.group("campaign")
        def campaign_group() -> None:
            """A running campaign's dialing status."""

        campaign = campaign_group

    @campaign.command("status")
    @click.argument("name")
    @json_option
    @pass_ctx
    def status_command(ctx: Any, name: str, as_json: bool) -> None:
        """Attempts, agents, abandon gauge and the pacer's last decisions (by name or id)."""
        from campaigns import store

        engine = ctx.migrated_engine()
        camp = store.resolve(engine, name) if hasattr(store, "resolve") else None
        if camp is None:
            camp = store.by_name(engine, name)
        assert camp.id is not None
        emit(as_json, db_status(engine, camp.id), _human)
