"""Phone numbers never reach a log line unmasked, wherever they are logged from."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from outdial import logs


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    logs.configure("json", "debug", stream=out)
    yield out
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+8613812345678", "+*********5678"),
        ("13812345678", "*******5678"),
        ("+1 (212) 555-1234", "+* (***) ***-1234"),
        ("010-6552-9988", "***-****-9988"),
        ("call 0755 8888 1234 now", "call **** **** 1234 now"),
    ],
)
def test_mask_text_keeps_last_four_digits(raw: str, masked: str) -> None:
    assert logs.mask_text(raw) == masked


def test_short_numbers_and_words_are_untouched() -> None:
    assert (
        logs.mask_text("attempt 42 of campaign 7, port 8080")
        == "attempt 42 of campaign 7, port 8080"
    )


def test_structlog_event_fields_and_nested_values_are_masked(stream: io.StringIO) -> None:
    log = structlog.get_logger("t")
    log.info(
        "dialing +8613812345678", to="+12125551234", extra={"alt": ["13912345678"]}, n=13812345678
    )
    out = stream.getvalue()
    for full in ("8613812345678", "2125551234", "13912345678", "13812345678"):
        assert full not in out
    (line,) = lines(stream)
    assert line["to"] == "+*******1234"
    assert str(line["event"]).endswith("5678")


def test_stdlib_and_third_party_log_lines_are_masked(stream: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").info('"GET /api/contacts?phone=13812345678 HTTP/1.1" 200')
    logging.getLogger("other").warning("peer %s hung up", "sip:+442071234567@127.0.0.1")
    out = stream.getvalue()
    assert "13812345678" not in out and "442071234567" not in out
    assert "*******5678" in out and "4567@127.0.0.1" in out


def test_exceptions_are_masked(stream: io.StringIO) -> None:
    try:
        raise RuntimeError("cannot dial 13812345678")
    except RuntimeError:
        structlog.get_logger("t").exception("failed")
    assert "13812345678" not in stream.getvalue()


@given(st.from_regex(r"\+?[1-9][0-9]{6,14}", fullmatch=True))
def test_any_number_keeps_only_last_four(number: str) -> None:
    masked = logs.mask_text(f"to {number}.")
    digits = [c for c in masked if c.isdigit()]
    assert "".join(digits) == number[-4:]


def test_dates_and_times_are_not_taken_for_numbers() -> None:
    text = "next run at 2026-11-23 14:29:13 UTC, 2026-11-23T14:29:13.5+00:00, to 13812345678"
    assert logs.mask_text(text) == (
        "next run at 2026-11-23 14:29:13 UTC, 2026-11-23T14:29:13.5+00:00, to *******5678"
    )


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ('"POST /api/x HTTP/1.1" 200 2086 "-"', '"POST /api/x HTTP/1.1" 200 2086 "-"'),
        ('"GET /?p=13812345678 HTTP/1.1" 404 123456', '"GET /?p=*******5678 HTTP/1.1" 404 123456'),
        ("took 200 2086 ms", "took 200 2086 ms"),  # two short numbers, not one phone number
        ("ids 1234567 9", "ids ***4567 9"),  # a 7-digit piece is still masked on its own
        ("tel 138 1234 5678", "tel *** **** 5678"),
    ],
)  # fmt: skip
def test_status_codes_and_short_numbers_are_not_phone_numbers(raw: str, masked: str) -> None:
    """Issue 16.10: mask phone numbers, not every run of digits."""
    assert logs.mask_text(raw) == masked


def test_the_access_log_keeps_its_status_code(stream: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").info(
        '127.0.0.1 [07/Dec/2026:00:10:00 +0000] "POST /api/dnc HTTP/1.1" 201 2086123 "-" "curl"'
    )
    (line,) = lines(stream)
    assert '" 201 2086123 "' in str(line["event"])


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ('GET /api/dnc/%2B8613912345678 HTTP/1.1" 404', "13912345678"),
        ("GET /api/orders/TEL13912345678 HTTP/1.1", "13912345678"),
        ("GET /api/x?n=%2B86%20139%201234%205678", "139 1234"),
        ("GET /api/x?n=%2B86+139+1234+5678", "139"),
    ],
)
def test_numbers_are_masked_after_url_decoding_and_inside_paths(raw: str, hidden: str) -> None:
    """Issue 18 finding 11: the access log's request line, encoded or glued to letters."""
    out = logs.mask_text(raw)
    assert hidden not in out and "5678" in out


@pytest.mark.parametrize(
    "ident",
    [
        "57169db110f24fea87f3123871049d28",  # a Call-ID that failed CI once: 3123871049 inside
        "57169db1-10f2-4fea-87f3-123871049d28",
        "a3f1234567890bcd",
    ],
)
def test_hex_identifiers_are_not_taken_for_numbers(ident: str) -> None:
    """A call id masked in the log cannot be traced; a number next to it still is masked."""
    assert logs.mask_text(f"call {ident} to 13812345678") == f"call {ident} to *******5678"


def test_a_number_glued_to_letters_that_are_not_hex_is_still_masked() -> None:
    assert logs.mask_text("TEL13912345678x") == "TEL*******5678x"
    assert logs.mask_text("1391234567812345") == "************2345"  # digits only: no id
