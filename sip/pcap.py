"""Writes the RTP pcaps SIPp plays as our peer (tests/sip/scenarios, bench/sip_bench.py).

* ``tone.pcap``: 3 s of a PCMU (PT 0) 440 Hz tone, 20 ms packets;
* ``dtmf120.pcap``: RFC 4733 telephone-events on payload type 120 — the PT pjsua
  offers (SIPp's stock pcaps use 101, which pjsua would not decode).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

_DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def ulaw(sample: int) -> int:
    """G.711 µ-law encode one 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = max(0, sample.bit_length() - 8)
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _udp_frame(payload: bytes, sport: int = 6000, dport: int = 6002) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        0,
        0,
        64,
        17,
        0,
        bytes([127, 0, 0, 1]),
        bytes([127, 0, 0, 1]),
    )
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + udp


def _write_pcap(path: Path, packets: list[tuple[float, bytes]]) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ts, payload in packets:
        frame = _udp_frame(payload)
        sec = int(ts)
        out.append(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))


def _rtp(pt: int, seq: int, ts: int, payload: bytes, marker: bool = False) -> bytes:
    return (
        struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1234ABCD
        )
        + payload
    )


def tone_pcap(path: Path, seconds: float = 3.0, hz: float = 440.0) -> Path:
    packets = []
    for i in range(int(seconds * 50)):
        samples = bytes(
            ulaw(int(8000 * math.sin(2 * math.pi * hz * (i * 160 + n) / 8000))) for n in range(160)
        )
        packets.append((i * 0.02, _rtp(0, i, i * 160, samples, marker=i == 0)))
    _write_pcap(path, packets)
    return path


def dtmf_pcap(path: Path, digits: str = "12#", pt: int = 120) -> Path:
    """Each digit: 5 packets growing in duration, then 3 end packets; 200 ms apart."""
    packets, seq, t = [], 0, 0.5
    for k, digit in enumerate(digits):
        ts = 8000 + k * 3200
        event = _DTMF_EVENTS[digit]
        for n in range(1, 9):
            end = n > 5
            duration = min(n, 5) * 160
            body = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            packets.append((t, _rtp(pt, seq, ts, body, marker=n == 1)))
            seq += 1
            t += 0.02
        t += 0.2
    _write_pcap(path, packets)
    return path


def write_all(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tone_pcap(directory / "tone.pcap")
    dtmf_pcap(directory / "dtmf120.pcap")
    return directory


def wav_pcap(wav: Path, path: Path) -> Path:
    """Encode an 8 kHz mono 16-bit WAV as PCMU RTP (20 ms packets) in a pcap."""
    import wave

    with wave.open(str(wav)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (8000, 1, 2):
            raise ValueError(f"{wav}: need 8 kHz mono 16-bit")
        pcm = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    packets = []
    for i in range(len(samples) // 160):
        chunk = bytes(ulaw(s) for s in samples[i * 160 : (i + 1) * 160])
        packets.append((i * 0.02, _rtp(0, i, i * 160, chunk, marker=i == 0)))
    _write_pcap(path, packets)
    return path
