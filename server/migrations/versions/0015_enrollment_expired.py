"""enrolment: requests that expired without an outcome get a status of their own

Revision ID: 0015
Revises: 0006
Create Date: 2026-11-23 21:30:00.000000

Before this revision an expired request was stored as failed with the expiry message; it now has the
status ``expired``, which a late outcome may still replace. The column is free text: only rows change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The message expired requests were stored with, as it stood when this revision was written.
_EXPIRED_MESSAGE = "超时：窗口终端未回报录入结果，请重新发起录入"
_requests = sa.table("enrollment_request", sa.column("status", sa.String), sa.column("message", sa.String))


def _move(old: str, new: str) -> None:
    op.execute(
        _requests.update()
        .where(_requests.c.status == old, _requests.c.message == _EXPIRED_MESSAGE)
        .values(status=new)
    )


def upgrade() -> None:
    _move("failed", "expired")


def downgrade() -> None:
    _move("expired", "failed")
