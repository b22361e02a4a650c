"""A supervisor's leg in a call (issue 19.1: 监听 listen / 耳语 whisper / 强插 barge), inside
the worker that holds the call.

The supervisor's softphone is called like an agent's (auto-answer hints, the agent account:
no trunk, no codec-locking re-offer) and joined in the worker's conference bridge by
connecting ports selectively. A call's base wiring is customer <-> agent (sip/worker.py
``_bridge``); the supervisor adds:

=========  ====================================  =============================
mode       supervisor hears                      supervisor is heard by
=========  ====================================  =============================
listen     customer, agent                       nobody
whisper    customer, agent                       agent
barge      customer, agent                       agent, customer (+ recordings)
=========  ====================================  =============================

A mode change only connects or disconnects the supervisor's own transmissions, so the
customer and the agent never lose a frame of each other. Leaving hangs up only this leg.
One supervisor per call; the leg counts against the worker's agent-leg budget.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from sip import events as ev
from sip.agent_headers import auto_answer_headers
from sip.commands import MonitorMode, SetMonitorMode, StartMonitor, StopMonitor
from sip.legs import Leg, recorders_of, side_leg
from sip.protocol import SlotReleased

if TYPE_CHECKING:
    from sip.worker import Worker

#: whom the supervisor's audio reaches, by mode
_HEARD_BY: dict[str, tuple[bool, bool]] = {  # (agent, customer)
    MonitorMode.LISTEN: (False, False),
    MonitorMode.WHISPER: (True, False),
    MonitorMode.BARGE: (True, True),
}


def _failed(w: Worker, call_id: str, command: str, code: str, message: str) -> None:
    w.send(ev.CommandFailed(call_id, command, code, message))


def _parties(w: Worker, call_id: str) -> tuple[Leg | None, Leg | None, Leg | None]:
    """(customer, agent, supervisor) legs of ``call_id``; None where there is none."""
    cust = w.legs.get(call_id)
    if cust is None:
        return None, None, None
    return cust, w.legs.get(cust.agent_key or ""), w.legs.get(cust.monitor_key or "")


def start(w: Worker, cmd: StartMonitor) -> None:
    """Call the supervisor; joined once they answer (``answered``)."""
    cust, agent, sup = _parties(w, cmd.call_id)
    if cust is None or cust.disconnected or agent is None or not agent.bridged:
        _failed(w, cmd.call_id, "StartMonitor", "not_connected", "no agent is talking on it")
        w.send(SlotReleased(cmd.call_id, "monitor"))
        return
    if sup is not None:
        _failed(w, cmd.call_id, "StartMonitor", "monitored", "the call has a supervisor")
        return  # the pool refused this one already; its slot is the first supervisor's
    in_use = sum(1 for leg in w.legs.values() if leg.kind != "customer")
    if in_use >= w.max_side_legs:
        _failed(w, cmd.call_id, "StartMonitor", "no_slot", "no free leg on this worker")
        w.send(SlotReleased(cmd.call_id, "monitor"))
        return
    ring = w.cfg.agent_ring_timeout
    leg = side_leg(cmd.call_id, "monitor", cmd.supervisor_uri, ring, time.monotonic())
    leg.monitor_mode = str(cmd.mode)
    cust.monitor_key = leg.key
    host = f"{w.cfg.bind_host}:{w.sip_port}"
    forms = cmd.auto_answer if cmd.auto_answer is not None else w.cfg.auto_answer
    local = f"sip:monitor-{cmd.call_id}@{w.cfg.bind_host}"
    w.make_call(leg, cmd.supervisor_uri, auto_answer_headers(forms, host), local)


def set_mode(w: Worker, cmd: SetMonitorMode) -> None:
    _, _, sup = _parties(w, cmd.call_id)
    if sup is None or sup.disconnected:
        _failed(w, cmd.call_id, "SetMonitorMode", "not_monitored", "no supervisor on the call")
        return
    sup.monitor_mode = str(cmd.mode)
    wire(w, sup)


def stop(w: Worker, cmd: StopMonitor) -> None:
    _, _, sup = _parties(w, cmd.call_id)
    if sup is None or sup.disconnected:
        _failed(w, cmd.call_id, "StopMonitor", "not_monitored", "no supervisor on the call")
        return
    w.hangup_leg(sup)


def wire(w: Worker, sup: Leg) -> None:
    """Join the supervisor (first time) and make their transmissions follow the mode."""
    cust, agent, _ = _parties(w, sup.call_id)
    if sup.media is None or sup.answered_at is None or sup.disconnected:
        return
    if cust is None or agent is None or cust.media is None or agent.media is None:
        return
    if not sup.bridged:
        cust.media.startTransmit(sup.media)
        agent.media.startTransmit(sup.media)
        sup.bridged = True
        w.send(ev.MonitorJoined(sup.call_id, sup.target, sup.monitor_mode))
    if sup.monitor_wired == sup.monitor_mode:
        return
    to_agent, to_cust = _HEARD_BY[sup.monitor_mode]
    _connect(sup.media, agent.media, to_agent)
    _connect(sup.media, cust.media, to_cust)
    for rec in recorders_of(cust):  # a barging supervisor is part of the conversation
        _connect(sup.media, rec, to_cust)
    changed = bool(sup.monitor_wired)
    sup.monitor_wired = sup.monitor_mode
    if changed:
        w.send(ev.MonitorModeSet(sup.call_id, sup.monitor_mode))


def _connect(source: Any, sink: Any, on: bool) -> None:
    if on:
        source.startTransmit(sink)
    else:
        with contextlib.suppress(pj.Error):  # was not connected
            source.stopTransmit(sink)


def ended(w: Worker, sup: Leg, status: int, reason: str) -> None:
    """The supervisor's leg is over (DISCONNECTED, or refused before it was sent)."""
    cust = w.legs.get(sup.call_id)
    if cust is not None and cust.monitor_key == sup.key:
        cust.monitor_key = None
    if not sup.ended:
        sup.ended = True
        w.send(ev.MonitorEnded(sup.call_id, sup.target, status, reason, sup.bridged))


def party_left(w: Worker, leg: Leg) -> None:
    """The customer or the agent left: there is nothing left to supervise."""
    cust = w.legs.get(leg.call_id)
    sup = w.legs.get(cust.monitor_key or "") if cust is not None else None
    if sup is not None:
        w.hangup_leg(sup)
