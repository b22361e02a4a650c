"""lists/consent.py: which columns say consent, what their cells mean, consent dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lists import columns, consent


def test_consent_columns_are_found_and_never_taken_for_other_fields() -> None:
    headers = ["手机号", "姓名", "是否同意", "同意日期", "同意凭证", "送货日期"]
    found = consent.find_columns(headers)
    assert found == consent.ConsentColumns("是否同意", "同意日期", "同意凭证")
    cmap = columns.map_columns(headers, visit_dates=True)
    assert cmap.visit_date == "送货日期"  # 同意日期 contains 日期 but is the consent's date
    assert {"是否同意", "同意日期", "同意凭证"} <= set(cmap.custom)
    assert consent.find_columns(["phone", "Consent Date"]) is None  # a date alone says nothing
    assert consent.find_columns(["phone", "Opt-In", "consent_date"]) == consent.ConsentColumns(
        "Opt-In", "consent_date"
    )


@pytest.mark.parametrize(
    ("cell", "status"),
    [("是", "granted"), (" YES ", "granted"), ("已同意", "granted"), ("1", "granted"),
     ("拒绝", "refused"), ("不同意", "refused"), ("Refused", "refused"),
     ("否", None), ("no", None), ("", None), (None, None), ("可能", None)],
)  # fmt: skip
def test_only_an_explicit_yes_is_consent_and_only_an_explicit_no_a_refusal(
    cell: object, status: str | None
) -> None:
    assert consent.status_of(cell) == status  # rule 26: silence is no consent, not a refusal


def test_consent_dates_in_the_campaign_zone() -> None:
    at = consent.parse_when("2026年11月2日 10:30", "Asia/Shanghai")
    assert at is not None and at.astimezone(UTC) == datetime(2026, 11, 2, 2, 30, tzinfo=UTC)
    assert consent.parse_when("2026/11/20", "UTC") == datetime(2026, 11, 20, tzinfo=UTC)
    assert consent.parse_when("2026-11-20T10:00:00+00:00", "Asia/Shanghai") == datetime(
        2026, 11, 20, 10, tzinfo=UTC
    )
    for bad in ("", "soon", "2026-13-01", "20/11/2026"):
        assert consent.parse_when(bad, "UTC") is None
