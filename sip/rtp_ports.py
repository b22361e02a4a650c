"""The media (RTP/RTCP) port range of one outdial process, split among its SIP workers.

Each worker binds its calls' RTP and RTCP sockets inside a block of consecutive ports of its
own (``SipConfig.rtp_port_start`` .. ``+ rtp_ports_per_worker``). A :class:`RtpPortRange`
hands those blocks out first-fit, so no two workers of the pools that share it overlap, and
takes a block back when its worker exits. Two outdial processes on one machine are kept
apart by giving each its own range (``OUTDIAL_RTP_PORTS``); the runtime shares one range
among the pools of all its campaigns (dialer/runtime.py).

Parsing the setting's text is here too, so the configuration and the pool say the same.
"""

from __future__ import annotations

import threading

from sip.errors import SipConfigError

#: the lowest and highest port a range may use (below 1024 needs privileges)
LOWEST, HIGHEST = 1024, 65535
#: the smallest range: one worker's RTP+RTCP pairs for a call and its agent leg, both halves
MIN_PORTS = 8


def check_range(first: int, last: int, where: str = "RTP port range") -> None:
    """Raise :class:`SipConfigError` unless ``first..last`` is a usable port range."""
    if not LOWEST <= first <= last <= HIGHEST:
        raise SipConfigError(
            f"{where} {first}-{last}: ports must be within {LOWEST}-{HIGHEST}, first <= last",
            field="rtp_ports",
        )
    if last - first + 1 < MIN_PORTS:
        raise SipConfigError(
            f"{where} {first}-{last} has {last - first + 1} ports; at least {MIN_PORTS}",
            field="rtp_ports",
        )


def parse_rtp_ports(text: str, where: str = "OUTDIAL_RTP_PORTS") -> tuple[int, int]:
    """``"20000-29999"`` -> ``(20000, 29999)`` (both included); a clear error otherwise."""
    first_text, dash, last_text = text.strip().partition("-")
    try:
        if not dash:
            raise ValueError(text)
        first, last = int(first_text), int(last_text)
    except ValueError:
        raise SipConfigError(
            f"{where} must be FIRST-LAST, e.g. 20000-29999, not {text!r}", field="rtp_ports"
        ) from None
    check_range(first, last, where)
    return first, last


class RtpPortRange:
    """Blocks of consecutive ports inside ``first..last``, taken and given back by workers.

    Thread-safe: pools on different event loops of one process may share a range.
    """

    def __init__(self, first: int, last: int) -> None:
        check_range(first, last)
        self.first, self.last = first, last
        self._taken: dict[int, int] = {}  # block start -> its size
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def blocks_of(self, count: int) -> int:
        """How many blocks of ``count`` ports the whole range holds."""
        return self.size // count

    def take(self, count: int) -> int:
        """The first port of a free block of ``count`` ports (the lowest that fits)."""
        with self._lock:
            start = self.first
            for taken, size in sorted(self._taken.items()):
                if taken - start >= count:
                    break
                start = max(start, taken + size)
            if start + count - 1 > self.last:
                used = sum(self._taken.values())
                raise SipConfigError(
                    f"RTP ports {self.first}-{self.last} are used up: {len(self._taken)} "
                    f"worker(s) hold {used} of them, another needs {count}; widen the range "
                    "(OUTDIAL_RTP_PORTS) or lower sip_calls_per_worker",
                    field="rtp_ports",
                )
            self._taken[start] = count
            return start

    def give_back(self, start: int) -> None:
        """Free the block starting at ``start`` (again: nothing)."""
        with self._lock:
            self._taken.pop(start, None)

    def in_use(self) -> int:
        with self._lock:
            return len(self._taken)

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


__all__ = ["HIGHEST", "LOWEST", "MIN_PORTS", "RtpPortRange", "check_range", "parse_rtp_ports"]
