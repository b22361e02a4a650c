"""Number normalization: E.164, type, candidate zones, specific reject reasons; and the
column-wise fast path agrees with phonenumbers on every value."""

from __future__ import annotations

import json

import pandas as pd
import phonenumbers as pn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lists import numbers, phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not_a_number"),
        ("无", "not_a_number"),
        ("12", "too_short"),
        ("1234", "too_short"),
        ("123456789012345678901", "too_long"),
        ("+999 1234567", "invalid_country_code"),
        ("1380013800", "invalid_for_region"),
        ("10012345678", "invalid_for_region"),
    ],
)
def test_reject_reasons(raw: str, expected: str) -> None:
    assert phone.analyze(raw, "CN") == expected
    assert numbers.normalize(pd.Series([raw]), "CN").reason[0] == expected


@pytest.mark.parametrize(
    ("raw", "e164", "kind", "zones"),
    [
        ("13800138000", "+8613800138000", "mobile", ["Asia/Shanghai"]),
        ("138 0013 8000", "+8613800138000", "mobile", ["Asia/Shanghai"]),
        ("+86 137-0013-7000", "+8613700137000", "mobile", ["Asia/Shanghai"]),
        ("0086 13800138000", "+8613800138000", "mobile", ["Asia/Shanghai"]),
        ("１３８００１３８０００", "+8613800138000", "mobile", ["Asia/Shanghai"]),
        ("010-62345678", "+861062345678", "fixed_line", ["Asia/Shanghai"]),
        ("+1 212 555 0100", "+12125550100", "fixed_line_or_mobile", ["America/New_York"]),
    ],
)
def test_good_numbers(raw: str, e164: str, kind: str, zones: list[str]) -> None:
    out = numbers.normalize(pd.Series([raw, raw]), "CN")
    assert out.reason.tolist() == ["", ""]
    assert out.e164.tolist() == [e164, e164]
    assert out.kind[0] == kind
    assert json.loads(out.zones[0]) == zones
    assert out.distinct == 1


def test_other_default_region() -> None:
    out = numbers.normalize(pd.Series(["020 7946 0958", "07400 123456"]), "GB")
    assert out.e164.tolist() == ["+442079460958", "+447400123456"]
    assert out.kind.tolist() == ["fixed_line", "mobile"]


def _digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


values = st.one_of(
    st.builds(lambda p, d: p + d, st.sampled_from(["13", "15", "17", "18", "19", "14"]),
              _digits(7, 11)),
    st.builds(lambda p, d: p + d, st.sampled_from(["+86", "+44", "+1", "86", "0", "00", "179"]),
              _digits(2, 13)),
    _digits(0, 19),
    st.text(alphabet="0123456789 -+()abc", max_size=16),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=40), st.sampled_from(["CN", "GB", "DE", "US", "IN"]))
def test_column_path_agrees_with_phonenumbers(raws: list[str], region: str) -> None:
    out = numbers.normalize(pd.Series(raws), region)
    cleaned = numbers.clean(pd.Series(raws)).tolist()
    for i, text in enumerate(cleaned):
        ref = phone.analyze(text, region)
        if isinstance(ref, str):
            assert (out.reason[i], out.e164[i]) == (ref, ""), raws[i]
        else:
            assert out.reason[i] == "", raws[i]
            assert (out.e164[i], out.kind[i]) == ref[:2], raws[i]
            assert json.loads(out.zones[i]) == list(ref[2]), raws[i]
            parsed = pn.parse(out.e164[i])  # E.164 round trip
            assert pn.format_number(parsed, pn.PhoneNumberFormat.E164) == out.e164[i]


def test_many_numbers_use_the_worker_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numbers, "POOL_MIN", 10)
    monkeypatch.setattr(numbers, "BATCH", 7)
    # "tel:" URIs are no shape the fast path takes: all of these go to the reference path
    raws = [f"tel:+86-{c}-6234{n:04d}" for c in ("10", "21") for n in range(30)] + ["x"]
    seen: list[tuple[int, int]] = []
    out = numbers.normalize(pd.Series(raws), "CN", progress=lambda d, t: seen.append((d, t)))
    assert out.e164[0] == "+861062340000" and out.kind[0] == "fixed_line"
    assert out.reason[-1] == "not_a_number"
    assert seen[-1] == (61, 61)


def _agrees(raws: list[str], region: str) -> None:
    """normalize() says for every value what phonenumbers (lists.phone.analyze) says."""
    out = numbers.normalize(pd.Series(raws), region)
    cleaned = numbers.clean(pd.Series(raws)).tolist()
    for i, text in enumerate(cleaned):
        ref = phone.analyze(text, region)
        got = (out.e164[i], out.kind[i], json.loads(out.zones[i]) if out.zones[i] else [])
        if isinstance(ref, str):
            assert (out.reason[i], out.e164[i]) == (ref, ""), (raws[i], region)
        else:
            assert out.reason[i] == "" and got == (ref[0], ref[1], list(ref[2])), (raws[i], region)


TRUNK = [  # national forms with a trunk prefix (or carrier code), and their near misses
    ("CN", "010-62345678"),  # Beijing: 2-digit area code
    ("CN", "0755-83330000"),  # Shenzhen: 3-digit area code after the 0
    ("CN", "0912-1234567"),  # 4-digit area code, 7-digit subscriber
    ("CN", "0631-5241234"),
    ("CN", "010-6234567"),  # one digit short
    ("CN", "010-623456789"),  # one digit long
    ("CN", "0138 0013 8000"),  # a mobile written with a trunk 0
    ("CN", "+86 010 6234 5678"),  # international form that kept the trunk 0
    ("CN", "+86 0755 8333 0000"),
    ("CN", "0400-123-4567"),  # 400 and 800 numbers written with a 0
    ("CN", "0800-123-4567"),
    ("CN", "400-123-4567"),
    ("CN", "800-123-4567"),
    ("CN", "17951 13800138000"),  # IP-dialing carrier prefix
    ("CN", "12593 010 62345678"),
    ("CN", "00"),
    ("CN", "0"),
    ("CN", "01"),
    ("CN", "0" * 12),
    ("CN", "00 852 2123 4567"),  # international prefix: Hong Kong
    ("CN", "+852 2123 4567"),
    ("CN", "+853 2821 2345"),  # Macau
    ("CN", "+44 20 7946 0958"),
    ("CN", "010-62345678 ext. 12"),  # an extension: the reference path
    ("CN", "010-62345678转12"),
    ("CN", "０１０－６２３４５６７８"),  # full-width digits and dash
    ("DE", "030 12345678"),
    ("DE", "0151 23456789"),
    ("DE", "089 1234"),
    ("IN", "022 2345 6789"),
    ("IN", "098765 43210"),
    ("FR", "01 23 45 67 89"),
    ("FR", "06 12 34 56 78"),
    ("JP", "03-1234-5678"),  # JP: a transform rule in its national prefix
    ("JP", "090-1234-5678"),
    ("JP", "00037680312345678"),
    ("BR", "0 21 98765 4321"),  # BR and AR: carrier codes with transform rules
    ("BR", "0 15 21 98765 4321"),
    ("AR", "011 15 2345 6789"),
    ("AR", "0351 15 234 5678"),
    ("AU", "02 9876 5432"),
    ("AU", "0412 345 678"),
    ("HK", "2123 4567"),  # no national prefix
    ("HK", "02123 4567"),
    ("IT", "06 1234 5678"),  # Italian leading zeros stay: the reference path
    ("GB", "020 7946 0958"),  # one code, several regions: the reference path
    ("US", "1 212 555 0100"),
]


@pytest.mark.parametrize(("region", "raw"), TRUNK)
def test_trunk_prefix_fast_path_agrees_with_phonenumbers(region: str, raw: str) -> None:
    _agrees([raw, raw], region)


def test_trunk_prefixed_numbers_need_no_reference_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    def spy(raws: list[str], region: str) -> list[phone.Result]:
        sent.extend(raws)
        return [phone.analyze(r, region) for r in raws]

    monkeypatch.setattr(phone, "analyze_many", spy)
    raws = ["010-62345678", "0755-83330000", "0912-1234567", "+86 010 6234 5678", "0400-123-4567"]
    out = numbers.normalize(pd.Series(raws), "CN")
    assert out.e164.tolist() == [
        "+861062345678", "+8675583330000", "+869121234567", "+861062345678", "+864001234567",
    ]  # fmt: skip
    assert sent == []
    de = numbers.normalize(pd.Series(["030 12345678", "0151 23456789"]), "DE")
    assert de.e164.tolist() == ["+493012345678", "+4915123456789"] and sent == []


trunk_values = st.one_of(
    st.builds(lambda p, d: p + d, st.sampled_from(["0", "00", "0" * 3, "+860", "+490", "+330"]),
              _digits(0, 14)),
    st.builds(lambda p, d: p + d, st.sampled_from(["010", "020", "0755", "0912", "0400", "0800"]),
              _digits(4, 10)),
    st.builds(lambda p, d: p + d, st.sampled_from(["17951", "17911", "12593", "11", "179"]),
              _digits(0, 13)),
    st.builds(lambda p, d: p + d, st.sampled_from(["0 15 ", "090", "0037680", "00037", "015"]),
              _digits(0, 12)),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(trunk_values, min_size=1, max_size=30),
    st.sampled_from(["CN", "DE", "IN", "FR", "JP", "BR", "AR", "AU", "HK", "MO", "IT", "RU"]),
)
def test_trunk_fast_path_agrees_with_phonenumbers(raws: list[str], region: str) -> None:
    _agrees(raws, region)
