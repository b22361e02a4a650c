"""The simulated carrier's front door: one SIP address for several carrier processes.

One pjsua2 process holds at most ``PJSUA_MAX_CALLS`` calls (sip/pjproject/config_site.h),
and a shift of 60 simulated agents keeps more than that up at once (customers ringing and
talking, plus each agent's softphone leg). So the simulated carrier runs several processes
and this front answers on the one trunk address outdial dials. It is a stateless proxy in
the sense of RFC 3261 section 16.11, pure (datagrams in, datagrams out; no sockets here):

* an INVITE that starts a call goes to the process with the fewest calls (none above its
  share: then the front itself answers 503); a CANCEL, an ACK or a retransmission of the
  same Call-ID follows it. The front adds its Via on top (the branch derived from the
  caller's, so a CANCEL or ACK matches the process's transaction, section 16.11 / 17.2.3)
  and no Record-Route, so everything inside a dialog goes straight to the process's Contact;
* a response from a process loses the front's Via and goes back to the caller.

The front remembers each call's INVITE and what its final response was, until the process
says the call ended. When a process dies, :meth:`Front.orphans` ends its calls as the dead
process would have: a 503 for a call not yet answered, a BYE (section 15.1) for an answered
one, so outdial's call ends with exactly one final event instead of waiting forever.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

Addr = tuple[str, int]
Datagram = tuple[bytes, Addr]


@dataclass(slots=True)
class _Msg:
    start: str  # the request or status line
    headers: list[str]
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> _Msg | None:
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.decode("utf-8", "replace").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 3 or (parts[0] == "SIP/2.0" and not parts[1].isdigit()):
            return None  # not a request or status line: dropped, as UDP may
        return cls(lines[0], lines[1:], body)

    def get(self, name: str, short: str = "") -> str:
        for h in self.headers:
            key, _, value = h.partition(":")
            if key.strip().lower() in (name, short):
                return value.strip()
        return ""

    def all(self, name: str, short: str = "") -> list[str]:
        return [h for h in self.headers if h.partition(":")[0].strip().lower() in (name, short)]

    @property
    def is_response(self) -> bool:
        return self.start.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0]

    @property
    def status(self) -> int:
        return int(self.start.split(" ", 2)[1]) if self.is_response else 0

    def encode(self) -> bytes:
        return ("\r\n".join([self.start, *self.headers]) + "\r\n\r\n").encode() + self.body


def _tag(value: str) -> str:
    for part in value.split(";")[1:]:
        key, _, tag = part.partition("=")
        if key.strip().lower() == "tag":
            return tag.strip()
    return ""


def _uri(value: str) -> str:
    """The URI of a Contact/From/To value (``"name" <sip:x@h>;p`` or ``sip:x@h``)."""
    if "<" in value:
        return value.split("<", 1)[1].split(">", 1)[0]
    return value.split(";", 1)[0].strip()


@dataclass(slots=True)
class _Call:
    process: int
    caller: Addr  # where the caller's INVITE came from (responses go back there)
    invite: _Msg
    to: str = ""  # the To of the last response (its tag once the process sent one)
    answered: bool = False  # a 2xx went back: the dialog is confirmed
    final: bool = False  # a final response went back


@dataclass
class Front:
    """The routing table. ``address`` is the front's own (host, port)."""

    address: Addr
    capacity: int  # calls per process at most
    processes: dict[int, Addr] = field(default_factory=dict)  # process number -> its SIP addr
    calls: dict[str, _Call] = field(default_factory=dict)  # Call-ID -> call
    refused: int = 0  # INVITEs answered 503 because every process was full
    #: Call-ID -> (process, until): calls that ended, so the ACK of their final response
    #: (and a late retransmission) still reaches the process's transaction (timer H, 32 s)
    recent: dict[str, tuple[int, float]] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def via(self) -> str:
        return f"SIP/2.0/UDP {self.address[0]}:{self.address[1]}"

    def load(self, process: int) -> int:
        return sum(1 for c in self.calls.values() if c.process == process)

    def datagram(self, data: bytes, source: Addr, now: float) -> list[Datagram]:
        """What to send for one datagram the front received at ``now`` (monotonic s)."""
        msg = _Msg.parse(data)
        if msg is None:
            return []
        if msg.is_response:
            return self._response(msg)
        return self._request(msg, source, now)

    def _request(self, msg: _Msg, source: Addr, now: float) -> list[Datagram]:
        call_id = msg.get("call-id", "i")
        call = self.calls.get(call_id)
        if call is None and call_id in self.recent:
            process, until = self.recent[call_id]
            if until >= now and process in self.processes:
                return [(self._forward(msg), self.processes[process])]
        if call is None or call.process not in self.processes:
            if msg.method != "INVITE" or _tag(msg.get("to", "t")):
                return []  # an ACK or CANCEL for a call of a dead process: nothing to match
            picked = self._pick()
            if picked is None:
                self.refused += 1
                return [(_reply(msg, 503, "Service Unavailable"), source)]
            call = self.calls[call_id] = _Call(picked, source, msg)
        return [(self._forward(msg), self.processes[call.process])]

    def _forward(self, msg: _Msg) -> bytes:
        top = msg.all("via", "v")[0] if msg.all("via", "v") else ""
        branch = hashlib.sha1(top.encode()).hexdigest()[:20]  # the same for INVITE/CANCEL/ACK
        via = f"Via: {self.via};rport;branch=z9hG4bKsf{branch}"
        return _Msg(msg.start, [via, *msg.headers], msg.body).encode()

    def _pick(self) -> int | None:
        loads = {p: self.load(p) for p in self.processes}
        free = [p for p, n in sorted(loads.items(), key=lambda kv: (kv[1], kv[0]))]
        return free[0] if free and loads[free[0]] < self.capacity else None

    def _response(self, msg: _Msg) -> list[Datagram]:
        vias = [i for i, h in enumerate(msg.headers) if h.lower().startswith(("via:", "v:"))]
        call = self.calls.get(msg.get("call-id", "i"))
        if len(vias) < 2 or call is None:
            return []  # the answer to the front's own BYE, or a stray
        headers = msg.headers[: vias[0]] + msg.headers[vias[0] + 1 :]
        if msg.get("cseq").upper().endswith("INVITE"):
            call.to = msg.get("to", "t") or call.to
            if msg.status >= 200:
                call.final = True
                call.answered = msg.status < 300
        return [(_Msg(msg.start, headers, msg.body).encode(), call.caller)]

    def ended(self, call_id: str, now: float) -> None:
        """The process says the call is over at ``now``."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            self.recent[call_id] = (call.process, now + 40.0)
        if len(self.recent) > 64 and next(iter(self.recent.values()))[1] < now:
            self.recent = {k: v for k, v in self.recent.items() if v[1] >= now}

    def orphans(self, process: int) -> list[Datagram]:
        """End every call of a process that died: 503 before an answer, BYE after one."""
        out: list[Datagram] = []
        for call_id, call in list(self.calls.items()):
            if call.process != process:
                continue
            del self.calls[call_id]
            if call.answered:
                out.append(self._bye(call_id, call))
            elif not call.final:
                to = (
                    call.to
                    if _tag(call.to)
                    else f"{call.invite.get('to', 't')};tag=sf{call_id[:8]}"
                )
                out.append((_reply(call.invite, 503, "Service Unavailable", to), call.caller))
        return out

    def _bye(self, call_id: str, call: _Call) -> Datagram:
        """The dead process's BYE (RFC 3261 section 15.1.1): from the callee's side of the
        dialog to the caller's Contact; a new branch, a CSeq above any the callee used."""
        inv = call.invite
        target = _uri(inv.get("contact", "m")) or _uri(inv.get("from", "f"))
        n = next(self._seq)
        headers = [
            f"Via: {self.via};rport;branch=z9hG4bKsfbye{n}",
            "Max-Forwards: 70",
            f"From: {call.to}",
            f"To: {inv.get('from', 'f')}",
            f"Call-ID: {call_id}",
            f"CSeq: {900000 + n} BYE",
            'Reason: SIP;cause=503;text="simulated carrier process ended"',
            "Content-Length: 0",
        ]
        return (_Msg(f"BYE {target} SIP/2.0", headers, b"").encode(), call.caller)


def _reply(req: _Msg, status: int, reason: str, to: str = "") -> bytes:
    """A stateless response (RFC 3261 section 8.2.6): the request's Vias, From, Call-ID and
    CSeq, its To with a tag."""
    to = to or req.get("to", "t")
    if not _tag(to):
        to = f"{to};tag=sf{hashlib.sha1(req.get('call-id', 'i').encode()).hexdigest()[:10]}"
    headers = [
        *req.all("via", "v"),
        f"From: {req.get('from', 'f')}",
        f"To: {to}",
        f"Call-ID: {req.get('call-id', 'i')}",
        f"CSeq: {req.get('cseq')}",
        "Content-Length: 0",
    ]
    return _Msg(f"SIP/2.0 {status} {reason}", headers, b"").encode()
