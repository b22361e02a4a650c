"""National registry snapshot in memory (rules 7, 24)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from compliance import registry
from compliance.errors import NumberFormatError
from compliance.registry import Registry, from_lines, to_int


def test_rule_7_lookup_in_unsorted_input_with_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "SHIFT", 6)  # many small blocks
    nums = [f"+1212555{n:04d}" for n in random.Random(1).sample(range(10_000), 50)]
    reg = from_lines("us-national", date(2026, 11, 1), [*nums, nums[0], "", "# comment"])
    assert len(reg) == 50
    assert list(reg.numbers) == sorted(set(reg.numbers))
    assert all(n in reg for n in nums)
    missing = sorted(set(range(10_000)) - {int(n[-4:]) for n in nums})[:50]
    assert not any(f"+1212555{m:04d}" in reg for m in missing)
    assert "garbage" not in reg and 12125550000 not in reg
    assert "+442071234567" not in reg  # outside every block


def test_rule_7_ten_digit_us_lines_are_normalised() -> None:
    reg = from_lines("us-national", date(2026, 11, 1), ["2125551234\n"])
    assert "+12125551234" in reg


def test_rule_7_binary_round_trip(tmp_path: Path) -> None:
    reg = from_lines("us-national", date(2026, 11, 1), ["+12125551234", "+13055551234"])
    path = tmp_path / "reg.bin"
    with path.open("wb") as fh:
        reg.save(fh)
    again = Registry.load("us-national", date(2026, 11, 1), path)
    assert list(again.numbers) == list(reg.numbers)


def test_to_int_rejects_non_e164() -> None:
    assert to_int("+442071234567") == 442071234567
    with pytest.raises(NumberFormatError):
        to_int("+0123")
