"""Where a call's recording lives: the one path the dialer writes and the review page plays.

``DATA_DIR/recordings/<call id>.wav`` — named by the call id alone (no phone number in a
file name). The campaign runner records there when ``[dialing] record_calls`` is on
(dialer/engine.py); /quality/calls/<attempt id> plays the file when it exists.
"""

from __future__ import annotations

import re
from pathlib import Path

#: call ids the runner makes (uuid4 hex) and any other safe file-name stem
CALL_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def recordings_dir(data_dir: Path | str) -> Path:
    """DATA_DIR/recordings."""
    return Path(data_dir) / "recordings"


def recording_path(data_dir: Path | str, call_id: str) -> Path:
    """DATA_DIR/recordings/<call id>.wav; ValueError for a call id unfit for a file name."""
    if not CALL_ID.match(call_id) or call_id in {".", ".."}:
        raise ValueError(f"call id {call_id!r} cannot name a recording")
    return recordings_dir(data_dir) / f"{call_id}.wav"
