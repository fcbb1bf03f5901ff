"""appointments: bookable slots per item and citizens' bookings

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_utc = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", _str(length=64), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["service_item.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "day", "start_time"),
    )
    with op.batch_alter_table("appointment_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_slot_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_slot_item_id"), ["item_id"], unique=False)

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", _str(length=12), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("citizen_hash", _str(length=64), nullable=False),
        sa.Column("citizen_masked", _str(length=24), nullable=False),
        sa.Column("name_masked", _str(length=50), nullable=False),
        sa.Column("phone_masked", _str(length=20), nullable=True),
        sa.Column("channel", _str(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("cancelled_at", _utc(), nullable=True),
        sa.Column("checked_in_at", _utc(), nullable=True),
        sa.Column("no_show_at", _utc(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["service_item.id"]),
        sa.ForeignKeyConstraint(["slot_id"], ["appointment_slot.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_citizen_hash"), ["citizen_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("appointment")
    op.drop_table("appointment_slot")
