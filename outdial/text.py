"""Names people type and others read (issue 18, finding 12): bounded, no control or bidi
characters. A 100,000-character name, or one with U+202E (right-to-left override) that
shows ``evil.exe`` as ``exe.live``, is refused where it comes in. Pure: no I/O."""

from __future__ import annotations

import unicodedata

MAX_NAME = 200
#: explicit directional formatting characters (Unicode TR9): embeddings, overrides,
#: isolates and marks
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def name_problem(value: str, max_len: int = MAX_NAME) -> str:
    """Why ``value`` cannot be a name, or "" when it can."""
    if len(value) > max_len:
        return f"at most {max_len} characters"
    if any(ch in BIDI_CONTROLS for ch in value):
        return "no bidirectional control characters"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        return "no control characters"
    return ""
