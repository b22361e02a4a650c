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
    raws = [f"0{c}-6234{n:04d}" for c in ("10", "21") for n in range(30)] + ["x"]
    seen: list[tuple[int, int]] = []
    out = numbers.normalize(pd.Series(raws), "CN", progress=lambda d, t: seen.append((d, t)))
    assert out.e164[0] == "+861062340000" and out.kind[0] == "fixed_line"
    assert out.reason[-1] == "not_a_number"
    assert seen[-1] == (61, 61)
