"""queue: the call-next reference of a ticket, so a repeated call-next gets the same ticket

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-23 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("call_ref", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
    op.create_index(op.f("ix_ticket_call_ref"), "ticket", ["call_ref"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_call_ref"), table_name="ticket")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("call_ref")
