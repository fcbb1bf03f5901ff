"""cases (办件) and their history

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CASE_INDEXES = (
    "accepted_at",
    "applicant_hash",
    "department_id",
    "due_date",
    "first_officer_id",
    "item_id",
    "status",
    "window_id",
)


def upgrade() -> None:
    op.create_table(
        "case_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_no", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("client_ref", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("first_officer_id", sa.Integer(), nullable=False),
        sa.Column("applicant_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("applicant_masked", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("applicant_name_masked", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("ticket_no", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("committed_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("finished_on_spot", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["first_officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["service_item.id"]),
        sa.ForeignKeyConstraint(["window_id"], ["window.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_no"),
        sa.UniqueConstraint("client_ref"),
    )
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        for column in _CASE_INDEXES:
            batch_op.create_index(batch_op.f(f"ix_case_record_{column}"), [column], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_case_id"))
    op.drop_table("case_event")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        for column in reversed(_CASE_INDEXES):
            batch_op.drop_index(batch_op.f(f"ix_case_record_{column}"))
    op.drop_table("case_record")
