"""The review queue and the life of an evaluation (storage side).

Queue: :func:`fill_queue` gathers the week's calls (attempts bridged to an agent), flags
complaints and low survey scores, and adds what quality/sampling.py picks. Evaluations:
a reviewer scores a call (:func:`evaluate`); its agent acknowledges or disputes it; a
dispute puts the call back in the queue, where the reviewer keeps the score with a reply
(:func:`uphold`) or scores the call again (the old evaluation becomes ``revised``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, Disposition, Survey, SurveyAnswer, SurveyResponse
from campaigns.surveys import QuestionKind, parse_survey
from dialer.models import Attempt
from outdial.models import User, as_utc
from outdial.roles import Role
from outdial.storage import session_scope
from quality import cards, sampling, store
from quality.errors import EvaluationClosed, NotYourEvaluation, QualityNotFound, RuleInvalid
from quality.models import QcEvaluation, QcQueueItem, QcRule

#: a disposition is a complaint when its code or label says so
COMPLAINT = re.compile(r"complain|投诉", re.IGNORECASE)


class Status(StrEnum):
    OPEN = "open"  # scored; the agent has not answered yet
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"  # back in the reviewer's queue
    UPHELD = "upheld"  # the reviewer kept the score after a dispute, with a reply
    REVISED = "revised"  # replaced by a new evaluation of the same call


# --- the queue --------------------------------------------------------------------------


def _complaint_codes(s: Session) -> set[tuple[int, str]]:
    return {
        (d.campaign_id, d.code)
        for d in s.exec(select(Disposition))
        if COMPLAINT.search(d.code) or COMPLAINT.search(d.label)
    }


def _low_survey_calls(s: Session, call_ids: set[str]) -> set[str]:
    """Calls whose survey (keyed by call id) has a scale answer in its bottom quarter
    (1–2 on a 1–5 scale)."""
    if not call_ids:
        return set()
    rows = s.exec(
        select(SurveyResponse.idempotency_key, SurveyResponse.survey_id, SurveyAnswer)
        .join(SurveyAnswer, col(SurveyAnswer.response_id) == SurveyResponse.id)
        .where(col(SurveyResponse.idempotency_key).in_(call_ids))
    ).all()
    scales: dict[int, dict[str, tuple[int, int]]] = {}
    out: set[str] = set()
    for key, survey_id, ans in rows:
        if survey_id not in scales:
            survey = s.get(Survey, survey_id)
            qs = parse_survey(survey.definition).questions if survey else ()
            scales[survey_id] = {q.id: (q.low, q.high) for q in qs if q.kind is QuestionKind.SCALE}
        scale = scales[survey_id].get(ans.question_id)
        if scale and isinstance(ans.value, int) and not isinstance(ans.value, bool):
            low, high = scale
            if ans.value - low <= (high - low) / 4:
                out.add(key)
    return out


def call_facts(engine: Engine, start: datetime, end: datetime) -> list[sampling.CallFact]:
    """Calls an agent talked on that ended in [start, end)."""
    with session_scope(engine) as s:
        attempts = s.exec(
            select(Attempt).where(
                col(Attempt.agent_user_id).is_not(None),
                col(Attempt.bridged_at).is_not(None),
                col(Attempt.ended_at) >= start,
                col(Attempt.ended_at) < end,
            )
        ).all()
        complaints = _complaint_codes(s)
        low = _low_survey_calls(s, {a.call_id for a in attempts})
    return [
        sampling.CallFact(
            a.id or 0,
            a.agent_user_id or 0,
            as_utc(a.ended_at or start),
            (a.campaign_id, a.disposition) in complaints,
            a.call_id in low,
        )
        for a in attempts
    ]


def agent_facts(engine: Engine, now: datetime) -> dict[int, sampling.AgentFact]:
    """Agents with their account age and average score over the last four weeks."""
    since = now - timedelta(days=28)
    with session_scope(engine) as s:
        agents = s.exec(select(User).where(User.role == Role.AGENT.value)).all()
        scores: dict[int, list[float]] = {}
        for e in s.exec(select(QcEvaluation).where(col(QcEvaluation.created_at) >= since)):
            if e.agent_user_id is not None and e.status != Status.REVISED:
                scores.setdefault(e.agent_user_id, []).append(e.score)
    return {
        u.id or 0: sampling.AgentFact(
            u.id or 0,
            as_utc(u.created_at),
            sum(scores[u.id]) / len(scores[u.id]) if u.id in scores else None,
        )
        for u in agents
    }


def fill_queue(
    engine: Engine, now: datetime, rule: sampling.Rule | None = None, zone: str = "UTC"
) -> int:
    """Add this week's sample to the queue; returns how many calls were added."""
    rule = rule or get_rule(engine)
    start, end = sampling.week_of(now, zone)
    facts = call_facts(engine, start, end)
    agents = agent_facts(engine, now)
    with session_scope(engine) as s:
        ids = [f.attempt_id for f in facts]
        taken = {
            q.attempt_id: sampling.Reason(q.reason)
            for q in s.exec(select(QcQueueItem).where(col(QcQueueItem.attempt_id).in_(ids)))
        }
        picks = sampling.sample(facts, agents, taken, rule, now, zone)
        campaign_of = {
            a.id: a.campaign_id
            for a in s.exec(
                select(Attempt).where(col(Attempt.id).in_([p.attempt_id for p in picks]))
            )
        }
        for p in picks:
            s.add(
                QcQueueItem(
                    attempt_id=p.attempt_id,
                    agent_user_id=p.agent_id,
                    campaign_id=campaign_of[p.attempt_id],
                    reason=p.reason.value,
                    week=start.date().isoformat(),
                    created_at=now,
                )
            )
    return len(picks)


def queue(engine: Engine) -> list[dict[str, Any]]:
    """Open queue items, disputes first, then complaints, low surveys and routine picks."""
    order = {"dispute": 0, "complaint": 1, "low_survey": 2, "routine": 3}
    with session_scope(engine) as s:
        rows = s.exec(
            select(QcQueueItem, Attempt, Campaign)
            .join(Attempt, col(Attempt.id) == QcQueueItem.attempt_id)
            .join(Campaign, col(Campaign.id) == QcQueueItem.campaign_id)
            .where(QcQueueItem.status == "open")
        ).all()
        names = _names(s)
    out = [
        {
            "attempt_id": a.id,
            "reason": q.reason,
            "week": q.week,
            "agent": names.get(q.agent_user_id or 0, ""),
            "campaign": c.name,
            "kind": c.kind,
            "ended_at": as_utc(a.ended_at) if a.ended_at else None,
            "talk_seconds": a.talk_seconds,
            "disposition": a.disposition,
        }
        for q, a, c in rows
    ]
    earliest = datetime.min.replace(tzinfo=UTC)
    out.sort(key=lambda r: (order.get(str(r["reason"]), 9), r["ended_at"] or earliest))
    return out


def _names(s: Session) -> dict[int, str]:
    return {u.id or 0: u.display_name or u.username for u in s.exec(select(User))}


# --- one call ---------------------------------------------------------------------------


def call_detail(engine: Engine, attempt_id: int) -> dict[str, Any]:
    """Everything a reviewer looks at beside the recording."""
    with session_scope(engine) as s:
        a = s.get(Attempt, attempt_id)
        if a is None:
            raise QualityNotFound(f"no call #{attempt_id}", call=attempt_id)
        c = s.get(Campaign, a.campaign_id)
        dispo = s.exec(
            select(Disposition).where(
                Disposition.campaign_id == a.campaign_id, Disposition.code == a.disposition
            )
        ).first()
        survey = _survey_answers(s, a.call_id)
        evals = s.exec(
            select(QcEvaluation)
            .where(QcEvaluation.attempt_id == attempt_id)
            .order_by(col(QcEvaluation.id))
        ).all()
        names = _names(s)
        queued = s.exec(select(QcQueueItem).where(QcQueueItem.attempt_id == attempt_id)).first()
    return {
        "attempt": a,
        "campaign": c,
        "agent": names.get(a.agent_user_id or 0, ""),
        "disposition_label": dispo.label if dispo else "",
        "survey": survey,
        "evaluations": [
            {**_eval_dict(e), "reviewer": names.get(e.reviewer_id or 0, "")} for e in evals
        ],
        "queued": queued,
    }


def _survey_answers(s: Session, call_id: str) -> list[dict[str, Any]]:
    resp = s.exec(select(SurveyResponse).where(SurveyResponse.idempotency_key == call_id)).first()
    if resp is None:
        return []
    survey = s.get(Survey, resp.survey_id)
    questions = {q.id: q for q in parse_survey(survey.definition).questions} if survey else {}
    out = []
    for ans in s.exec(
        select(SurveyAnswer)
        .where(SurveyAnswer.response_id == resp.id)
        .order_by(col(SurveyAnswer.id))
    ):
        q = questions.get(ans.question_id)
        out.append(
            {
                "question": (q.zh, q.en) if q else (ans.question_id, ans.question_id),
                "value": None if ans.skipped else ans.value,
                "scale": f"{q.low}–{q.high}" if q and q.kind is QuestionKind.SCALE else "",
            }
        )
    return out


def _eval_dict(e: QcEvaluation) -> dict[str, Any]:
    return {
        "id": e.id,
        "attempt_id": e.attempt_id,
        "card_id": e.card_id,
        "score": e.score,
        "critical_failed": e.critical_failed,
        "failed": list(e.failed),
        "answers": dict(e.answers),
        "comment": e.comment,
        "status": e.status,
        "agent_comment": e.agent_comment,
        "reply": e.reply,
        "created_at": as_utc(e.created_at),
    }


# --- evaluations ------------------------------------------------------------------------


def evaluate(
    engine: Engine,
    attempt_id: int,
    card_id: int,
    raw_answers: Mapping[str, object],
    comment: str,
    reviewer_id: int | None,
    now: datetime,
) -> QcEvaluation:
    """Score a call with one card version; the composite comes from quality/cards.py.
    Committed before the page answers; an earlier disputed evaluation becomes ``revised``."""
    _, card = store.get_card(engine, card_id)
    answers = cards.parse_answers(card, raw_answers)
    result = cards.score(card, answers)
    with session_scope(engine) as s:
        a = s.get(Attempt, attempt_id)
        if a is None:
            raise QualityNotFound(f"no call #{attempt_id}", call=attempt_id)
        for old in s.exec(select(QcEvaluation).where(QcEvaluation.attempt_id == attempt_id)):
            if old.status in (Status.OPEN, Status.DISPUTED):
                old.status = Status.REVISED
                s.add(old)
        ev = QcEvaluation(
            attempt_id=attempt_id,
            card_id=card_id,
            agent_user_id=a.agent_user_id,
            campaign_id=a.campaign_id,
            reviewer_id=reviewer_id,
            answers=answers,
            score=result.composite,
            critical_failed=bool(result.critical_failed),
            failed=list(result.failed),
            comment=comment,
            created_at=now,
        )
        s.add(ev)
        _close_queue(s, attempt_id)
        s.commit()
        s.refresh(ev)
        return ev


def _close_queue(s: Session, attempt_id: int) -> None:
    item = s.exec(select(QcQueueItem).where(QcQueueItem.attempt_id == attempt_id)).first()
    if item is not None:
        item.status = "done"
        s.add(item)


def _own(s: Session, evaluation_id: int, agent_id: int) -> QcEvaluation:
    ev = s.get(QcEvaluation, evaluation_id)
    if ev is None:
        raise QualityNotFound(f"no evaluation #{evaluation_id}", evaluation=evaluation_id)
    if ev.agent_user_id != agent_id:
        raise NotYourEvaluation("this evaluation is another agent's", evaluation=evaluation_id)
    if ev.status != Status.OPEN:
        raise EvaluationClosed(
            f"this evaluation is already {ev.status}", evaluation=evaluation_id, status=ev.status
        )
    return ev


def acknowledge(engine: Engine, evaluation_id: int, agent_id: int, now: datetime) -> None:
    with session_scope(engine) as s:
        ev = _own(s, evaluation_id, agent_id)
        ev.status = Status.ACKNOWLEDGED
        ev.answered_at = now
        s.add(ev)


def dispute(engine: Engine, evaluation_id: int, agent_id: int, why: str, now: datetime) -> None:
    """The agent disagrees: the call goes back to the top of the reviewer's queue."""
    with session_scope(engine) as s:
        ev = _own(s, evaluation_id, agent_id)
        ev.status = Status.DISPUTED
        ev.agent_comment = why
        ev.answered_at = now
        s.add(ev)
        item = s.exec(select(QcQueueItem).where(QcQueueItem.attempt_id == ev.attempt_id)).first()
        if item is None:
            item = QcQueueItem(
                attempt_id=ev.attempt_id,
                agent_user_id=ev.agent_user_id,
                campaign_id=ev.campaign_id,
                week=now.date().isoformat(),
                reason=sampling.Reason.DISPUTE.value,
                created_at=now,
            )
        item.status, item.reason = "open", sampling.Reason.DISPUTE.value
        s.add(item)


def uphold(engine: Engine, evaluation_id: int, reply: str) -> None:
    """The reviewer keeps a disputed score, with a reply the agent reads."""
    with session_scope(engine) as s:
        ev = s.get(QcEvaluation, evaluation_id)
        if ev is None:
            raise QualityNotFound(f"no evaluation #{evaluation_id}", evaluation=evaluation_id)
        if ev.status != Status.DISPUTED:
            raise EvaluationClosed("only a disputed evaluation can be upheld", status=ev.status)
        ev.status = Status.UPHELD
        ev.reply = reply
        s.add(ev)
        _close_queue(s, ev.attempt_id)


def evaluations_of_agent(engine: Engine, agent_id: int) -> list[dict[str, Any]]:
    """An agent's own evaluations, newest first, with the card version's items and texts
    (never anyone else's: the agent id is the filter)."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(QcEvaluation, Attempt, Campaign)
            .join(Attempt, col(Attempt.id) == QcEvaluation.attempt_id)
            .join(Campaign, col(Campaign.id) == QcEvaluation.campaign_id)
            .where(QcEvaluation.agent_user_id == agent_id)
            .order_by(col(QcEvaluation.created_at).desc(), col(QcEvaluation.id).desc())
        ).all()
    out = []
    for e, a, c in rows:
        _, card = store.get_card(engine, e.card_id)
        out.append(
            {
                **_eval_dict(e),
                "campaign": c.name,
                "call_id": a.call_id,
                "call_at": as_utc(a.ended_at) if a.ended_at else None,
                "card": card,
                "sections": dict(cards.score(card, e.answers).sections),
            }
        )
    return out


# --- the sampling rule ------------------------------------------------------------------

RULE_FIELDS = ("per_agent", "new_agent_extra", "new_agent_days", "low_score_extra")


def get_rule(engine: Engine) -> sampling.Rule:
    """The rule reviewers set (quality/sampling.Rule's defaults until they do)."""
    with session_scope(engine) as s:
        row = s.get(QcRule, 1)
    if row is None:
        return sampling.Rule()
    return sampling.Rule(
        row.per_agent,
        row.new_agent_extra,
        row.new_agent_days,
        row.low_score_extra,
        row.low_score_floor,
    )


def save_rule(
    engine: Engine, rule: sampling.Rule, user_id: int | None, now: datetime
) -> sampling.Rule:
    problem = rule.problem()
    if problem:
        raise RuleInvalid(problem, field="rule")
    with session_scope(engine) as s:
        row = s.get(QcRule, 1) or QcRule(id=1)
        for name in (*RULE_FIELDS, "low_score_floor"):
            setattr(row, name, getattr(rule, name))
        row.updated_by, row.updated_at = user_id, now
        s.add(row)
    return rule
