"""campaigns/verdicts.py: order verdicts and the webhook retry schedule (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import verdicts
from campaigns.errors import VerdictInvalid

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def test_verdicts() -> None:
    assert verdicts.parse_verdict({"verdict": "confirmed"}).verdict is verdicts.Verdict.CONFIRMED
    changed = verdicts.parse_verdict({"verdict": "changed", "changes": {"address": "上海市"}})
    assert changed.details() == {"changes": {"address": "上海市"}, "reason": ""}
    for bad in (
        {"verdict": "maybe"},
        {"verdict": "changed"},
        {"verdict": "changed", "changes": {"price": 1}},
        {"verdict": "cancelled"},
        {"verdict": "confirmed", "changes": {"address": "x"}},
    ):
        with pytest.raises(VerdictInvalid):
            verdicts.parse_verdict(bad)
    assert verdicts.overdue(T0, None, T0) and not verdicts.overdue(T0, "confirmed", T0)
    assert not verdicts.overdue(T0, None, T0 - timedelta(seconds=1))


@given(st.lists(st.floats(0, 1), min_size=1, max_size=200))
def test_webhook_schedule_backs_off_and_dies_within_24h(jitters: list[float]) -> None:
    now, last_gap = T0, 0.0
    for attempts, j in enumerate(jitters, start=1):
        nxt = verdicts.webhook_retry_at(attempts, T0, now, j)
        if nxt is None:
            assert now + timedelta(seconds=15) > T0 + verdicts.WEBHOOK_GIVE_UP - timedelta(hours=1)
            return
        gap = (nxt - now).total_seconds()
        assert 15 <= gap <= verdicts.WEBHOOK_CAP_SECONDS
        assert nxt <= T0 + verdicts.WEBHOOK_GIVE_UP
        last_gap, now = gap, nxt
    assert last_gap > 0
