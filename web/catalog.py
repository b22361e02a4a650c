"""Developer tooling for the console's message catalog (not used while serving).

    .venv/bin/python -m web.catalog          # add new message ids to the zh_CN .po

Message ids come from the page modules (``_``, ``N_``, ``gettext``, ``ngettext``) and from
the templates. tests/web/test_i18n.py runs :func:`missing` and fails on any id without a
Chinese translation.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from web.i18n import po_path

WEB_DIR = Path(__file__).parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("*.py", "python"),
]
OPTIONS = {"templates/**.html": {"extensions": "", "trimmed": "true"}}


def extracted() -> Catalog:
    """Every message id the console uses, with where it is used."""
    catalog = Catalog(locale="zh_CN", project="outdial", fuzzy=False)
    for filename, lineno, message, comments, _ctx in extract_from_dir(
        str(WEB_DIR), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments)
    return catalog


def current(locale: str = "zh_CN") -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def missing(locale: str = "zh_CN") -> list[str]:
    """Message ids used by the console that ``locale`` does not translate."""
    have = current(locale)
    out = []
    for msg in extracted():
        if not msg.id:
            continue
        found = have.get(msg.id)
        strings = found.string if found is not None else None
        texts = list(strings) if isinstance(strings, tuple | list) else [strings]
        if found is None or found.fuzzy or not all(texts):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


def update(locale: str = "zh_CN") -> int:
    """Merge new ids into the locale's .po (translations kept); the number still missing."""
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        catalog = current(locale)
        catalog.update(extracted(), no_fuzzy_matching=True)
    else:
        catalog = extracted()
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    return len(missing(locale))


if __name__ == "__main__":
    print(f"{update()} message ids still need a zh_CN translation")
