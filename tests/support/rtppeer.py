"""A test's own RTP endpoint behind a SIPp leg: sends a PCMU tone, keeps what it receives.

SIPp answers the INVITE with this endpoint's port in its SDP (tests/sip/scenarios/
uas_rtp_sink.xml, ``-key rtp_port``); the worker's RTP packets tell the endpoint where to
send (symmetric RTP, as a phone behind NAT would do it). ``heard(hz)`` measures one tone's
share of what arrived in a time window with the Goertzel recursion.
"""

from __future__ import annotations

import math
import socket
import struct
import threading
import time

import numpy as np

from sip.pcap import ulaw

RATE = 8000
FRAME = 160  # 20 ms


def _ulaw_decode(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return -(magnitude - 0x84) if sign else magnitude - 0x84


_DECODE = np.array([_ulaw_decode(b) for b in range(256)], dtype=np.float64)


def goertzel_share(samples: np.ndarray, hz: float) -> float:
    """The share of the block's energy at ``hz`` (1.0 for a pure tone on a bin, 0 for none)."""
    n = len(samples)
    energy = float(np.dot(samples, samples))
    if n == 0 or energy == 0.0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in samples.tolist():
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / (energy * n / 2.0)


class RtpPeer:
    """One leg's media: a ``hz`` tone out (amplitude ``level``), every packet in, timestamped."""

    def __init__(self, hz: float, level: int = 6000) -> None:
        self.hz, self.level = hz, level
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.remote: tuple[str, int] | None = None
        self.received: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._recv, daemon=True),
            threading.Thread(target=self._send, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _recv(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except (TimeoutError, OSError):
                continue
            if len(data) < 12 or data[1] & 0x7F != 0:  # PCMU only
                continue
            self.remote = addr  # latch on the latest source: a new leg may use a new port
            self.received.append((time.monotonic(), data[12:]))

    def _send(self) -> None:
        seq, n, ssrc = 0, 0, 0x5EED0000 + self.port
        start = time.monotonic()
        while not self._stop.is_set():
            due = start + seq * 0.02
            time.sleep(max(0.0, due - time.monotonic()))
            if self.remote is None:
                start, seq = time.monotonic(), 0
                time.sleep(0.005)
                continue
            payload = bytes(
                ulaw(int(self.level * math.sin(2 * math.pi * self.hz * (n + i) / RATE)))
                for i in range(FRAME)
            )
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, n & 0xFFFFFFFF, ssrc)
            try:
                self.sock.sendto(header + payload, self.remote)
            except OSError:
                return
            seq, n = seq + 1, n + FRAME

    def samples(self, since: float, until: float) -> np.ndarray:
        payload = b"".join(p for t, p in list(self.received) if since <= t < until)
        return _DECODE[np.frombuffer(payload, dtype=np.uint8)]

    def heard(self, hz: float, since: float, until: float) -> float:
        """The share of ``hz`` in what arrived between ``since`` and ``until`` (monotonic)."""
        return goertzel_share(self.samples(since, until), hz)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(1.0)
        self.sock.close()
