"""The console's languages: zh-CN and English, Babel catalogs compiled when the app starts.

Message ids are the English text (``_("Floor board")``), so English needs no catalog;
``web/locale/zh_CN/LC_MESSAGES/messages.po`` holds the Chinese. The .po is compiled in memory
at start-up (no build step, no committed .mo); tests/web/test_i18n.py fails when a message
id in a template or page module has no Chinese translation.

The language is, in order: the user's saved choice (web/models.py), the ``outdial_lang``
cookie, the browser's Accept-Language, English.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from datetime import date as date_
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
DEFAULT = "en"
LANG_COOKIE = "outdial_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a message id for extraction where it is translated later (``_(variable)``)."""
    return message


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (English: the ids themselves)."""
    path = po_path(locale)
    if locale == "en" or not path.is_file():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def normalise(tag: str | None) -> str | None:
    """'zh-cn', 'zh_Hans_CN', 'zh' -> 'zh_CN'; 'en-GB' -> 'en'; unknown -> None."""
    if not tag:
        return None
    t = tag.strip().replace("-", "_").lower()
    if t.startswith("zh"):
        return "zh_CN"
    if t.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str) -> str | None:
    """The best of our locales in an Accept-Language header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        loc = normalise(tag)
        if loc and q > 0:
            choices.append((-q, i, loc))
    return min(choices)[2] if choices else None


@dataclass(frozen=True)
class Lang:
    """What a template needs to speak one language: gettext and formatters."""

    code: str

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.code == "zh_CN" else "en"

    def gettext(self, message: str, **values: object) -> str:
        """The translation of ``message``, %-formatted with ``values`` when given."""
        text = translations(self.code).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, num: int, **values: object) -> str:
        """The plural form for ``num``; ``%(num)d`` and ``values`` filled in."""
        text = translations(self.code).ngettext(singular, plural, num)
        return text % {"num": num, **values}

    def number(self, value: float | int | None) -> str:
        return "—" if value is None else numbers.format_decimal(value, locale=self.code)

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        fmt = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
        return numbers.format_percent(value, fmt, locale=self.code)

    def duration(self, seconds: float | None) -> str:
        """m:ss (h:mm:ss past an hour): how call centres read handle and state times."""
        if seconds is None:
            return "—"
        s = max(0, round(seconds))
        h, rem = divmod(s, 3600)
        m, sec = divmod(rem, 60)
        return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"

    def ago(self, seconds: float) -> str:
        return dates.format_timedelta(
            timedelta(seconds=seconds), threshold=1.5, locale=self.code, add_direction=True
        )

    def datetime(self, value: datetime | None, zone: str = "UTC") -> str:
        """A time in ``zone``, with the zone named (the issue: times say which zone)."""
        if value is None:
            return "—"
        local = value.astimezone(ZoneInfo(zone))
        text = dates.format_datetime(local, "short", locale=self.code)
        return f"{text} ({zone})"

    def date(self, value: date_ | None) -> str:
        """A calendar date in the locale's medium form."""
        return "—" if value is None else dates.format_date(value, "medium", locale=self.code)

    def language_name(self, code: str) -> str:
        """Each language in its own words, as a language menu shows them."""
        return {"zh_CN": "简体中文", "en": "English"}.get(code, code)


def lang(code: str | None) -> Lang:
    return Lang(code if code in LOCALES else DEFAULT)


def say_by_pattern(
    patterns: list[tuple[re.Pattern[str], str]], text: str, lang: Lang, letters: str = "abcd"
) -> str:
    """An engine's English sentence in ``lang``: the first pattern that matches gives the
    msgid, its groups the values ``%(a)s``, ``%(b)s``, ...; an unknown sentence unchanged."""
    for pattern, message in patterns:
        m = pattern.match(text.strip())
        if m:
            values = dict(zip(letters, m.groups(), strict=False))
            return lang.gettext(message, **values) if values else lang.gettext(message)
    return text
