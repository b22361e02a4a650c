"""report_attempt_slots: attempt measures per closed 15-minute slot, kept exact by a trigger

A month's report grouped 1 M attempt rows by a slot computed per row (strftime) on every
report. Closed slots are now rolled up once into ``report_attempt_slots``
(reports/attempt_rollup.py). Attempt rows still change after their slot closed (a disposition
set in wrap-up or hours later, a transfer, recovery setting the agent, a late insert from
another node), whatever code path writes them, so a trigger on ``attempts`` records the slot
of every row written inside an already claimed slot (``report_rollup_marks`` row
``attempts_watch``) in ``report_dirty_attempt_slots``; the roll-up rolls those slots again.
A bridged attempt inserted, unbridged or deleted also dirties the later bridged attempts of
its contact (first-contact resolution looks at the contact's earlier attempts).

On PostgreSQL the trigger holds a shared advisory lock until its transaction ends and the
roll-up takes it exclusively to move the watch mark: a write either sees the new mark or
commits before the roll-up reads. On SQLite writers are serialised by the database lock.

Revision ID: 0007_rollup_attempt_slots
Revises: 0006_reports_agent_slots
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_rollup_attempt_slots"
down_revision = "0006_reports_agent_slots"
branch_labels = None
depends_on = "0006_sim_attempts_simulated"  # its batch ALTER of attempts would drop triggers

LOCK_KEY = 7150071  # reports/attempt_rollup.py WATCH_LOCK
WATCH = "(SELECT until_slot FROM report_rollup_marks WHERE name = 'attempts_watch')"


def _lite_slot(row: str) -> str:
    return f"(CAST(strftime('%s', {row}.created_at) AS INTEGER) / 900)"


def _lite_later(row: str, cond: str) -> str:
    """Slots of the later bridged attempts of ``row``'s contact (their FCR may change)."""
    return (
        "INSERT INTO report_dirty_attempt_slots (slot) "
        f"SELECT DISTINCT {_lite_slot('p')} FROM attempts p "
        f"WHERE ({cond}) AND p.contact_id = {row}.contact_id AND p.bridged_at IS NOT NULL "
        f"AND p.id > {row}.id AND {_lite_slot('p')} < {WATCH};"
    )


def _lite_own(row: str, cond: str = "1") -> str:
    return (
        "INSERT INTO report_dirty_attempt_slots (slot) "
        f"SELECT {_lite_slot(row)} WHERE ({cond}) AND {_lite_slot(row)} < {WATCH};"
    )


BRIDGE_CHANGED = (
    "(OLD.bridged_at IS NULL) <> (NEW.bridged_at IS NULL) OR OLD.contact_id <> NEW.contact_id"
)

SQLITE = [
    "CREATE TRIGGER report_attempts_dirty_insert AFTER INSERT ON attempts BEGIN "
    + _lite_own("NEW")
    + _lite_later("NEW", "NEW.bridged_at IS NOT NULL")
    + " END",
    "CREATE TRIGGER report_attempts_dirty_update AFTER UPDATE ON attempts BEGIN "
    + _lite_own("NEW")
    + _lite_own("OLD", f"{_lite_slot('OLD')} <> {_lite_slot('NEW')}")
    + _lite_later("NEW", BRIDGE_CHANGED)
    + _lite_later("OLD", BRIDGE_CHANGED)
    + " END",
    "CREATE TRIGGER report_attempts_dirty_delete AFTER DELETE ON attempts BEGIN "
    + _lite_own("OLD")
    + _lite_later("OLD", "OLD.bridged_at IS NOT NULL")
    + " END",
]

PG_SLOT = "floor(date_part('epoch', {row}.created_at) / 900)::bigint"
PG_LATER = """
    INSERT INTO report_dirty_attempt_slots (slot)
    SELECT DISTINCT floor(date_part('epoch', p.created_at) / 900)::bigint FROM attempts p
    WHERE p.contact_id = {row}.contact_id AND p.bridged_at IS NOT NULL AND p.id > {row}.id
      AND floor(date_part('epoch', p.created_at) / 900)::bigint < watch;"""
POSTGRESQL = [
    f"""
CREATE FUNCTION report_attempts_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  watch bigint;
  s bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared({LOCK_KEY});
  SELECT until_slot INTO watch FROM report_rollup_marks WHERE name = 'attempts_watch';
  IF watch IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    s := {PG_SLOT.format(row="NEW")};
    IF s < watch THEN
      INSERT INTO report_dirty_attempt_slots (slot) VALUES (s);
    END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    s := {PG_SLOT.format(row="OLD")};
    IF s < watch AND (TG_OP = 'DELETE' OR s <> {PG_SLOT.format(row="NEW")}) THEN
      INSERT INTO report_dirty_attempt_slots (slot) VALUES (s);
    END IF;
  END IF;
  IF TG_OP = 'INSERT' AND NEW.bridged_at IS NOT NULL THEN{PG_LATER.format(row="NEW")}
  ELSIF TG_OP = 'DELETE' AND OLD.bridged_at IS NOT NULL THEN{PG_LATER.format(row="OLD")}
  ELSIF TG_OP = 'UPDATE' AND ({BRIDGE_CHANGED}) THEN{PG_LATER.format(row="NEW")}{PG_LATER.format(row="OLD")}
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER report_attempts_dirty AFTER INSERT OR UPDATE OR DELETE ON attempts "
    "FOR EACH ROW EXECUTE FUNCTION report_attempts_dirty()",
]


def upgrade() -> None:
    op.create_table(
        "report_attempt_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        *(
            sa.Column(c, sa.Integer(), nullable=False)
            for c in ("dials", "live", "contacts", "bridged", "abandoned")
        ),
        sa.Column("ring_sum", sa.Float(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in ("ring_n", "first_bridged")),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_attempt_slots_slot", "report_attempt_slots", ["slot"], unique=False)
    op.create_table(
        "report_dirty_attempt_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    # the roll-up's marks go with its table: upgraded again, it rolls up from the start
    op.execute("DELETE FROM report_rollup_marks WHERE name IN ('attempts', 'attempts_watch')")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER report_attempts_dirty_{name}")
    else:
        op.execute("DROP TRIGGER report_attempts_dirty ON attempts")
        op.execute("DROP FUNCTION report_attempts_dirty()")
    op.drop_table("report_dirty_attempt_slots")
    op.drop_index("ix_report_attempt_slots_slot", table_name="report_attempt_slots")
    op.drop_table("report_attempt_slots")
