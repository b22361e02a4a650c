"""The campaign editor's field problems (campaigns/rules.py writes them in English) in the
user's language.

``campaigns.rules`` stays free of the web: it names each problem in English, and this module
re-says the ones the editor's form can cause, values kept. A problem not known here is shown
as the rules wrote it, so a new one is never hidden (as web/pacer_words.py does for the pacer).
"""

from __future__ import annotations

import re

from web.i18n import N_, Lang, say_by_pattern

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^caller ID must be an E\.164 number such as (\S+)$"),
        N_("The caller ID must be an E.164 number such as %(a)s."),
    ),
    (
        re.compile(r"^(.+) is not a span like (\S+)$"),
        N_("%(a)s is not a span like %(b)s."),
    ),
    (re.compile(r"^\w+ must look like (\S+)$"), N_("Write a time span like %(a)s.")),
    (re.compile(r"^\w+ must be a date YYYY-MM-DD$"), N_("Write a date as YYYY-MM-DD.")),
    (
        re.compile(r"^\w+ must be a whole number from (\d+) to (\d+)$"),
        N_("Write a whole number from %(a)s to %(b)s."),
    ),
    (re.compile(r"^unknown time zone (.+)$"), N_("Unknown time zone %(a)s.")),
    (
        re.compile(r"^active_until is before active_from$"),
        N_("The end date is before the start date."),
    ),
    (re.compile(r"^a campaign needs a name$"), N_("A campaign needs a name.")),
    (re.compile(r"^name: at most (\d+) characters$"), N_("At most %(a)s characters.")),
    (
        re.compile(r"^name: no (?:bidirectional )?control characters$"),
        N_("A name cannot hold control characters."),
    ),
    (
        re.compile(r"^agentless mode is only for satisfaction surveys \(an IVR asks\)$"),
        N_("Agentless dialing is only for satisfaction surveys (a recorded voice asks)."),
    ),
    (
        re.compile(r"^the script template has unbalanced \{ \} \(write \{\{ for a brace\)$"),
        N_("The script has unbalanced { } (write {{ for a brace)."),
    ),
    (
        re.compile(r"^webhook_url must be an http\(s\) URL$"),
        N_("The webhook URL must start with http:// or https://."),
    ),
    (re.compile(r"^unknown (?:kind|mode) (.+) \(one of (.+)\)$"), N_("Unknown value %(a)s.")),
    (
        re.compile(r"^(.+) is not a prompt name: upload the WAV .*$"),
        N_(
            "%(a)s is not a prompt name: upload the recording on the Prompts page, then write "
            "its name here."
        ),
    ),
    (
        re.compile(r"^unknown key (.+) \(known: (.+)\)$"),
        N_("Unknown setting %(a)s (known: %(b)s)."),
    ),
]


def say(problem: str, lang: Lang) -> str:
    """``problem`` in ``lang``; unknown problems unchanged."""
    return say_by_pattern(PATTERNS, problem, lang, "ab")
