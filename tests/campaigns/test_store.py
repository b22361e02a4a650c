"""Campaign storage on SQLite and on a real PostgreSQL: definitions, callbacks, orders,
surveys and return visits, idempotent on retry and surviving a new engine (restart)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from campaigns import callbacks, orders, return_visits, rules, store, survey_store, surveys
from campaigns.errors import CallbackRefused, VerdictAlreadySet
from outdial import auth, storage
from outdial.errors import Conflict, NotFound
from outdial.models import as_utc

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai


def make(engine: Engine, kind: str = "generic", **extra: object) -> int:
    spec = rules.parse_campaign(
        {"name": f"c-{kind}", "kind": kind, "caller_id": "+861012345678", **extra}
    )
    row, version = store.save_spec(engine, spec, webhook_secret="s3cret")
    assert version == 1 and row.id is not None
    return row.id


def test_definition_round_trip_and_version_bump(engine: Engine) -> None:
    cid = make(engine, "return_visit", return_visit_delay_days=5, script="您好 {name}")
    spec = store.spec_of(engine, store.get(engine, cid))
    assert spec.return_visit_delay_days == 5 and spec.script == "您好 {name}"
    changed = rules.parse_campaign(
        {**rules.spec_to_dict(spec), "dispositions": [{"code": "ok", "success": True}]}
    )
    _, version = store.save_spec(engine, changed)
    assert version == 2
    data = store.campaign_json(engine, store.resolve(engine, "c-return_visit"))
    assert [d["code"] for d in data["definition"]["dispositions"]] == ["ok"]
    assert data["webhook_secret_set"] is True and "s3cret" not in str(data)


def test_disposition_is_idempotent_on_its_key(engine: Engine) -> None:
    cid = make(engine)
    first, created = store.record_disposition(engine, cid, "call-1", "success")
    again, created2 = store.record_disposition(engine, cid, "call-1", "success")
    assert created and not created2 and first.id == again.id
    with pytest.raises(Conflict):
        store.record_disposition(engine, cid, "call-1", "not_interested")


def test_callbacks_survive_a_new_engine_and_move_to_the_team(engine: Engine) -> None:
    cid = make(engine, callback_team_delay_minutes=10)
    agent = auth.create_user(engine, "wang", "password-1", "agent")
    cb, created = callbacks.schedule(
        engine, cid, "+8613800000000", datetime(2026, 3, 2, 15, 0), "Asia/Shanghai", NOW,
        owner_id=agent.id, idempotency_key="k1",
    )  # fmt: skip
    assert created and as_utc(cb.due_at) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    _, created2 = callbacks.schedule(
        engine, cid, "+8613800000000", datetime(2026, 3, 2, 15, 0), "Asia/Shanghai", NOW,
        owner_id=agent.id, idempotency_key="k1",
    )  # fmt: skip
    assert not created2
    with pytest.raises(CallbackRefused, match="next legal time is 2026-03-03T09:00"):
        callbacks.schedule(
            engine,
            cid,
            "+86138",
            datetime(2026, 3, 2, 22, 0),
            "Asia/Shanghai",
            NOW,
            owner_id=agent.id,
        )

    restarted = storage.make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        [row] = callbacks.list_callbacks(restarted, actor_id=agent.id)
        assert row.id == cb.id
        due_at = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
        assert [c.id for c in callbacks.due(restarted, due_at, agent.id)] == [cb.id]
        assert callbacks.move_missed_to_team(restarted, due_at + timedelta(minutes=9)) == []
        assert callbacks.move_missed_to_team(restarted, due_at + timedelta(minutes=10)) == [cb.id]
        assert callbacks.get(restarted, cb.id or 0).owner_kind == "team"
    finally:
        restarted.dispose()


def test_reschedule_cancel_and_agent_visibility(engine: Engine) -> None:
    cid = make(engine)
    a = auth.create_user(engine, "a1", "password-1", "agent")
    b = auth.create_user(engine, "b1", "password-1", "agent")
    cb, _ = callbacks.schedule(
        engine, cid, "+86139", datetime(2026, 3, 3, 10, 0), "Asia/Shanghai", NOW, owner_id=a.id
    )
    with pytest.raises(NotFound):
        callbacks.get(engine, cb.id or 0, actor_id=b.id)
    moved = callbacks.reschedule(
        engine, cb.id or 0, datetime(2026, 3, 4, 11, 0), NOW, actor_id=a.id
    )
    assert moved.reschedules == 1 and moved.local_time == "2026-03-04T11:00"
    closed = callbacks.close(engine, cb.id or 0, "cancelled", NOW, actor_id=a.id)
    assert closed.status == "cancelled"
    assert callbacks.close(engine, cb.id or 0, "cancelled", NOW).status == "cancelled"  # retry
    assert callbacks.list_callbacks(engine) == []


def test_orders_idempotent_verdict_outbox_and_deadline(engine: Engine) -> None:
    cid = make(engine, "order_verification", webhook_url="http://127.0.0.1:9/hook")
    campaign = store.get(engine, cid)
    order = {
        "external_id": "SO-1",
        "phone": "+8613800000001",
        "lines": [{"sku": "A", "qty": 1}],
        "address": "北京市",
        "ship_by": "2026-03-03T18:00:00+08:00",
    }
    [(o, created)] = orders.upsert_orders(engine, campaign, [order])
    [(o2, created2)] = orders.upsert_orders(engine, campaign, [order])
    assert created and not created2 and o.id == o2.id
    verdict = {"verdict": "changed", "changes": {"address": "上海市"}}
    _, first = orders.set_verdict(engine, "SO-1", verdict, NOW)
    _, again = orders.set_verdict(engine, "SO-1", verdict, NOW)
    assert first and not again
    with pytest.raises(VerdictAlreadySet):
        orders.set_verdict(engine, "SO-1", {"verdict": "confirmed"}, NOW)
    [d] = orders.deliveries(engine)
    assert d.payload["verdict"] == "changed" and d.payload["changes"] == {"address": "上海市"}

    orders.upsert_orders(engine, campaign, [{**order, "external_id": "SO-2"}])
    assert orders.expire_overdue(engine, NOW) == []
    late = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert orders.expire_overdue(engine, late) == ["SO-2"]
    assert orders.get_order(engine, "SO-2").verdict == "unreachable"
    assert len(orders.due_deliveries(engine, late)) == 2


def test_survey_answers_are_kept_partial_and_results_computed(engine: Engine) -> None:
    cid = make(engine, "satisfaction_survey")
    agent = auth.create_user(engine, "li", "password-1", "agent")
    row = survey_store.save_survey(engine, surveys.SEED_TEMPLATE)
    resp, created = survey_store.start_response(
        engine, row.id or 0, "call-9", campaign_id=cid, agent_id=agent.id
    )
    again, created2 = survey_store.start_response(engine, row.id or 0, "call-9", agent_id=agent.id)
    assert created and not created2 and resp.id == again.id
    survey_store.save_answer(engine, resp.id or 0, "overall", 4, NOW)
    survey_store.save_answer(engine, resp.id or 0, "overall", 5, NOW)  # replaced, not duplicated
    survey_store.save_answer(engine, resp.id or 0, "comment", "服务很好", NOW)
    data = survey_store.results(engine, row.id or 0, "agent")
    overall = data["groups"]["li"][0]
    assert overall["count"] == 1 and overall["mean"] == 5
    table = survey_store.export_table(engine, "seed_satisfaction")
    assert table[1][6] == 5 and table[1][-1] == "服务很好"
    assert "服务很好".encode() in survey_store.to_csv(table)
    assert survey_store.to_xlsx(table)[:2] == b"PK"


def test_return_visits_due_after_n_days(engine: Engine) -> None:
    cid = make(engine, "return_visit", return_visit_delay_days=3)
    task = {
        "external_id": "R1",
        "phone": "+8613800000002",
        "subject": "洗衣机安装",
        "happened_at": "2026-03-01T12:00:00+08:00",
    }
    [(t, created)] = return_visits.add_tasks(engine, store.get(engine, cid), [task])
    [(_, created2)] = return_visits.add_tasks(engine, store.get(engine, cid), [task])
    assert created and not created2
    assert as_utc(t.due_at) == datetime(2026, 3, 4, 4, 0, tzinfo=UTC)
    assert return_visits.due_tasks(engine, cid, datetime(2026, 3, 4, 3, 59, tzinfo=UTC)) == []
    assert len(return_visits.due_tasks(engine, cid, datetime(2026, 3, 4, 4, 0, tzinfo=UTC))) == 1


def test_a_retired_key_in_a_stored_definition_is_dropped_on_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key an older outdial stored (rules.RETIRED_KEYS) does not make the campaign
    unreadable; in a new file or request it is refused like any unknown key."""
    from campaigns.errors import CampaignInvalid
    from campaigns.models import CampaignSettings
    from outdial.storage import session_scope

    spec = rules.parse_campaign({"name": "old", "caller_id": "+861012345678"})
    row, _ = store.save_spec(engine, spec)
    with session_scope(engine) as s:
        settings = s.get(CampaignSettings, row.id)
        assert settings is not None
        settings.spec = {**settings.spec, "old_key": "x"}
        s.add(settings)
    monkeypatch.setattr(rules, "RETIRED_KEYS", frozenset({"old_key"}))
    assert store.spec_of(engine, row) == spec
    with pytest.raises(CampaignInvalid, match="old_key"):
        rules.parse_campaign({"name": "new", "caller_id": "+861012345678", "old_key": "x"})


def test_campaigns_an_agent_may_take(engine: Engine) -> None:
    """None assigned: any campaign; assigned: only those; unknown ids change nothing."""
    agent = auth.create_user(engine, "a1", "secret-pass-123", "agent")
    assert agent.id is not None
    a = store.create(engine, "b-campaign").id or 0
    b = store.create(engine, "a-campaign").id or 0
    assert [c.name for c in store.campaigns_for_agent(engine, agent.id)] == [
        "a-campaign",
        "b-campaign",
    ]
    assert store.may_take(engine, agent.id, a)
    assert store.set_agent_campaigns(engine, agent.id, [a, a]) == [a]
    assert [c.id for c in store.campaigns_for_agent(engine, agent.id)] == [a]
    assert store.may_take(engine, agent.id, a) and not store.may_take(engine, agent.id, b)
    with pytest.raises(NotFound):
        store.set_agent_campaigns(engine, agent.id, [b, 999])
    assert store.assigned_campaigns(engine, agent.id) == [a]  # unchanged
    store.set_agent_campaigns(engine, agent.id, [])
    assert store.may_take(engine, agent.id, b)
