"""Candidate time zones and line type of an E.164 number (rule 32), via libphonenumber.

``phonenumbers`` is pure (data tables, no I/O after import), so the core may call it, but a
full parse costs ~80 µs; the adapter should derive zones once per contact (at list import)
and pass them in ``Request.zones``. ``describe`` is cached per number for callers that don't.

Invalid or unknown numbers give ``("Etc/Unknown",)``, which blocks (rule 33).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as pn_timezone

from compliance.errors import NumberFormatError
from compliance.windows import UNKNOWN_ZONE

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class LineType(StrEnum):
    MOBILE = "mobile"
    FIXED = "fixed"
    UNKNOWN = "unknown"  # fixed-or-mobile, VoIP, unknown: treated like mobile (rule 10)


_TYPES = {
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE: LineType.FIXED,
}


@dataclass(frozen=True)
class NumberInfo:
    e164: str
    valid: bool
    zones: tuple[str, ...]
    region: str | None  # ISO country of the number, e.g. "US"
    line_type: LineType
    area_code: int | None  # NANP area code, for the state rules (rules 14-16)


def is_e164(text: str) -> bool:
    return bool(E164.match(text))


def nanp_area_code(e164: str) -> int | None:
    if len(e164) == 12 and e164.startswith("+1") and e164[2:5].isdigit():
        return int(e164[2:5])
    return None


@lru_cache(maxsize=262_144)
def describe(e164: str) -> NumberInfo:
    """Zones (``time_zones_for_number``), validity, region and line type of one number."""
    if not is_e164(e164):
        raise NumberFormatError(f"not an E.164 number: {e164!r}", number=e164)
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(e164, False, (UNKNOWN_ZONE,), None, LineType.UNKNOWN, None)
    valid = phonenumbers.is_valid_number(parsed)
    zones = tuple(pn_timezone.time_zones_for_number(parsed)) if valid else (UNKNOWN_ZONE,)
    line = _TYPES.get(phonenumbers.number_type(parsed), LineType.UNKNOWN)
    region = phonenumbers.region_code_for_number(parsed)
    return NumberInfo(e164, valid, zones or (UNKNOWN_ZONE,), region, line, nanp_area_code(e164))


def candidate_zones(e164: str, address_zone: str | None = None) -> tuple[str, ...]:
    """Union of the number's zones and the contact's address zone (rule 32), sorted.

    A malformed number gives ``("Etc/Unknown",)`` so the caller blocks instead of failing.
    """
    try:
        zones = set(describe(e164).zones)
    except NumberFormatError:
        zones = {UNKNOWN_ZONE}
    if address_zone:
        zones.add(address_zone)
    return tuple(sorted(zones))
