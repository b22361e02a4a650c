"""One number at a time, through phonenumbers: the reference path.

No pandas here: process-pool workers import this module alone, so they start
fast. ``lists/numbers.py`` handles the common shapes column-wise and sends
everything else (and every number its fast path finds invalid) here, so the
reasons a row is rejected always come from phonenumbers itself.
"""

from __future__ import annotations

import phonenumbers as pn
from phonenumbers import timezone as pn_tz

#: reject reasons, in the words the import report uses
EMPTY = "empty"
NOT_A_NUMBER = "not_a_number"
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
INVALID_COUNTRY_CODE = "invalid_country_code"
INVALID_LENGTH = "invalid_length"
INVALID_FOR_REGION = "invalid_for_region"
REASONS = (
    EMPTY,
    NOT_A_NUMBER,
    TOO_SHORT,
    TOO_LONG,
    INVALID_COUNTRY_CODE,
    INVALID_LENGTH,
    INVALID_FOR_REGION,
)

_PARSE_REASON = {
    pn.NumberParseException.INVALID_COUNTRY_CODE: INVALID_COUNTRY_CODE,
    pn.NumberParseException.NOT_A_NUMBER: NOT_A_NUMBER,
    pn.NumberParseException.TOO_SHORT_AFTER_IDD: TOO_SHORT,
    pn.NumberParseException.TOO_SHORT_NSN: TOO_SHORT,
    pn.NumberParseException.TOO_LONG: TOO_LONG,
}
POSSIBLE_REASON = {
    pn.ValidationResult.TOO_SHORT: TOO_SHORT,
    pn.ValidationResult.TOO_LONG: TOO_LONG,
    pn.ValidationResult.INVALID_LENGTH: INVALID_LENGTH,
    pn.ValidationResult.INVALID_COUNTRY_CODE: INVALID_COUNTRY_CODE,
}

TYPE_NAMES = {
    pn.PhoneNumberType.FIXED_LINE: "fixed_line",
    pn.PhoneNumberType.MOBILE: "mobile",
    pn.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    pn.PhoneNumberType.TOLL_FREE: "toll_free",
    pn.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    pn.PhoneNumberType.SHARED_COST: "shared_cost",
    pn.PhoneNumberType.VOIP: "voip",
    pn.PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    pn.PhoneNumberType.PAGER: "pager",
    pn.PhoneNumberType.UAN: "uan",
    pn.PhoneNumberType.VOICEMAIL: "voicemail",
    pn.PhoneNumberType.UNKNOWN: "unknown",
}

#: (e164, type name, candidate time zones) for a good number; a reason string otherwise
Result = tuple[str, str, tuple[str, ...]] | str


def known_region(region: str) -> bool:
    """A region phonenumbers has metadata for (CN, US, GB, ...)."""
    return region.upper() in pn.SUPPORTED_REGIONS


def analyze(raw: str, region: str) -> Result:
    """Parse ``raw`` against ``region``; the E.164 form, type and zones, or why not."""
    text = raw.strip()
    if not text:
        return EMPTY
    if not any(ch.isdigit() for ch in text):
        return NOT_A_NUMBER
    try:
        num = pn.parse(text, region)
    except pn.NumberParseException as exc:
        return _PARSE_REASON.get(exc.error_type, NOT_A_NUMBER)
    if not pn.is_valid_number(num):
        reason = pn.is_possible_number_with_reason(num)
        return POSSIBLE_REASON.get(reason, INVALID_FOR_REGION)
    kind = TYPE_NAMES.get(pn.number_type(num), "unknown")
    # rule 32: libphonenumber's candidate zones; "Etc/Unknown" is kept and means BLOCK (rule 33)
    zones = tuple(pn_tz.time_zones_for_number(num))
    return pn.format_number(num, pn.PhoneNumberFormat.E164), kind, zones


def analyze_many(raws: list[str], region: str) -> list[Result]:
    """A batch for a pool worker (one pickled round trip per batch)."""
    return [analyze(raw, region) for raw in raws]
