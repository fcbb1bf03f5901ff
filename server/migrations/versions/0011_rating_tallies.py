"""ratings: tallies per grouping key by day and by month replace the per-level daily rollups

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-24 03:40:00.000000

``rating_rollup`` held one row per (day, window, officer, department, item, level): with 500 windows
that is about one row per rating, so summaries read as many rows as the raw table. The tallies hold
one row per (dimension, day or month, department, key) with one count column per level. Both are
filled here from the ``rating`` table (excluded ratings left out), on hall-local days.
"""

import os
import tomllib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIMENSIONS = (
    ("staff", "officer_id"),
    ("window", "window_id"),
    ("department", "department_id"),
    ("item", "item_id"),
)
_LEVELS = ("not_rated", "level_1", "level_2", "level_3", "level_4", "level_5")
_OLD_KEYS = ("day", "window_id", "officer_id", "department_id", "item_id", "level")
_DEFAULT_ZONE = "Asia/Shanghai"  # ServerSettings.timezone's default
_CHUNK = 10_000


def _tally_table(name: str, period: str) -> None:
    op.create_table(
        name,
        sa.Column("dimension", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in _LEVELS),
        sa.PrimaryKeyConstraint("dimension", period, "department_id", "key_id"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    _tally_table("rating_tally_day", "day")
    _tally_table("rating_tally_month", "month")
    _backfill_tallies()
    with op.batch_alter_table("rating_rollup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_rollup_day"))
    op.drop_table("rating_rollup")


def downgrade() -> None:
    op.create_table(
        "rating_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(k, sa.Date() if k == "day" else sa.Integer(), nullable=False) for k in _OLD_KEYS),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*_OLD_KEYS),
    )
    with op.batch_alter_table("rating_rollup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_rollup_day"), ["day"], unique=False)
    old: dict[tuple[Any, ...], int] = {}
    for day, r in _counted_ratings():
        key = (day, r.window_id, r.officer_id or 0, r.department_id, r.item_id or 0, r.level or 0)
        old[key] = old.get(key, 0) + 1
    table = sa.table("rating_rollup", *(sa.column(k) for k in _OLD_KEYS), sa.column("count"))
    _insert(table, [dict(zip(_OLD_KEYS, key, strict=True), count=n) for key, n in old.items()])
    op.drop_table("rating_tally_month")
    op.drop_table("rating_tally_day")


def hall_zone() -> ZoneInfo:
    """The hall time zone as the server reads it: ``HALL_TIMEZONE``, the ``HALL_CONFIG`` file, the default."""
    name = os.environ.get("HALL_TIMEZONE")
    config = os.environ.get("HALL_CONFIG")
    if not name and config and Path(config).is_file():
        name = tomllib.loads(Path(config).read_text(encoding="utf-8")).get("timezone")
    return ZoneInfo(name or _DEFAULT_ZONE)


def _counted_ratings() -> Iterator[tuple[date, Any]]:
    """(hall-local day, row) of every counted rating, streamed."""
    rating = sa.table(
        "rating",
        sa.column("window_id", sa.Integer()),
        sa.column("officer_id", sa.Integer()),
        sa.column("department_id", sa.Integer()),
        sa.column("item_id", sa.Integer()),
        sa.column("level", sa.Integer()),
        sa.column("rated_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("excluded", sa.Boolean()),
    )
    zone = hall_zone()
    stmt = sa.select(rating).where(rating.c.excluded.is_(False)).execution_options(yield_per=_CHUNK)
    for r in op.get_bind().execute(stmt):
        yield r.rated_at.astimezone(zone).date(), r


def _backfill_tallies() -> None:
    """Tally the ratings recorded before this revision, so the tallies and the raw table agree."""
    days: dict[tuple[str, date, int, int], list[int]] = {}
    for day, r in _counted_ratings():
        level = r.level or 0
        for dimension, column in _DIMENSIONS:
            key = (dimension, day, r.department_id, getattr(r, column) or 0)
            counts = days.get(key)
            if counts is None:
                counts = days[key] = [0] * len(_LEVELS)
            counts[level] += 1
    months: dict[tuple[str, date, int, int], list[int]] = {}
    for (dimension, day, department_id, key_id), counts in days.items():
        total = months.setdefault((dimension, day.replace(day=1), department_id, key_id), [0] * len(_LEVELS))
        for level, n in enumerate(counts):
            total[level] += n
    for name, period, tallies in (("rating_tally_day", "day", days), ("rating_tally_month", "month", months)):
        keys = ("dimension", period, "department_id", "key_id")
        table = sa.table(name, *(sa.column(k) for k in (*keys, *_LEVELS)))
        _insert(
            table,
            [
                {**dict(zip(keys, k, strict=True)), **dict(zip(_LEVELS, c, strict=True))}
                for k, c in tallies.items()
            ],
        )


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        op.bulk_insert(table, rows[start : start + _CHUNK])
