"""the hall's working-day calendar entered by its administrator

Revision ID: 0014
Revises: 0001
Create Date: 2026-11-23 13:20:00.000000

``calendar_day`` holds the days the hall is closed (放假) or works (调休上班) besides the statutory
calendar of ``chinese-calendar``; ``calendar_year`` the years whose whole arrangement was entered, so
that a year the library does not know yet counts as known.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_utc = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", _str(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entered_at", _utc(), nullable=False),
        sa.Column("entered_by", _str(length=64), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def downgrade() -> None:
    op.drop_table("calendar_year")
    op.drop_table("calendar_day")
