"""attendance: rules, officer schedules, leave, make-up punches, audit

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_utc = sqlmodel.sql.sqltypes.UTCDateTime


def _decision_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "attendance_config",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
    )
    op.create_table(
        "officer_schedule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("officer_id", sa.Integer(), sa.ForeignKey("officer.id"), nullable=False, unique=True),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
    )
    op.create_table(
        "leave_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("officer_id", sa.Integer(), sa.ForeignKey("officer.id"), nullable=False),
        sa.Column("leave_type", _str(length=16), nullable=False),
        sa.Column("start_at", _utc(), nullable=False),
        sa.Column("end_at", _utc(), nullable=False),
        sa.Column("reason", _str(length=500), nullable=False),
        *_decision_columns(),
    )
    op.create_index("ix_leave_request_officer_id", "leave_request", ["officer_id"])
    op.create_index("ix_leave_request_start_at", "leave_request", ["start_at"])
    op.create_index("ix_leave_request_end_at", "leave_request", ["end_at"])
    op.create_table(
        "makeup_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("officer_id", sa.Integer(), sa.ForeignKey("officer.id"), nullable=False),
        sa.Column("window_id", sa.Integer(), sa.ForeignKey("window.id"), nullable=False),
        sa.Column("punch_at", _utc(), nullable=False),
        sa.Column("reason", _str(length=500), nullable=False),
        *_decision_columns(),
        sa.Column("punch_id", sa.Integer(), sa.ForeignKey("punch.id"), nullable=True, unique=True),
    )
    op.create_index("ix_makeup_request_officer_id", "makeup_request", ["officer_id"])
    op.create_index("ix_makeup_request_punch_at", "makeup_request", ["punch_at"])
    op.create_table(
        "attendance_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("action", _str(length=32), nullable=False),
        sa.Column("target", _str(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_attendance_audit_at", "attendance_audit", ["at"])


def downgrade() -> None:
    op.drop_table("attendance_audit")
    op.drop_table("makeup_request")
    op.drop_table("leave_request")
    op.drop_table("officer_schedule")
    op.drop_table("attendance_config")
