"""The wrap-up limit's reminder (``[dialing] wrap_up_limit``) for the campaign runner.

When an agent goes to wrap-up, a :class:`dialer.inbox.WrapCheck` is put in the runner's inbox
after the limit; if the agent is still in that same wrap-up then, their screen is told it runs
over. The disposition is still theirs to set (it is committed before the next call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import structlog

from dialer import actions as act
from dialer import states
from dialer.core_records import Agent
from dialer.inbox import WrapCheck
from dialer.screens import ScreenLanes

log = structlog.get_logger(__name__)


class WrapReminder:
    """Arms a check at each wrap-up and tells the screen when the wrap-up is overdue."""

    def __init__(
        self,
        agents: Mapping[str, Agent],
        screens: ScreenLanes,
        inbox: asyncio.Queue[Any],
        limit: float,
    ) -> None:
        self.agents, self.screens, self.inbox, self.limit = agents, screens, inbox, limit

    def arm(self, a: act.AgentState) -> None:
        """At an agent's wrap-up: check again after the limit (none when the limit is 0)."""
        agent = self.agents.get(a.agent_id)
        if a.state == "wrap" and self.limit > 0 and agent is not None:
            check = WrapCheck(a.agent_id, agent.machine.since)
            asyncio.get_running_loop().call_later(self.limit, self.inbox.put_nowait, check)

    def check(self, msg: WrapCheck) -> None:
        """Tell the agent's screen when the wrap-up that armed ``msg`` still goes on."""
        agent = self.agents.get(msg.agent_id)
        if agent is None or agent.machine.state is not states.AgentState.WRAP:
            return
        if agent.machine.since != msg.since:  # a later wrap-up has its own reminder
            return
        log.info("wrap-up over its limit", agent=msg.agent_id, limit=self.limit)
        self.screens.offer(
            msg.agent_id,
            {"type": "wrap_up_overdue", "call_id": agent.call_id, "limit_seconds": self.limit},
        )
