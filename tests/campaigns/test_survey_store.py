"""Survey storage and exports (issue 18 findings 8, 9)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from campaigns import survey_store, surveys
from campaigns.errors import SurveyInvalid


def test_survey_exports_escape_formulas_and_survive_bad_stored_text(
    sqlite_engine: Engine,
) -> None:
    """Issue 18 findings 8, 9: =HYPERLINK is not live in either format; a lone surrogate or
    NUL already stored (before input was validated) does not make the export fail."""
    row = survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE)
    resp, _ = survey_store.start_response(sqlite_engine, row.id or 0, "k1", agent_id=None)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    survey_store.save_answer(sqlite_engine, resp.id or 0, "comment", '=HYPERLINK("x","y")', now)
    with pytest.raises(SurveyInvalid):
        survey_store.save_answer(sqlite_engine, resp.id or 0, "comment", "a\ud800", now)
    resp2, _ = survey_store.start_response(sqlite_engine, row.id or 0, "k2", agent_id=None)
    survey_store.save_answer(sqlite_engine, resp2.id or 0, "comment", "placeholder", now)
    with sqlite_engine.begin() as conn:  # as an older version could have stored it
        conn.execute(
            sa.text("UPDATE survey_answers SET value = :v WHERE response_id = :r"),
            {"v": '"bad\\ud800\\u0000x"', "r": resp2.id},
        )
    table = survey_store.export_table(sqlite_engine, row.id or 0)
    text = survey_store.to_csv(table).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "bad\ufffd\ufffdx" in text
    ws = openpyxl.load_workbook(io.BytesIO(survey_store.to_xlsx(table))).active
    cells = [c.value for r in ws.iter_rows() for c in r]
    assert '\'=HYPERLINK("x","y")' in cells
