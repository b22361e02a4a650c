"""Logging with structlog: console lines on a terminal, JSON lines otherwise.

Every line — ours and the standard library's (aiohttp's access log, SQLAlchemy,
Alembic) — passes :func:`mask_phone_numbers`, which keeps only the last four
digits of anything that looks like a phone number. Call-centre logs are read
by many people; a customer's number is personal data (compliance rule 30/31).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote_plus

import structlog

# A run of 7+ digits, possibly with a leading + and up to two spaces, dots, dashes
# or parentheses between digits: +86 138-1234-5678, (212) 555-1234, 13812345678.
# Not every run of digits is a number (issue 16.10): the status code and size that follow
# an access log's request line ("GET / HTTP/1.1" 200 2086) are skipped, and digits split by
# spaces only count as one number from 10 digits on (0755 8888 1234, 138 1234 5678) —
# "200 2086" is two numbers; each piece is still masked alone if it is 7+ digits long.
_AFTER_REQUEST_LINE = (
    r'(?<!HTTP/1\.[01]" )(?<!HTTP/2\.0" )(?<!HTTP/1\.[01]" \d{3} )(?<!HTTP/2\.0" \d{3} )'
)
_HEX_ID = (
    r"(?<![0-9A-Za-z])(?=[0-9a-fA-F-]*[a-fA-F])"
    r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,})(?![0-9A-Za-z])"
)
_PHONE = re.compile(
    # dates and times first, so "2026-11-23 14:29" is left alone; then phone-like runs
    r"(?P<date>\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)"
    # then identifiers: a SIP Call-ID, a UUID or a hash is hex with letters in it, and its
    # digit runs are not phone numbers (a call id masked in the log cannot be traced)
    r"|(?P<hexid>" + _HEX_ID + r")"
    # digits glued to letters count too ("TEL13912345678" in a path, issue 18 finding 11)
    r"|(?P<phone>(?<!\d)" + _AFTER_REQUEST_LINE + r"\+?\(?\d(?:[\s().+-]{0,2}\d){6,}(?!\d))"
)
_SPACED_MIN_DIGITS = 10
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def mask_text(text: str) -> str:
    """Mask every phone-number-like run in ``text``, keeping its last 4 digits. URL-encoded
    text (``%2B86%20139...`` in an access log's request line) is decoded first."""
    if "%" in text and _ESCAPE.search(text):
        text = unquote_plus(text)
    return _PHONE.sub(_mask_match, text)


def _mask_match(m: re.Match[str]) -> str:
    if m.group("date") is not None or m.group("hexid") is not None:
        return m.group(0)
    s = m.group(0)
    digits = sum(c.isdigit() for c in s)
    spaced_only = not s.startswith("+") and not any(c in "().-" for c in s)
    if spaced_only and digits < _SPACED_MIN_DIGITS and not s.isdigit():
        # several short numbers side by side: mask only a piece that is a number by itself
        return re.sub(
            r"\d+", lambda p: _mask_digits(p.group(0)) if len(p.group(0)) >= 7 else p.group(0), s
        )
    return _mask_digits(s)


def _mask_digits(s: str) -> str:
    digits = sum(c.isdigit() for c in s)
    keep_from = digits - 4
    out, seen = [], 0
    for c in s:
        if c.isdigit():
            out.append(c if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1_000_000:
        return mask_text(str(value))
    return value


def mask_phone_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask numbers in every value, the event text included."""
    for key, value in list(event_dict.items()):
        if key in {"timestamp", "level", "logger", "_record", "_from_structlog"}:
            continue
        if key == "exc_info":
            continue
        event_dict[key] = _mask_value(value)
    return event_dict


def _mask_exception(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    exc = event_dict.get("exception")
    if isinstance(exc, str):
        event_dict["exception"] = mask_text(exc)
    return event_dict


def configure(log_format: str = "auto", level: str = "info", stream: Any = None) -> None:
    """Set up structlog and the standard library to write through the same processors."""
    stream = stream or sys.stderr
    as_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_phone_numbers,
    ]
    renderer: Any
    if as_json:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        final = [structlog.processors.format_exc_info, _mask_exception, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
        final = [renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
