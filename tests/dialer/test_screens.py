"""The screen lane: a stalled browser fills only its own queue, is dropped on overflow, and
never delays another agent's screen."""

from __future__ import annotations

import asyncio
from typing import Any

from dialer.screens import ScreenLanes


async def test_a_stalled_screen_is_dropped_and_the_others_go_on() -> None:
    stalled = asyncio.Event()  # never set: agent 1's browser reads nothing
    got: list[tuple[str, dict[str, Any]]] = []
    dropped: list[str] = []

    async def push(agent_id: str, message: dict[str, Any]) -> None:
        if agent_id == "1":
            await stalled.wait()
        got.append((agent_id, message))

    lanes = ScreenLanes(push, on_overflow=dropped.append, size=4)
    for i in range(10):  # offer() never waits, whatever the browser does
        lanes.offer("1", {"type": "agent_state", "n": i})
        lanes.offer("2", {"type": "agent_state", "n": i})
        await asyncio.sleep(0)  # agent 2's browser keeps up
    await lanes.drain(timeout=0.2)
    assert [m["n"] for a, m in got if a == "2"] == list(range(10))  # in order, all of them
    assert dropped == ["1"] and lanes.dropped == 1
    await lanes.close()


async def test_a_failing_push_is_counted_and_the_queue_goes_on() -> None:
    got: list[int] = []

    def push(agent_id: str, message: dict[str, Any]) -> None:
        if message["n"] == 1:
            raise ConnectionResetError("socket gone")
        got.append(message["n"])

    lanes = ScreenLanes(push)
    for i in range(3):
        lanes.offer("7", {"n": i})
    await lanes.drain()
    assert got == [0, 2] and lanes.failures == 1
    await lanes.close()
