"""staff badges and the source of badge punches

Revision ID: 0009
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_utc = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "badge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", _str(length=20), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", _utc(), nullable=False),
        sa.Column("issued_by", _str(length=64), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("revoked_by", _str(length=64), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_badge_officer_id", "badge", ["officer_id"])
    op.create_table(
        "badge_punch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", _str(length=36), nullable=False),
        sa.Column("badge_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["badge_id"], ["badge.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_badge_punch_badge_id", "badge_punch", ["badge_id"])


def downgrade() -> None:
    op.drop_index("ix_badge_punch_badge_id", table_name="badge_punch")
    op.drop_table("badge_punch")
    op.drop_index("ix_badge_officer_id", table_name="badge")
    op.drop_table("badge")
