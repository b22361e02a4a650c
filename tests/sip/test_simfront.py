"""sip/simfront.py, pure: datagrams in, datagrams out (the real thing over pjsua2 is in
tests/sip/test_simcarrier.py)."""

from __future__ import annotations

from sip.simfront import Front

CALLER = ("127.0.0.1", 5070)
FRONT = ("127.0.0.1", 5060)
P0, P1 = ("127.0.0.1", 6000), ("127.0.0.1", 6001)


def invite(call_id: str, method: str = "INVITE", to_tag: str = "") -> bytes:
    to = "<sip:+8613900000001@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    return (
        f"{method} sip:+8613900000001@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK-{call_id}\r\n"
        "From: <sip:+8610010000@127.0.0.1>;tag=caller1\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        "Contact: <sip:+8610010000@127.0.0.1:5070>\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def response(forwarded: bytes, status: str, tag: str = "callee9") -> bytes:
    head = forwarded.decode().split("\r\n\r\n")[0].split("\r\n")[1:]
    keep = [h if not h.startswith("To:") else f"{h};tag={tag}" for h in head]
    return ("\r\n".join([f"SIP/2.0 {status}", *keep]) + "\r\n\r\n").encode()


def front(capacity: int = 2) -> Front:
    return Front(FRONT, capacity, processes={0: P0, 1: P1})


def test_calls_go_to_the_least_loaded_process_and_a_cancel_follows_its_invite() -> None:
    f = front()
    [(a, to_a)] = f.datagram(invite("a"), CALLER, 0.0)
    [(_, to_b)] = f.datagram(invite("b"), CALLER, 0.0)
    assert {to_a, to_b} == {P0, P1}  # spread
    vias = [h for h in a.split(b"\r\n") if h.startswith(b"Via: ")]
    assert vias[0].startswith(b"Via: SIP/2.0/UDP 127.0.0.1:5060;")  # the front's, on top
    assert vias[1:] == [b"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK-a"]
    [(cancel, to)] = f.datagram(invite("a", "CANCEL"), CALLER, 0.0)
    assert to == to_a
    branch = a.split(b"branch=")[1].split(b"\r\n")[0]
    assert cancel.split(b"branch=")[1].split(b"\r\n")[0] == branch  # matches the INVITE (17.2.3)


def test_responses_lose_the_fronts_via_and_go_back_to_the_caller() -> None:
    f = front()
    [(fwd, _)] = f.datagram(invite("a"), CALLER, 0.0)
    [(back, to)] = f.datagram(response(fwd, "180 Ringing"), P0, 0.0)
    assert to == CALLER and back.count(b"Via: ") == 1 and b"branch=z9hG4bK-a" in back


def test_full_processes_make_the_front_answer_503() -> None:
    f = front(capacity=1)
    f.datagram(invite("a"), CALLER, 0.0)
    f.datagram(invite("b"), CALLER, 0.0)
    [(refusal, to)] = f.datagram(invite("c"), CALLER, 0.0)
    assert to == CALLER and refusal.startswith(b"SIP/2.0 503 ") and f.refused == 1
    f.ended("a", 1.0)  # a process said a call is over: room again
    [(_, to)] = f.datagram(invite("d"), CALLER, 1.0)
    assert to in (P0, P1)


def test_a_dead_process_s_calls_end_with_503_or_bye_and_an_ack_still_reaches_its_process() -> None:
    f = front()
    [(ringing, p_ringing)] = f.datagram(invite("ringing"), CALLER, 0.0)
    [(talking, p_talking)] = f.datagram(invite("talking"), CALLER, 0.0)
    f.datagram(response(talking, "200 OK", tag="t42"), p_talking, 0.0)
    f.datagram(response(ringing, "180 Ringing", tag="r7"), p_ringing, 0.0)
    dead = {P0: 0, P1: 1}
    out = f.orphans(dead[p_talking]) + f.orphans(dead[p_ringing])
    by_call = {d.split(b"Call-ID: ")[1].split(b"\r\n")[0]: (d, to) for d, to in out}
    bye, to = by_call[b"talking"]
    assert to == CALLER and bye.startswith(b"BYE sip:+8610010000@127.0.0.1:5070 SIP/2.0")
    assert b"From: <sip:+8613900000001@127.0.0.1>;tag=t42" in bye  # the callee's side
    assert b"To: <sip:+8610010000@127.0.0.1>;tag=caller1" in bye
    refusal, to = by_call[b"ringing"]
    assert refusal.startswith(b"SIP/2.0 503 ") and b";tag=r7" in refusal
    assert b"branch=z9hG4bK-ringing" in refusal  # the caller's own transaction
    assert f.calls == {}
    # a call that ended normally: the ACK of its final response still reaches its process
    g = front()
    [(busy, p)] = g.datagram(invite("busy"), CALLER, 0.0)
    g.datagram(response(busy, "486 Busy Here"), p, 0.0)
    g.ended("busy", 0.5)
    [(ack, to)] = g.datagram(invite("busy", "ACK", to_tag="callee9"), CALLER, 1.0)
    assert to == p and ack.startswith(b"ACK ")
    assert g.datagram(invite("busy", "ACK", to_tag="callee9"), CALLER, 60.0) == []  # forgotten


def test_garbage_is_dropped() -> None:
    f = front()
    assert f.datagram(b"\x00\x01 not sip", CALLER, 0.0) == []  # no header end
    assert f.datagram(b"SIP/2.0 abc Odd\r\nCall-ID: x\r\n\r\n", P0, 0.0) == []
    assert f.datagram(b"HELLO\r\nCall-ID: y\r\n\r\n", CALLER, 0.0) == []
    assert f.calls == {}
