"""Disposition labels in the reader's language.

A new campaign gets campaigns/rules.py ``DEFAULT_DISPOSITIONS``, whose labels carry both
languages ("Success / 成功") because they are stored data (TOML, API). Pages show a default
label in the reader's language only; a label a manager typed is shown as typed, and a code the
campaign does not define is shown as the code itself.
"""

from __future__ import annotations

from collections.abc import Callable

from campaigns.rules import DEFAULT_DISPOSITIONS
from web.i18n import N_

#: the default codes' labels as msgids (zh_CN in messages.po, shared/glossary.md words)
DISPOSITION_WORDS = {
    "success": N_("Success"),
    "not_interested": N_("Not interested"),
    "callback": N_("Call back"),
    "do_not_call": N_("Do not call"),
    "wrong_number": N_("Wrong number"),
}
_DEFAULT_LABELS = {d.code: d.label for d in DEFAULT_DISPOSITIONS}


def disposition_text(code: str, label: str, gettext: Callable[[str], str]) -> str:
    """What a reader sees for a disposition ``code`` whose campaign label is ``label`` ("" when
    the campaign does not define the code)."""
    words = DISPOSITION_WORDS.get(code)
    default = _DEFAULT_LABELS.get(code)
    # "": a campaign with no disposition set of its own has the defaults (campaigns/rules.py)
    if words is not None and label in (default, words, ""):
        return gettext(words)
    return label or code
