"""Which agents a personal or team callback may be dialed for (issue 11.1, team callbacks).

Pure functions over the runner's view of its agents (dialer/engine.py): who is ready by
users.id, which teams are signed in or ready, the agent a callback's call is reserved for, and
which claimed callbacks must go back to the queue because their agent or team is busy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from campaigns.callback_times import TeamsOnline
from dialer import actions as act
from dialer import states
from dialer.core_records import Agent


def ready_owners(agents: Mapping[str, Agent], agent_users: Mapping[str, int]) -> dict[int, str]:
    """Ready agents by users.id: whose personal callbacks the runner may dial now."""
    return {
        user_id: agent_id
        for agent_id, user_id in agent_users.items()
        if (a := agents.get(agent_id)) is not None and a.machine.state is states.AgentState.READY
    }


def teams_online(
    agents: Mapping[str, Agent],
    agent_users: Mapping[str, int],
    user_teams: Mapping[int, str],
    grace_min: int,
) -> TeamsOnline:
    """The teams of the agents signed in to the campaign and of those ready now."""
    signed_in = {
        user_teams.get(u, "")
        for agent_id, u in agent_users.items()
        if (a := agents.get(agent_id)) is not None
        and a.machine.state is not states.AgentState.LOGGED_OUT
    }
    ready = {user_teams.get(u, "") for u in ready_owners(agents, agent_users)}
    return TeamsOnline(frozenset(signed_in - {""}), frozenset(ready - {""}), grace_min)


def reserved_for(
    lead: act.Lead, ready: Mapping[int, str], user_teams: Mapping[int, str]
) -> str | None:
    """The ready agent a callback's call is placed for: its owner, or one of its team."""
    if lead.owner is not None:
        return ready.get(lead.owner)
    team = [a for u, a in sorted(ready.items()) if user_teams.get(u, "") == lead.team]
    return team[0] if team else None


def split_claimed(
    leads: Iterable[act.Lead], owners: Mapping[int, str], ready_teams: frozenset[str]
) -> tuple[list[act.Lead], list[act.Lead]]:
    """(to dial, back to the queue): a callback whose owner or team became busy since the
    claim goes back; a personal callback comes first, its agent is reserved."""
    keep: list[act.Lead] = []
    back: list[act.Lead] = []
    for lead in leads:
        gone = lead.team is not None and lead.team not in ready_teams
        if (lead.owner is not None and lead.owner not in owners) or gone:
            back.append(lead)
        else:
            keep.append(lead)
    return keep, back
