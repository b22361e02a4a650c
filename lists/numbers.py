"""Phone numbers column-wise: clean, dedupe, validate a million numbers in seconds.

phonenumbers costs ~50 µs a number (parse, validate, type, zones). A list
repeats numbers and shares a handful of shapes, so the work is split:

1. Clean the whole column with pandas string ops (strip separators, NFKC for
   full-width digits) and keep one copy of each distinct cleaned value.
2. Fast path, exact by construction: for a country code that belongs to one
   region, a value that is ``+<cc><nsn>`` or a bare national number that
   phonenumbers' parse would leave as it is (no international prefix, no
   national prefix or carrier code, no leading country code, no leading zero)
   has ``national_number == nsn``. Its type is then computed the way
   ``phonenumbers._number_type_helper`` does it, with the same metadata regexes,
   but column-wise. Only *valid* numbers leave the fast path.
   A value that starts with a national prefix or a leading zero (``010-62345678``,
   ``+86 0755 ...``, a carrier code) takes one more step, per value but with
   phonenumbers' own functions (a few µs, not a whole parse): the prefix is
   stripped exactly as ``parse`` strips it, and the value joins the fast path
   only when what is left is the national number ``parse`` ends with and cannot
   hold a leading zero.
3. Time zones depend only on (type, the first digits of the E.164 number up to
   the longest prefix the zone table holds for the country): computed once per
   such key with phonenumbers itself (rule 32).
4. Everything else goes through :func:`lists.phone.analyze` (the reference), on
   a pool of two processes when there is much of it (not inside a worker of
   lists/pipeline.py, which is one already), so values of other shapes get the
   reasons phonenumbers gives.

``tests/lists/test_numbers.py`` checks the fast path against the reference.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers as pn
from phonenumbers import timezone as pn_tz

# the steps of phonenumbers' parse that strip a national prefix: reused, not rewritten
from phonenumbers.phonenumberutil import _maybe_strip_national_prefix_carrier_code as _pn_strip
from phonenumbers.phonenumberutil import _test_number_length as _pn_length
from phonenumbers.tzdata import TIMEZONE_DATA

from lists import phone

#: below this many numbers for the reference path, a pool costs more than it saves
POOL_MIN = 20_000
BATCH = 10_000
WORKERS = 2
_SEPARATORS = r"[\s\-().\u00a0/\u3000]"

Progress = Callable[[int, int], None]
#: what ``_test_number_length`` says when ``parse`` keeps the national prefix after all
_KEEPS_PREFIX = (
    pn.ValidationResult.TOO_SHORT,
    pn.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pn.ValidationResult.INVALID_LENGTH,
)


@dataclass(frozen=True)
class Normalized:
    """Per input value (aligned with the input Series): E.164, type, zones JSON, reason."""

    e164: np.ndarray  # object: str, "" when rejected
    kind: np.ndarray  # object: type name, "" when rejected
    zones: np.ndarray  # object: JSON list text, "" when rejected
    reason: np.ndarray  # object: "" when good, else a lists.phone reason
    distinct: int  # distinct cleaned values parsed


def clean(values: pd.Series) -> pd.Series:
    """Strip blanks and separators; full-width digits become ASCII (NFKC)."""
    out = values.astype("str")
    messy = ~out.str.fullmatch(r"\+?[0-9]+").fillna(False)
    if messy.any():
        out = out.where(~messy, out[messy].str.replace(_SEPARATORS, "", regex=True))
    wide = ~out.str.isascii().fillna(True)
    if wide.any():
        out = out.where(~wide, out[wide].str.normalize("NFKC"))
    return out


def normalize(
    values: pd.Series, region: str, progress: Progress | None = None, parallel: bool = True
) -> Normalized:
    """Normalize a column of raw numbers against ``region`` (e.g. ``"CN"``); ``parallel``:
    the reference path may use a pool of its own (never inside a pool worker)."""
    region = region.upper()
    codes, uniq = pd.factorize(clean(values), sort=False)
    uniq_s = pd.Series(uniq, dtype="str")
    n = len(uniq_s)
    e164 = np.full(n, "", dtype=object)
    kind = np.full(n, "", dtype=object)
    zones = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)

    fast_idx, nsn, cc = _fast_candidates(uniq_s, region)
    slow_mask = np.ones(n, dtype=bool)
    if len(fast_idx):
        types = _types(nsn, region)
        good = types != ""
        idx = fast_idx[good]
        good_nsn = nsn[good].reset_index(drop=True)
        e164[idx] = ("+" + str(cc) + good_nsn).to_numpy(dtype=object)
        kind[idx] = types[good]
        zones[idx] = _zones(cc, good_nsn, types[good])
        reason[fast_idx[~good]] = _invalid_reasons(cc, nsn[~good].str.len().to_numpy())
        slow_mask[fast_idx] = False
    slow_idx = np.flatnonzero(slow_mask)
    slow_raw = uniq_s.to_numpy(dtype=object)[slow_idx].tolist()
    for i, res in zip(slow_idx, _reference(slow_raw, region, progress, parallel), strict=True):
        if isinstance(res, str):
            reason[i] = res
        else:
            e164[i], kind[i] = res[0], res[1]
            zones[i] = _zones_json(res[2])
    return Normalized(e164[codes], kind[codes], zones[codes], reason[codes], n)


def _fast_candidates(uniq: pd.Series, region: str) -> tuple[np.ndarray, pd.Series, int]:
    """Positions of values whose national number is known without parsing, and that number."""
    cc = pn.country_code_for_region(region)
    regions = pn.COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
    md = pn.PhoneMetadata.metadata_for_region(region)
    empty = (np.array([], dtype=np.int64), pd.Series([], dtype="str"), cc)
    if cc == 0 or md is None or len(regions) != 1:
        return empty
    digits = uniq.str.fullmatch(r"\+?[0-9]{2,20}").fillna(False).to_numpy(dtype=bool)
    plus = uniq.str.startswith("+" + str(cc)).fillna(False).to_numpy(dtype=bool) & digits
    bare = digits & ~uniq.str.startswith("+").fillna(False).to_numpy(dtype=bool)
    bare &= ~uniq.str.startswith(str(cc)).fillna(False).to_numpy(dtype=bool)
    if md.international_prefix:
        bare &= ~uniq.str.match(md.international_prefix).fillna(False).to_numpy(dtype=bool)
    nsn = uniq.where(~plus, uniq.str.slice(len(str(cc)) + 1))
    lengths = nsn.str.len().to_numpy()
    shaped = (plus | bare) & (lengths >= 2)
    # a leading zero or a national prefix (trunk "0", carrier codes): phonenumbers strips it,
    # or keeps it, by rules run below per value; anything else is the national number as is
    prefixed = nsn.str.startswith("0").fillna(False).to_numpy(dtype=bool)
    if md.national_prefix_for_parsing:
        npfp = nsn.str.match(md.national_prefix_for_parsing).fillna(False)
        prefixed = prefixed | npfp.to_numpy(dtype=bool)
    direct = np.flatnonzero(shaped & ~prefixed & (lengths <= 17))
    todo = np.flatnonzero(shaped & prefixed)
    stripped = _strip_national_prefixes(nsn.iloc[todo].tolist(), md)
    done = np.array([s is not None for s in stripped], dtype=bool)
    idx = np.concatenate([direct, todo[done]])
    out = nsn.iloc[direct].tolist() + [s for s in stripped if s is not None]
    return idx, pd.Series(out, dtype="str"), cc


def _strip_national_prefixes(numbers: list[str], md: pn.PhoneMetadata) -> list[str | None]:
    """Per national number (digits) that may start with a national prefix: the national
    number phonenumbers' ``parse`` ends with, when it strips the prefix and what is left
    cannot hold a leading zero; None otherwise (the reference path decides).

    These are the steps ``_parse_helper`` takes, with its own functions: strip the prefix
    (and carrier code, or apply the region's transform rule) unless that leaves a number
    the region's pattern rejects, keep the stripped form only if its length is possible
    (or too long), then refuse lengths outside 2..17.
    """
    out: list[str | None] = []
    for number in numbers:
        _, national, _ = _pn_strip(number, md)
        keep = (
            national != number
            and 2 <= len(national) <= 17
            and national[0] != "0"  # an Italian leading zero: phonenumbers decides
            and _pn_length(national, md) not in _KEEPS_PREFIX
        )
        out.append(national if keep else None)
    return out


def _types(nsn: pd.Series, region: str) -> np.ndarray:
    """``phonenumbers._number_type_helper`` column-wise; "" where the number is not valid."""
    md = pn.PhoneMetadata.metadata_for_region(region)
    assert md is not None  # _fast_candidates returns nothing for an unknown region
    out = np.full(len(nsn), "", dtype=object)
    lengths = nsn.str.len().to_numpy()
    todo = _matches(md.general_desc, nsn, lengths, np.ones(len(nsn), dtype=bool))
    order = [
        (md.premium_rate, "premium_rate"),
        (md.toll_free, "toll_free"),
        (md.shared_cost, "shared_cost"),
        (md.voip, "voip"),
        (md.personal_number, "personal_number"),
        (md.pager, "pager"),
        (md.uan, "uan"),
        (md.voicemail, "voicemail"),
    ]
    for desc, name in order:
        hit = _matches(desc, nsn, lengths, todo)
        out[hit] = name
        todo &= ~hit
    fixed = _matches(md.fixed_line, nsn, lengths, todo)
    if md.same_mobile_and_fixed_line_pattern:
        out[fixed] = "fixed_line_or_mobile"
        return out
    both = _matches(md.mobile, nsn, lengths, fixed)
    out[fixed & ~both] = "fixed_line"
    out[both] = "fixed_line_or_mobile"
    out[_matches(md.mobile, nsn, lengths, todo & ~fixed)] = "mobile"
    return out


def _matches(
    desc: pn.PhoneNumberDesc | None, nsn: pd.Series, lengths: np.ndarray, among: np.ndarray
) -> np.ndarray:
    """``phonenumbers._is_number_matching_desc`` for the rows in ``among``."""
    hit = np.zeros(len(nsn), dtype=bool)
    if desc is None or not desc.national_number_pattern:
        return hit
    cand = among.copy()
    if desc.possible_length:
        cand &= np.isin(lengths, list(desc.possible_length))
    idx = np.flatnonzero(cand)
    if len(idx):
        sub = nsn.iloc[idx].str.fullmatch(desc.national_number_pattern)
        hit[idx] = sub.fillna(False).to_numpy(dtype=bool)
    return hit


def _invalid_reasons(cc: int, lengths: np.ndarray) -> np.ndarray:
    """Why a valid-shaped but invalid number is rejected: ``is_possible_number_with_reason``
    looks only at the national number's length, so ask it once per length."""
    out = np.empty(len(lengths), dtype=object)
    for length in np.unique(lengths):
        num = pn.PhoneNumber(country_code=cc, national_number=int("5" * int(length)))
        why = pn.is_possible_number_with_reason(num)
        out[lengths == length] = phone.POSSIBLE_REASON.get(why, phone.INVALID_FOR_REGION)
    return out


def _zones(cc: int, nsn: pd.Series, types: np.ndarray) -> np.ndarray:
    """Candidate zones (JSON) per number, looked up once per (type, zone-table prefix)."""
    width = _zone_prefix_width(cc) - len(str(cc))
    keys = pd.Series(types, dtype="str") + "|" + nsn.str.slice(0, max(width, 0))
    kcodes, kuniq = pd.factorize(keys)
    firsts = np.unique(kcodes, return_index=True)[1]
    values = np.empty(len(kuniq), dtype=object)
    for k, pos in enumerate(firsts):
        num = pn.PhoneNumber(country_code=cc, national_number=int(nsn.iloc[pos]))
        values[k] = _zones_json(tuple(pn_tz.time_zones_for_number(num)))
    return np.asarray(values[kcodes], dtype=object)


@cache
def _zone_prefix_width(cc: int) -> int:
    """Digits of an E.164 number the zone table can look at, for this country code."""
    prefix = str(cc)
    return max((len(k) for k in TIMEZONE_DATA if k.startswith(prefix)), default=len(prefix))


@cache
def _zones_json(zones: tuple[str, ...]) -> str:
    return json.dumps(list(zones))


def _reference(
    raws: list[str], region: str, progress: Progress | None, parallel: bool = True
) -> list[phone.Result]:
    """The reference path; on two worker processes when there is enough to share."""
    total = len(raws)
    batches = [raws[i : i + BATCH] for i in range(0, total, BATCH)]
    out: list[phone.Result] = []
    if total < POOL_MIN or not parallel:
        for batch in batches:
            out.extend(phone.analyze_many(batch, region))
            if progress:
                progress(len(out), total)
        return out
    # forkserver: the importer may run in a web server thread, where fork is unsafe
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx) as pool:
        for res in pool.map(phone.analyze_many, batches, [region] * len(batches)):
            out.extend(res)
            if progress:
                progress(len(out), total)
    return out
