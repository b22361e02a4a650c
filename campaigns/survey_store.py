"""Surveys in the database: definitions, responses and answers, results and exports.

Each answer is committed on its own, keyed by (response, question), so a response is
partial until it finishes and nothing entered is lost (issue 7). The math is in
campaigns/surveys.py; this module only fetches facts and writes files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from campaigns import store, survey_grouped, survey_results, surveys
from campaigns.models import Campaign, Survey, SurveyAnswer, SurveyResponse
from outdial import exports
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.models import User, as_utc
from outdial.storage import session_scope

RESPONSE_STATUSES = ("partial", "completed", "opted_out", "hung_up")
#: the zone whose calendar days count answers given outside any campaign
DAY_ZONE_DEFAULT = "UTC"


def save_survey(engine: Engine, survey: surveys.Survey) -> Survey:
    """Create or replace a survey definition by name."""
    with session_scope(engine) as s:
        row = s.exec(select(Survey).where(Survey.name == survey.name)).first() or Survey(
            name=survey.name
        )
        row.definition = surveys.survey_to_dict(survey)
        s.add(row)
        s.flush()
        s.refresh(row)
    return row


def list_surveys(engine: Engine) -> list[dict[str, Any]]:
    """Every survey: id, name, questions and how many responses (completed and all)."""
    with session_scope(engine) as s:
        rows = list(s.exec(select(Survey).order_by(col(Survey.id))))
        counts: dict[tuple[int, str], int] = {}
        for sid, status in s.exec(select(SurveyResponse.survey_id, SurveyResponse.status)):
            counts[(sid, status)] = counts.get((sid, status), 0) + 1
    return [
        {
            "id": r.id,
            "name": r.name,
            "questions": len(r.definition.get("questions", [])),
            "responses": sum(n for (sid, _), n in counts.items() if sid == r.id),
            "completed": counts.get((r.id or 0, "completed"), 0),
            "created_at": as_utc(r.created_at).isoformat(),
        }
        for r in rows
    ]


def get_survey(engine: Engine, ref: int | str) -> tuple[Survey, surveys.Survey]:
    """A survey by id or name, with its parsed definition."""
    with session_scope(engine) as s:
        if isinstance(ref, int) or str(ref).isdigit():
            row = s.get(Survey, int(ref))
        else:
            row = s.exec(select(Survey).where(Survey.name == ref)).first()
    if row is None:
        raise NotFound(f"no survey {ref!r}", survey=str(ref))
    return row, surveys.parse_survey(row.definition)


def start_response(
    engine: Engine,
    survey_id: int,
    idempotency_key: str,
    *,
    campaign_id: int | None = None,
    agent_id: int | None = None,
    channel: str = "agent",
    phone: str = "",
    contact_ref: str = "",
) -> tuple[SurveyResponse, bool]:
    """Open a response (once per key, e.g. the call id, and per agent: another agent's same
    key opens another response); (row, created)."""
    scoped = store.owner_key(agent_id, idempotency_key)
    row = SurveyResponse(
        idempotency_key=scoped,
        survey_id=survey_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        channel=channel,
        phone=phone,
        contact_ref=contact_ref,
    )
    try:
        with session_scope(engine) as s:
            s.add(row)
            s.flush()
            s.refresh(row)
        return row, True
    except IntegrityError:
        with session_scope(engine) as s:
            old = s.exec(
                select(SurveyResponse).where(SurveyResponse.idempotency_key == scoped)
            ).one()
        if old.survey_id != survey_id:
            raise Conflict(f"key {idempotency_key!r} belongs to another survey") from None
        return old, False


def save_answer(
    engine: Engine,
    response_id: int,
    question_id: str,
    value: object,
    now: datetime,
    skipped: bool = False,
) -> SurveyAnswer:
    """Commit one answer; saving the same question again replaces it (idempotent)."""
    with session_scope(engine) as s:
        resp = s.get(SurveyResponse, response_id)
        if resp is None:
            raise NotFound(f"no survey response {response_id}")
        sv = s.get(Survey, resp.survey_id)
        assert sv is not None
        q = surveys.parse_survey(sv.definition).question(question_id)
        clean = None if skipped else _clean(q, value, resp.channel)
        row = s.exec(
            select(SurveyAnswer)
            .where(SurveyAnswer.response_id == response_id)
            .where(SurveyAnswer.question_id == question_id)
        ).first() or SurveyAnswer(response_id=response_id, question_id=question_id)
        row.value, row.skipped, row.answered_at = clean, skipped, now
        s.add(row)
        s.flush()
        s.refresh(row)
    return row


def _clean(q: surveys.Question, value: object, channel: str) -> object:
    if q.kind is surveys.QuestionKind.OPEN and channel == "ivr":
        return str(value)  # the recording's reference
    return surveys.validate_answer(q, value)


def finish_response(engine: Engine, response_id: int, status: str, now: datetime) -> SurveyResponse:
    if status not in RESPONSE_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(RESPONSE_STATUSES)}")
    with session_scope(engine) as s:
        resp = s.get(SurveyResponse, response_id)
        if resp is None:
            raise NotFound(f"no survey response {response_id}")
        resp.status, resp.finished_at = status, now
        s.add(resp)
        s.flush()
        s.refresh(resp)
    return resp


def save_answers(
    engine: Engine,
    response_id: int,
    answers: Mapping[str, object],
    now: datetime,
    status: str | None = None,
) -> SurveyResponse:
    """Commit each answer alone (nothing entered is lost), then finish with ``status`` if one
    is given; a response whose every question has an answer is completed, never left
    partial (issue 16.9)."""
    for qid, value in answers.items():
        save_answer(engine, response_id, str(qid), value, now)
    if status is not None and status != "partial":
        return finish_response(engine, response_id, status, now)
    with session_scope(engine) as s:
        resp = s.get(SurveyResponse, response_id)
        if resp is None:
            raise NotFound(f"no survey response {response_id}")
        sv = s.get(Survey, resp.survey_id)
        assert sv is not None
        answered = s.exec(
            select(SurveyAnswer.question_id).where(SurveyAnswer.response_id == response_id)
        ).all()
        if resp.status == "partial" and surveys.all_answered(
            surveys.parse_survey(sv.definition), answered
        ):
            resp.status, resp.finished_at = "completed", now
            s.add(resp)
            s.flush()
        s.refresh(resp)
    return resp


Row = tuple[SurveyAnswer, SurveyResponse, Campaign | None, str]


def _rows(engine: Engine, survey_id: int) -> list[Row]:
    with session_scope(engine) as s:
        q = (
            select(SurveyAnswer, SurveyResponse, Campaign, User.username)
            .join(SurveyResponse, col(SurveyAnswer.response_id) == col(SurveyResponse.id))
            .outerjoin(Campaign, col(SurveyResponse.campaign_id) == col(Campaign.id))
            .outerjoin(User, col(SurveyResponse.agent_id) == col(User.id))
            .where(SurveyResponse.survey_id == survey_id)
            .order_by(col(SurveyResponse.id), col(SurveyAnswer.id))
        )
        return [(a, r, c, u or "") for a, r, c, u in s.exec(q)]


def _zones(engine: Engine, rows: list[Row]) -> dict[int, str]:
    """Each campaign's time zone (its definition's ``timezone``), by campaign id."""
    campaigns = {c.id: c for _a, _r, c, _u in rows if c is not None and c.id is not None}
    return {cid: store.spec_of(engine, c).timezone for cid, c in campaigns.items()}


def answer_facts(engine: Engine, survey_id: int) -> list[surveys.AnswerFact]:
    """Every non-skipped answer with its campaign, agent and answer time; its day is counted
    in the campaign's time zone (UTC for an answer outside any campaign)."""
    rows = _rows(engine, survey_id)
    zones = _zones(engine, rows)
    return [
        surveys.AnswerFact(
            a.question_id,
            a.value,
            c.name if c else "",
            u,
            as_utc(a.answered_at),
            zones.get(r.campaign_id or 0, DAY_ZONE_DEFAULT),
        )
        for a, r, c, u in rows
        if not a.skipped and a.value is not None
    ]


def results(engine: Engine, survey_ref: int | str, by: str | None = None) -> dict[str, Any]:
    """Stats per question, grouped ``by`` campaign, agent or day (see surveys.results).

    ``day_zones`` names the zone each campaign's days are counted in (campaign name -> IANA
    zone; ``""``, answers outside any campaign, counts UTC days): a day key ``2026-03-02`` of
    an Asia/Shanghai campaign is that calendar day in Shanghai.
    """
    row, survey = get_survey(engine, survey_ref)
    # counted by the database (campaigns/survey_grouped.py); the same as surveys.results of
    # answer_facts, which read every answer
    grouped, day_zones = survey_grouped.results(engine, survey, row.id or 0, by)
    return {
        "survey": {"id": row.id, "name": row.name},
        "by": by or "all",
        "day_zones": day_zones,
        "groups": {k: [st.as_dict() for st in v] for k, v in grouped.items()},
    }


def export_table(engine: Engine, survey_ref: int | str) -> list[list[object]]:
    """One row per response, one column per question (header first)."""
    row, survey = get_survey(engine, survey_ref)
    by_resp: dict[int, dict[str, object]] = {}
    meta: dict[int, list[object]] = {}
    for a, r, c, u in _rows(engine, row.id or 0):
        rid = r.id or 0
        name = c.name if c else ""
        meta[rid] = [rid, name, u, r.channel, r.status, as_utc(r.started_at).isoformat()]
        by_resp.setdefault(rid, {})[a.question_id] = "" if a.skipped else a.value
    header: list[object] = ["response", "campaign", "agent", "channel", "status", "started_at"]
    out = [header + [q.id for q in survey.questions]]
    for rid in sorted(meta):
        answers = by_resp.get(rid, {})
        out.append(meta[rid] + [_cell(answers.get(q.id, "")) for q in survey.questions])
    return out


def _cell(v: object) -> object:
    return ("yes" if v else "no") if isinstance(v, bool) else v


def to_csv(table: list[list[object]]) -> bytes:
    """Through outdial/exports.py: the one export path and escaping rule."""
    return exports.to_csv(table)


def to_xlsx(table: list[list[object]]) -> bytes:
    return exports.to_xlsx(table, "responses")


def response_facts(engine: Engine, survey_id: int) -> list[survey_results.ResponseFact]:
    """Every response to a survey, answered or not (an offered survey counts even when the
    customer hung up before the first answer), for campaigns/survey_results.py. Its time is
    that of its first answer (as the JSON results' days), or its start without one.

    Columns, not ORM objects: a results page reads every response (bench/survey_bench.py).
    """
    r_, a_ = SurveyResponse, SurveyAnswer
    of_survey = col(r_.survey_id) == survey_id
    with session_scope(engine) as s:
        columns = (r_.id, r_.campaign_id, User.username, r_.channel, r_.status, r_.started_at)
        rows = s.execute(
            sa.select(*map(col, (*columns, r_.phone)))
            .outerjoin(User, col(r_.agent_id) == col(User.id))
            .where(of_survey)
            .order_by(col(r_.id))
        ).all()
        answers = s.execute(
            sa.select(*map(col, (a_.response_id, a_.question_id, a_.value, a_.skipped)))
            .join(r_, col(a_.response_id) == col(r_.id))
            .where(of_survey)
        ).all()
        # a response counts on the day of its first answer
        firsts = s.execute(
            sa.select(col(a_.response_id), sa.func.min(col(a_.answered_at)))
            .join(r_, col(a_.response_id) == col(r_.id))
            .where(of_survey)
            .group_by(col(a_.response_id))
        ).all()
    first = {rid: as_utc(at) for rid, at in firsts if at is not None}
    given: dict[int, dict[str, object]] = {}
    skipped: dict[int, set[str]] = {}
    for rid, qid, value, skip in answers:
        if skip or value is None:
            skipped.setdefault(rid, set()).add(qid)
        else:
            given.setdefault(rid, {})[qid] = value
    wanted = {cid for _id, cid, *_rest in rows if cid is not None}
    camps = {c.id: c for c in store.all_campaigns(engine) if c.id in wanted}
    zones = {cid: store.spec_of(engine, c).timezone for cid, c in camps.items()}
    return [
        survey_results.ResponseFact(
            id=rid,
            campaign=camps[cid].name if cid in camps else "",
            agent=agent or "",
            channel=channel,
            status=status,
            started_at=first.get(rid, as_utc(started_at)),
            zone=zones.get(cid, DAY_ZONE_DEFAULT),
            phone=phone,
            answers=given.get(rid, {}),
            skipped=frozenset(skipped.get(rid, set())),
        )
        for rid, cid, agent, channel, status, started_at, phone in rows
    ]


def attached_campaigns(engine: Engine, survey_name: str) -> list[tuple[Campaign, bool]]:
    """Every campaign, and whether its definition names this survey."""
    return [
        (c, store.spec_of(engine, c).survey == survey_name) for c in store.all_campaigns(engine)
    ]


def attach(engine: Engine, survey_name: str, campaign_ids: set[int]) -> list[str]:
    """Make exactly ``campaign_ids`` name this survey (others that named it are cleared);
    the names of the campaigns changed."""
    changed = []
    for camp, has in attached_campaigns(engine, survey_name):
        want = camp.id in campaign_ids
        if want != has:
            spec = store.spec_of(engine, camp)
            store.save_spec(engine, replace(spec, survey=survey_name if want else ""))
            changed.append(camp.name)
    return changed


def ivr_answer(engine: Engine, survey_id: int, response_id: int, question_id: str) -> object:
    """The stored value of one IVR answer (an open answer's recording path), or None."""
    with session_scope(engine) as s:
        found = s.exec(
            select(SurveyAnswer.value)
            .join(SurveyResponse, col(SurveyAnswer.response_id) == col(SurveyResponse.id))
            .where(SurveyResponse.survey_id == survey_id)
            .where(SurveyResponse.channel == "ivr")
            .where(SurveyAnswer.response_id == response_id)
            .where(SurveyAnswer.question_id == question_id)
        ).first()
    return found
