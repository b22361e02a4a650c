"""The campaign runner's screen lane: a bounded queue per agent (issue 11.2).

The runner hands a message for an agent's screen to :meth:`ScreenLanes.offer` and goes on:
it never awaits a browser. Each agent's messages are sent, in order, by a task of their own.
A slow or dead browser fills its queue; when it overflows, the queued messages are dropped
and ``on_overflow`` is called (the runtime closes that agent's sockets): the page reconnects
and resyncs from the runner's snapshot (the WebSocket's ``hello`` message).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

Push = Callable[[str, dict[str, Any]], Awaitable[None] | None]
QUEUE = 256  # messages queued per agent before their screen is dropped


class ScreenLanes:
    """One bounded queue and one sender task per agent (or channel, e.g. ``ivr``)."""

    def __init__(
        self,
        push: Push | None,
        on_overflow: Callable[[str], Awaitable[None] | None] | None = None,
        size: int = QUEUE,
    ) -> None:
        self.push = push
        self.on_overflow = on_overflow
        self.size = size
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.dropped = 0  # screens dropped on overflow
        self.failures = 0  # pushes that raised

    def offer(self, agent_id: str, message: dict[str, Any]) -> None:
        """Queue ``message`` for the agent's screen; never waits."""
        if self.push is None:
            return
        queue = self._queues.get(agent_id)
        if queue is None:
            queue = self._queues[agent_id] = asyncio.Queue(self.size)
            self._tasks[agent_id] = asyncio.create_task(
                self._send(agent_id, queue), name=f"screen-{agent_id}"
            )
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflow(agent_id, queue)

    def _overflow(self, agent_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while not queue.empty():
            queue.get_nowait()
        self.dropped += 1
        log.warning("agent screen too slow: dropped, it will resync", agent=agent_id)
        if self.on_overflow is not None:
            result = self.on_overflow(agent_id)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _send(self, agent_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        assert self.push is not None
        while True:
            message = await queue.get()
            try:
                result = self.push(agent_id, message)
                if result is not None:
                    await result
            except Exception:  # one screen's trouble never reaches the runner
                self.failures += 1
                log.exception("push to an agent's screen failed", agent=agent_id)
            finally:
                queue.task_done()

    async def drain(self, timeout: float = 2.0) -> None:
        """Let queued messages go out (a stop), at most ``timeout`` seconds."""
        waits = [q.join() for q in self._queues.values()]
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), timeout)
            except TimeoutError:
                log.warning("agent screens not drained at stop")

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._queues.clear()
