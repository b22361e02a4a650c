"""The messages an agent's WebSocket (``GET /api/agent/ws``) carries, as JSON Schema.

Each message is a JSON object whose ``type`` names it. The server only speaks; the screen
sends nothing it acts on (commands go over HTTP). Every message but ``hello`` carries the
``campaign_id`` it concerns. tests/dialer/test_runtime.py validates the messages a real
campaign sends against these, so a new field or message must be described here.
"""

from __future__ import annotations

from typing import Any

from dialer.states import AgentState
from web.apidoc import INT, NUM, STR, Schema, desc, enum, obj

AGENT_STATES = tuple(s.value for s in AgentState)
_NULL_STR: Schema = {"type": ["string", "null"]}


def _msg(kind: str, text: str, campaign: bool = True, **props: Schema) -> Schema:
    fields = {"type": {"const": kind}, **props}
    if campaign:
        fields["campaign_id"] = INT
    schema = obj(required=list(fields), extra=False, **fields)
    return desc(schema, text)


AGENT_STATUS: Schema = obj(
    required=["user_id", "campaign_id", "state", "pause_reason", "call_id", "sip_uri"],
    user_id=INT,
    campaign_id=INT,
    state=enum(*AGENT_STATES),
    pause_reason=_NULL_STR,
    call_id=_NULL_STR,
    sip_uri=_NULL_STR,
    agent_id=desc(STR, "the agent's id in the campaign runner (their user id as text)"),
    since_seconds=desc(NUM, "seconds in this state (the runner's snapshot, issue 11.5)"),
    softphone_test=desc(
        {"type": ["object", "null"]},
        "the latest test call to the agent's softphone (call_id, result, sip_status, reason)",
    ),
)

_TEST_RESULTS = enum("ringing", "answered", "no_answer")

RECORD: Schema = desc({"type": "object"}, "the customer's record: the call list's columns")

MESSAGES: dict[str, Schema] = {
    "hello": _msg(
        "hello",
        "sent once when the socket opens: the agent's state, or null when not logged in",
        campaign=False,
        agent={"anyOf": [AGENT_STATUS, {"type": "null"}]},
    ),
    "agent_state": _msg(
        "agent_state",
        "the agent's state changed (ready, reserved, talk, wrap, paused, logged_out)",
        state=enum(*AGENT_STATES),
        reason=_NULL_STR,
    ),
    "call_connected": _msg(
        "call_connected",
        "a customer is bridged to the agent's softphone; shows the record",
        call_id=STR,
        number=STR,
        record=RECORD,
        answer_to_bridge_ms=desc(NUM, "answer to bridge, ms (rule 3: ≤ 2000)"),
        script=desc(STR, "the campaign's script with the record's fields filled in"),
        script_missing=desc(
            {"type": "array", "items": STR}, "fields the script names that the record lacks"
        ),
    ),
    "call_released": _msg(
        "call_released",
        "a reserved call did not reach the agent (no answer, busy, blocked)",
        call_id=STR,
    ),
    "call_transferred": _msg(
        "call_transferred",
        "the customer went on to the survey IVR; the agent is in wrap-up",
        call_id=STR,
        to=enum("ivr"),
    ),
    "call_ended": _msg(
        "call_ended",
        "the call is over; set a disposition (POST /api/agent/disposition)",
        call_id=STR,
        state=STR,
    ),
    "wrap_up_overdue": _msg(
        "wrap_up_overdue",
        "wrap-up has run past the campaign's dialing.wrap_up_limit; set the disposition",
        call_id=_NULL_STR,
        limit_seconds=NUM,
    ),
    "campaign_stopped": _msg(
        "campaign_stopped", "the campaign stopped; the agent is logged out of it"
    ),
    "server_stopping": _msg(
        "server_stopping",
        "the server is shutting down; the agent's session comes back when it starts again",
    ),
    "softphone_test": _msg(
        "softphone_test",
        "the test call to the agent's softphone at sign-in (dialing.softphone_test): ringing, "
        "then answered or no_answer (refused, unreachable, or not answered within 6 s)",
        call_id=STR,
        result=_TEST_RESULTS,
        sip_status=desc(INT, "the softphone's final SIP status; 0 when none came"),
        reason=STR,
    ),
    "preview": _msg(
        "preview",
        "preview mode: a record to look at before dialing (POST /api/agent/preview/dial|skip)",
        contact_id=INT,
        number=STR,
        record=RECORD,
        auto_dial_after={"type": ["number", "null"]},
    ),
}


def agent_message_schema() -> Schema:
    """One schema for any message: ``oneOf`` the messages above, told apart by ``type``."""
    out: dict[str, Any] = {
        "oneOf": [{"$ref": f"#/components/schemas/ws.{k}"} for k in MESSAGES],
        "discriminator": {
            "propertyName": "type",
            "mapping": {k: f"#/components/schemas/ws.{k}" for k in MESSAGES},
        },
    }
    return out


__all__ = ["AGENT_STATUS", "MESSAGES", "agent_message_schema"]
