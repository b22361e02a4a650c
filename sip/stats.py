"""Media helpers for the worker that the engine never needs: RTP counters, an idle bridge.

Imported by ``sip/worker.py`` only (pjsua2 objects are passed in, never imported
here), so this module stays importable without pjsua2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamStats:
    """RTP counters of one leg's audio stream, read just before we hung it up.

    Sent only with ``SipConfig.stream_stats`` (the bench). ``rx_lost`` counts RTP
    sequence gaps the receiver saw (socket drops, peer or network loss);
    ``jb_lost``/``jb_discard`` are frames the jitter buffer could not play.
    """

    call_id: str
    kind: str  # "customer" or "agent"
    seconds: float  # since answer
    rx_packets: int
    rx_lost: int
    rx_discarded: int
    rx_dup: int
    rx_reorder: int
    tx_packets: int
    jb_lost: int
    jb_discard: int
    jb_empty: int
    rx_jitter_max_us: int


def stream_stats(
    call: Any, call_id: str, kind: str, seconds: float, index: int | None = None
) -> StreamStats | None:
    """Read ``pjsua2.Call.getStreamStat`` of the call's active audio stream (or of stream
    ``index``, from onStreamDestroyed: the far end hung up), if any."""
    import pjsua2 as pj  # only ever called inside a worker

    if index is None:
        info = call.getInfo()  # keep it referenced: info.media points into it (SWIG)
        index = next(
            (
                mi.index
                for mi in info.media
                if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE
            ),
            None,
        )
    if index is None:
        return None
    st = call.getStreamStat(index)
    rx, tx, jb = st.rtcp.rxStat, st.rtcp.txStat, st.jbuf
    return StreamStats(
        call_id,
        kind,
        round(seconds, 3),
        int(rx.pkt),
        int(rx.loss),
        int(rx.discard),
        int(rx.dup),
        int(rx.reorder),
        int(tx.pkt),
        int(jb.lost),
        int(jb.discard),
        int(jb.empty),
        int(rx.jitterUsec.max),
    )


def park_bridge_clock(ep: Any) -> None:
    """Close the null sound device until the first call needs the bridge.

    ``setNullDev()`` starts a clock thread that ticks the conference bridge every
    20 ms (~1.1 % of a core per idle worker here). With no call left and no bridge
    connection PJSUA closes the sound device after ``sndAutoCloseTime`` (the worker
    sets 0: at the next poll) and reopens it for the next call, but it first checks
    on a disconnect; one empty connect/disconnect arms it for a worker that has not
    had a call yet, and the polls here let it fire before the worker reports ready
    (a close still pending when the first call starts would stop that call's clock).
    """
    adm = ep.audDevManager()
    cap, play = adm.getCaptureDevMedia(), adm.getPlaybackDevMedia()
    cap.startTransmit(play)
    cap.stopTransmit(play)
    for _ in range(3):
        ep.libHandleEvents(0)
