"""queue: an index of callable tickets in calling order, so call-next reads the head of the queue

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-23 04:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CALLABLE = sa.text("status IN ('waiting', 'no_show', 'transferred')")


def upgrade() -> None:
    op.create_index(
        "ix_ticket_callable",
        "ticket",
        ["service_day", sa.text("priority DESC"), "position_key", "id"],
        unique=False,
        postgresql_where=_CALLABLE,
        sqlite_where=_CALLABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_callable", table_name="ticket")
