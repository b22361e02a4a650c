"""The pacer's own note (dialer/pacing.py writes it in English) in the user's language.

Each known sentence is matched and re-said with its numbers; a sentence not known here is
shown as the pacer wrote it, so a new reason is never hidden.
"""

from __future__ import annotations

import re

from web.i18n import N_, Lang, say_by_pattern

_N = r"([\d.]+%?)"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(rf"^Progressive mode: {_N} line\(s\) per ready agent\.$"),
        N_("Progressive mode: %(a)s line(s) per ready agent."),
    ),
    (
        re.compile(rf"^Only {_N} agent\(s\) logged in \(< {_N}\): too few to predict safely\.$"),
        N_("Only %(a)s agent(s) signed in (fewer than %(b)s): too few to predict safely."),
    ),
    (
        re.compile(r"^The team is shrinking: busy agents may log out after their call\.$"),
        N_("The team is shrinking: busy agents may sign out after their call."),
    ),
    (
        re.compile(rf"^Still learning: only {_N} attempts resolved so far\.$"),
        N_("Still learning: only %(a)s attempts resolved so far."),
    ),
    (
        re.compile(
            rf"^Abandon gauge too close to the {_N} cap \({_N} of {_N} live answers, {_N} more "
            r"expected from calls in flight\): falling back to progressive\.$"
        ),
        N_(
            "Abandons too close to the %(a)s cap (%(b)s of %(c)s live answers, %(d)s more "
            "expected from calls in flight): dialing progressively."
        ),
    ),
    (
        re.compile(
            rf"^Predictive: {_N} more call\(s\) keep the last call's abandon risk under {_N}; "
            rf"{_N} abandons expected from calls already in flight\.$"
        ),
        N_(
            "Predictive: %(a)s more call(s) keep the last call's abandon risk under %(b)s; "
            "%(c)s abandons expected from calls already in flight."
        ),
    ),
    (
        re.compile(r"^Predictive: calls in flight already cover every agent expected free\.$"),
        N_("Predictive: calls in flight already cover every agent expected free."),
    ),
]


def say(reason: str, lang: Lang) -> str:
    """``reason`` in ``lang``; unknown sentences unchanged."""
    return say_by_pattern(PATTERNS, reason, lang, "abcd")
