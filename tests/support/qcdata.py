"""Test data for quality control: agents' calls (attempts), a complaint disposition, a low
survey answer, and a scorecard — inserted directly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dialdata
from sqlalchemy.engine import Engine

from campaigns import store as campaigns
from campaigns.models import Disposition, Survey, SurveyAnswer, SurveyResponse
from dialer.models import Attempt
from outdial import auth
from outdial.roles import Role
from outdial.storage import session_scope
from quality import cards

PASSWORD = "secret-pass-123"


def card_definition(name: str = "Order check", kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """The console's example card (quality.cards.example_card) under ``name`` and ``kinds``."""
    return {**cards.example_card(), "name": name, "kinds": list(kinds)}


def agent(engine: Engine, name: str, created: datetime | None = None) -> int:
    u = auth.create_user(engine, name, PASSWORD, Role.AGENT, sip_uri=f"sip:{name}@127.0.0.1")
    if created is not None:
        with session_scope(engine) as s:
            u.created_at = created
            s.add(u)
    assert u.id is not None
    return u.id


def floor(
    engine: Engine, ended: datetime, agents: dict[str, int], calls_each: int = 4
) -> dict[str, Any]:
    """A campaign of kind order_verification with ``calls_each`` talked calls per agent,
    ending from ``ended`` on; the first agent's first call is a complaint, their second has
    a survey score of 1. Returns ids."""
    camp = campaigns.create(engine, "Spring orders", kind="order_verification")
    assert camp.id is not None
    contacts = dialdata.add_contacts(
        engine, camp.id, [f"+86138000{i:05d}" for i in range(calls_each * len(agents))]
    )
    ids: dict[str, list[int]] = {}
    with session_scope(engine) as s:
        s.add(Disposition(campaign_id=camp.id, code="sale", label="Order confirmed"))
        s.add(Disposition(campaign_id=camp.id, code="complaint", label="Customer complained"))
        survey = Survey(
            name="after-call",
            definition={
                "name": "after-call",
                "questions": [{"id": "q1", "kind": "scale", "zh": "满意吗", "en": "Satisfied?"}],
            },
        )
        s.add(survey)
        s.flush()
        n = 0
        for name, uid in agents.items():
            for k in range(calls_each):
                at = ended + timedelta(minutes=10 * n)
                a = Attempt(
                    call_id=f"call-{name}-{k}",
                    campaign_id=camp.id,
                    contact_id=contacts[n],
                    number=f"+86138000{n:05d}",
                    state="ended",
                    final=True,
                    created_at=at - timedelta(minutes=3),
                    answered_at=at - timedelta(minutes=2, seconds=50),
                    bridged_at=at - timedelta(minutes=2, seconds=49),
                    ended_at=at,
                    sip_outcome="answered",
                    agent_user_id=uid,
                    talk_seconds=169.0,
                    disposition="complaint" if (n == 0) else "sale",
                    disposition_at=at + timedelta(seconds=20),
                    notes="customer asked about delivery",
                )
                s.add(a)
                s.flush()
                assert a.id is not None
                ids.setdefault(name, []).append(a.id)
                if n == 1:
                    r = SurveyResponse(
                        idempotency_key=a.call_id,
                        survey_id=survey.id or 0,
                        campaign_id=camp.id,
                        agent_id=uid,
                        status="completed",
                    )
                    s.add(r)
                    s.flush()
                    s.add(SurveyAnswer(response_id=r.id or 0, question_id="q1", value=1))
                n += 1
    return {"campaign_id": camp.id, "calls": ids}
