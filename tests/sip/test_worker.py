"""What sip/worker.py and sip/simcarrier.py rely on when they drop pjsua2 Call objects.

pjsua gives a new call the id of one just ended; a pjsua2 ``Call`` deleted after that
(``Call::~Call``) unlinks the new call from its own object and hangs it up. So the worker
drops ended calls' objects before it makes a call, and the simulated carrier drops each one
inside its DISCONNECTED callback (suspected cause of the carrier's ``pjsua_call.c:5182
call_cnt > 0`` abort: a call hung up that way before pjsua counted it).

The check runs pjsua2 in a child interpreter (one endpoint per process; never in pytest's)
against SIPp, with ``maxCalls=1`` so that the second call surely gets the first one's id.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.sip

CHILD = r"""
import gc, json, os, sys, time
import pjsua2 as pj

uri, mode = sys.argv[1], sys.argv[2]
ep = pj.Endpoint()
ep.libCreate()
c = pj.EpConfig()
c.uaConfig.threadCnt = 0
c.uaConfig.mainThreadOnly = False
c.uaConfig.maxCalls = 1
c.medConfig.hasIoqueue = False
c.medConfig.threadCnt = 0
c.logConfig.level = c.logConfig.consoleLevel = 0
ep.libInit(c)
t = pj.TransportConfig()
t.boundAddress = "127.0.0.1"
tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, t)
ep.libStart()
ep.audDevManager().setNullDev()
a = pj.AccountConfig()
a.idUri = "sip:test@127.0.0.1"
a.sipConfig.transportId = tid
a.mediaConfig.transportConfig.port = 0
acc = pj.Account()
acc.create(a)
states = []
calls = {}


class Call(pj.Call):
    def __init__(self, name):
        super().__init__(acc)
        self.name = name
        calls[name] = self

    def onCallState(self, prm):
        state = self.getInfo().stateText
        states.append([self.name, state])
        if mode == "in_callback" and state == "DISCONNECTED":
            calls.pop(self.name)  # the simulated carrier's way (sim.call = None)


def run(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ep.libHandleEvents(10)


def until(name, text, seconds=10.0):
    end = time.monotonic() + seconds
    while [name, text] not in states and time.monotonic() < end:
        ep.libHandleEvents(10)


Call("first").makeCall(uri, pj.CallOpParam(True))
until("first", "CONFIRMED")
first_id = calls["first"].getId()
calls["first"].hangup(pj.CallOpParam())
until("first", "DISCONNECTED")
ep.libHandleEvents(10)
second = Call("second")
second.makeCall(uri, pj.CallOpParam(True))
until("second", "CONFIRMED")
out = {"same_id": first_id == second.getId(), "before": second.isActive()}
calls.pop("first", None)  # late, as a timer of the simulated carrier used to let go of it
gc.collect()
run(1.0)
out["after"] = second.isActive()
out["second_told"] = ["second", "DISCONNECTED"] in states
out["first_gone"] = "first" not in calls
print(json.dumps(out))
sys.stdout.flush()
os._exit(0)
"""


def child(sipp, mode: str) -> dict[str, bool]:
    peer = sipp("uas_answer.xml", calls=2, timeout=30)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, peer.uri(), mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["same_id"] and got["before"]  # the second call took the first one's id
    return got


def test_a_call_object_dropped_after_its_id_was_reused_hangs_up_the_new_call(sipp) -> None:
    got = child(sipp, "late")
    # deleting the first call's object ended the second call, and nobody told its object:
    # the reason the worker and the simulated carrier drop ended calls' objects at once
    assert not got["after"] and not got["second_told"], got


def test_a_call_object_dropped_in_its_disconnected_callback_leaves_the_next_call_alone(
    sipp,
) -> None:
    got = child(sipp, "in_callback")
    assert got["after"] and not got["second_told"], got
