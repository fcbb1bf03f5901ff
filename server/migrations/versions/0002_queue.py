"""queue: tickets, numbering counters, call announcements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_utc = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ticket_counter",
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("prefix", _str(length=4), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service_day", "prefix"),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_no", _str(length=16), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("prefix", _str(length=4), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("issued_at", _utc(), nullable=False),
        sa.Column("position_key", _utc(), nullable=False),
        sa.Column("called_at", _utc(), nullable=True),
        sa.Column("served_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("officer_staff_no", _str(length=32), nullable=True),
        sa.Column("recall_count", sa.Integer(), nullable=False),
        sa.Column("no_show_count", sa.Integer(), nullable=False),
        sa.Column("token", _str(length=43), nullable=False),
        sa.Column("citizen_hash", _str(length=64), nullable=True),
        sa.Column("citizen_masked", _str(length=24), nullable=True),
        sa.Column("kiosk_device_id", _str(length=64), nullable=True),
        sa.Column("client_ref", _str(length=36), nullable=True),
        sa.Column("printed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["service_item.id"]),
        sa.ForeignKeyConstraint(["window_id"], ["window.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_ref"),
        sa.UniqueConstraint("service_day", "ticket_no"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_queue",
            ["service_day", "status", "item_id", "priority", "position_key"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ticket_citizen_hash"), ["citizen_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_window_id"), ["window_id"], unique=False)

    op.create_table(
        "queue_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("ticket_no", _str(length=16), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("kind", _str(length=8), nullable=False),
        sa.Column("called_at", _utc(), nullable=False),
        sa.Column("text", _str(length=100), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("queue_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_call_called_at"), ["called_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_call_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_table("queue_call")
    op.drop_table("ticket")
    op.drop_table("ticket_counter")
