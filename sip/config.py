"""SIP settings: trunk, caller identity defaults, codecs, RTP ports and pool bounds.

Plain frozen dataclasses so they pickle into spawned worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sip.agent_headers import AUTO_ANSWER_HEADERS, DEFAULT_AUTO_ANSWER
from sip.errors import SipConfigError
from sip.limits import ModuleLimits, WorkerPlan
from sip.rtp_ports import HIGHEST, check_range

#: Customer calls per worker process (K) unless configured: each holds its agent leg too,
#: so 32 use 69 of the 128 call slots outdial's pjsua2 build has (sip/pjproject/config_site.h);
#: a crash ends at most this many calls. A smaller module lowers it (sip/limits.py).
DEFAULT_CALLS_PER_WORKER = 32
_CODECS = {"PCMU/8000", "PCMA/8000"}


@dataclass(frozen=True, slots=True)
class TrunkConfig:
    """Where E.164 numbers are sent, and how we authenticate there."""

    host: str
    port: int = 5060
    transport: str = "udp"  # "udp" or "tcp"
    username: str = ""
    password: str = ""
    realm: str = "*"
    register: bool = False
    outbound_proxy: str = ""  # a SIP URI, e.g. "sip:proxy.example.net;lr"


@dataclass(frozen=True, slots=True)
class SipConfig:
    """Settings for one worker's endpoint; the pool gives each worker its own RTP range."""

    bind_host: str = "127.0.0.1"
    sip_port: int = 0  # 0 = ephemeral; each worker needs its own
    transport: str = "udp"
    user: str = "outdial"
    trunk: TrunkConfig | None = None
    codecs: tuple[str, ...] = ("PCMU/8000", "PCMA/8000")
    # The media ports of the whole pool, rtp_port_start..rtp_port_end (both included); the
    # pool gives each worker its own block of them (sip/rtp_ports.py, OUTDIAL_RTP_PORTS).
    rtp_port_start: int = 20000
    rtp_port_end: int = HIGHEST
    # At least this many ports (RTP+RTCP pairs); the pool widens it to fit the worker plan.
    rtp_ports_per_worker: int = 40
    agent_ring_timeout: float = 10.0
    # Auto-answer hint forms on agent legs (sip/agent_headers.py); ConnectAgent may override.
    auto_answer: tuple[str, ...] = DEFAULT_AUTO_ANSWER
    # The agent hanging up a bridged call ends the customer's leg in the worker at once (the
    # engine's rule for a bridged call, without the round trip). A transfer (DropAgent) is
    # ours and does not.
    end_customer_on_agent_hangup: bool = True
    # AMD ports per worker, made at first use and never destroyed; None: the plan's (one
    # per customer line), 0: no AMD.
    frame_port_count: int | None = None
    poll_ms: int = 10  # libHandleEvents timeout with calls up; bounds command latency
    # Without calls the worker waits on its command pipe (a command wakes it at once) and
    # polls PJSIP at this period: 50 ms cost ~0.4 % of a core per idle worker, 200 ms ~0.1 %.
    idle_poll_ms: int = 200
    stream_stats: bool = False  # send a StreamStats event (RTP counters) per leg we hang up
    log_level: int = 1  # pjsip log level, 0-6
    # Set by the pool before a worker starts: the module's limits (the worker caps pjsua's
    # maxCalls at limits.max_calls) and how the worker splits them (sip/limits.py).
    limits: ModuleLimits | None = None
    plan: WorkerPlan | None = None

    def __post_init__(self) -> None:
        bad = set(self.codecs) - _CODECS
        if bad or not self.codecs:
            raise SipConfigError(f"unsupported codecs {sorted(bad)}; use PCMU/8000, PCMA/8000")
        if set(self.auto_answer) - set(AUTO_ANSWER_HEADERS):
            raise SipConfigError(f"unknown auto-answer forms: {self.auto_answer}")
        if self.transport not in ("udp", "tcp"):
            raise SipConfigError(f"transport must be udp or tcp, not {self.transport!r}")
        check_range(self.rtp_port_start, self.rtp_port_end)
        if self.rtp_ports_per_worker < 8:
            raise SipConfigError("a worker needs at least 8 RTP ports", field="rtp_ports")
        if self.trunk is not None and self.trunk.transport not in ("udp", "tcp"):
            raise SipConfigError(f"trunk transport must be udp or tcp: {self.trunk.transport!r}")

    def for_worker(self, slot: int) -> SipConfig:
        """This config with the RTP block of the ``slot``-th worker of its range."""
        start = self.rtp_port_start + slot * self.rtp_ports_per_worker
        return self.at_ports(start)

    def at_ports(self, start: int) -> SipConfig:
        """A worker's config: its RTP block starts at ``start`` (inside the range)."""
        end = start + self.rtp_ports_per_worker - 1
        if start < self.rtp_port_start or end > self.rtp_port_end:
            raise SipConfigError(
                f"RTP ports {start}-{end} are outside the range "
                f"{self.rtp_port_start}-{self.rtp_port_end}",
                field="rtp_ports",
            )
        return replace(self, rtp_port_start=start, rtp_port_end=end)


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Bounds of the worker pool and how many calls each worker holds.

    ``customer_lines`` is K, the customer calls per worker; the pool lowers it (once, with
    a log line and a note in ``SipPool.status()``) when the pjsua2 module at hand holds
    fewer calls (sip/limits.py). One slot is kept spare (issue 5): a Call counts against
    PJSUA_MAX_CALLS until its DISCONNECTED callback, so a spare keeps makeCall clear of
    PJ_ETOOMANY.
    """

    sip: SipConfig = field(default_factory=SipConfig)
    min_workers: int = 1
    max_workers: int = 8
    customer_lines: int = DEFAULT_CALLS_PER_WORKER
    # None: each customer line has its agent leg reserved, plus one per 8 lines for a retry
    # while a refused leg is still disconnecting. 0: agentless (IVR) pools.
    agent_legs: int | None = None
    spare_slots: int = 1
    # Idle, ready workers kept in reserve ahead of demand, started in the background, so a
    # call does not wait for a worker start (tens of ms idle, seconds on a loaded machine).
    warm_workers: int = 1
    spawn_concurrency: int = 4  # worker starts in flight at once (start(), reserve refills)
    restart_backoff: float = 0.5  # seconds, doubled per consecutive crash, capped at 10 s
    idle_shrink_after: float = 30.0  # an idle worker above min_workers + reserve is stopped
    # "forkserver": workers fork from a server that preloaded sip.worker (200 workers up
    # in 2.5 s, ~5 MB PSS each here); "spawn": a fresh interpreter each (26 s, ~15 MB).
    start_method: str = "forkserver"

    def __post_init__(self) -> None:
        if not 0 <= self.min_workers <= self.max_workers or self.max_workers < 1:
            raise SipConfigError("pool bounds need 0 <= min_workers <= max_workers, max >= 1")
        if self.start_method not in ("spawn", "forkserver"):
            raise SipConfigError(f"start_method must be spawn or forkserver: {self.start_method}")
        if self.warm_workers < 0 or self.spawn_concurrency < 1:
            raise SipConfigError("warm_workers must be >= 0 and spawn_concurrency >= 1")
        agents = self.agent_legs
        if self.customer_lines < 1 or self.spare_slots < 0 or (agents is not None and agents < 0):
            raise SipConfigError("customer_lines must be >= 1, agent_legs and spare_slots >= 0")
        if agents is not None and 0 < agents < self.customer_lines:
            raise SipConfigError(
                f"{self.customer_lines} customer lines but {agents} agent leg(s) per "
                "worker: two answers on one worker could not both reach an agent; use "
                "agent_legs >= customer_lines, or agent_legs=0 for agentless campaigns"
            )
