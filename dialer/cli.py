"""``outdial simulate``: the real pacer and state machines against the simulated world."""

from __future__ import annotations

import json
import statistics
from typing import cast

import click

from dialer import cli_campaign
from dialer.errors import SimulationError
from dialer.pacing import Mode
from dialer.scenario import load_scenarios
from dialer.simulator import SimResult, simulate


def _summary(name: str, results: list[SimResult]) -> dict[str, object]:
    return {
        "scenario": name,
        "seeds": [r.seed for r in results],
        "abandon_rate_worst": max(r.abandon_rate for r in results),
        "abandon_rate_mean": statistics.mean(r.abandon_rate for r in results),
        "talk_share": statistics.mean(r.talk_share for r in results),
        "contacts_per_agent_hour": statistics.mean(r.contacts_per_agent_hour for r in results),
        "runs": [
            {
                "seed": r.seed,
                "abandon_rate": r.abandon_rate,
                "talk_share": r.talk_share,
                "contacts_per_agent_hour": r.contacts_per_agent_hour,
                "dials": r.dials,
                "live_answers": r.live_answers,
                "abandoned": r.abandoned,
                "connected": r.connected,
            }
            for r in results
        ],
    }


def register(group: click.Group) -> None:
    """Add ``simulate`` to the ``outdial`` command group."""
    cli_campaign.register(group)  # `outdial campaign status` (dialer/cli_campaign.py)

    @group.command("simulate")
    @click.option(
        "--scenario",
        "scenario_path",
        required=True,
        type=click.Path(dir_okay=False),
        help="JSON file: one scenario or a list.",
    )
    @click.option(
        "--mode",
        type=click.Choice(["predictive", "progressive"]),
        default="predictive",
        show_default=True,
    )
    @click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def simulate_command(scenario_path: str, mode: str, seeds: int, as_json: bool) -> None:
        """Run scenarios in virtual time; print abandon rate, talk share, contacts/agent-hour."""
        try:
            scenarios = load_scenarios(scenario_path)
        except SimulationError as exc:
            raise click.ClickException(str(exc)) from exc
        out = []
        for scenario in scenarios:
            results = [simulate(scenario, cast(Mode, mode), seed) for seed in range(seeds)]
            out.append(_summary(scenario.name, results))
        if as_json:
            click.echo(json.dumps({"mode": mode, "scenarios": out}, indent=2))
            return
        click.echo(
            f"{'scenario':30s} {'abandon worst':>13s} {'abandon mean':>12s} "
            f"{'talk share':>10s} {'contacts/agent-h':>16s}"
        )
        for row in out:
            click.echo(
                f"{row['scenario']!s:30s} {row['abandon_rate_worst']:13.2%} "
                f"{row['abandon_rate_mean']:12.2%} {row['talk_share']:10.2%} "
                f"{row['contacts_per_agent_hour']:16.2f}"
            )
