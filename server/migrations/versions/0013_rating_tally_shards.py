"""ratings: tally rows of departments and service items are spread over shards by window

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-28 09:10:00.000000

The rows of the ``department`` and ``item`` dimensions are shared by every window of a department, so
concurrent ingest transactions of different windows queued on their row locks (PostgreSQL). A
``shard`` column (``window_id % 4`` for those two dimensions, 0 for the others) joins the primary key;
reads sum over it. Staff and window rows move over as shard 0; department and item rows are counted
again from the ``rating`` table (excluded ratings left out, hall-local days) into their windows'
shards, so that every row keeps counting real ratings and never goes negative when one is excluded.
Downgrading adds the shards of each key back into one row.
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

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHARDS = 4  # server.models.rollups.TALLY_SHARDS when this revision was written
_SHARDED = (("department", "department_id"), ("item", "item_id"))
_LEVELS = ("not_rated", "level_1", "level_2", "level_3", "level_4", "level_5")
_TABLES = (("rating_tally_day", "day"), ("rating_tally_month", "month"))
_DEFAULT_ZONE = "Asia/Shanghai"  # ServerSettings.timezone's default
_CHUNK = 10_000


def _tally_table(name: str, period: str, sharded: bool) -> None:
    keys = ("dimension", period, "department_id", "key_id", *(("shard",) if sharded else ()))
    op.create_table(
        name,
        sa.Column("dimension", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        *((sa.Column("shard", sa.Integer(), server_default="0", nullable=False),) if sharded else ()),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in _LEVELS),
        sa.PrimaryKeyConstraint(*keys),
        sqlite_with_rowid=False,
    )


def _replace(name: str, period: str, sharded: bool, select_sql: str) -> None:
    """Rebuild table ``name`` with or without shards from ``select_sql`` over the old table."""
    new = f"{name}_new"
    _tally_table(new, period, sharded)
    keys = ["dimension", period, "department_id", "key_id", *(["shard"] if sharded else [])]
    op.execute(f"INSERT INTO {new} ({', '.join([*keys, *_LEVELS])}) {select_sql}")
    op.drop_table(name)
    op.rename_table(new, name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {name} RENAME CONSTRAINT {new}_pkey TO {name}_pkey")


def upgrade() -> None:
    dimensions = ", ".join(f"'{d}'" for d, _ in _SHARDED)
    for name, period in _TABLES:
        keys = f"dimension, {period}, department_id, key_id"
        _replace(
            name,
            period,
            True,
            f"SELECT {keys}, 0, {', '.join(_LEVELS)} FROM {name} WHERE dimension NOT IN ({dimensions})",
        )
    _recount_sharded()


def downgrade() -> None:
    for name, period in _TABLES:
        keys = f"dimension, {period}, department_id, key_id"
        sums = ", ".join(f"SUM({c})" for c in _LEVELS)
        _replace(name, period, False, f"SELECT {keys}, {sums} FROM {name} GROUP BY {keys}")


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


def _recount_sharded() -> None:
    """Count the department and item rows again from the ratings, each in its window's shard."""
    days: dict[tuple[str, date, int, int, int], list[int]] = {}
    for day, r in _counted_ratings():
        level = r.level or 0
        for dimension, column in _SHARDED:
            key = (dimension, day, r.department_id, getattr(r, column) or 0, r.window_id % _SHARDS)
            counts = days.get(key)
            if counts is None:
                counts = days[key] = [0] * len(_LEVELS)
            counts[level] += 1
    months: dict[tuple[str, date, int, int, int], list[int]] = {}
    for (dimension, day, department_id, key_id, shard), counts in days.items():
        month = (dimension, day.replace(day=1), department_id, key_id, shard)
        total = months.setdefault(month, [0] * len(_LEVELS))
        for level, n in enumerate(counts):
            total[level] += n
    for (name, period), tallies in zip(_TABLES, (days, months), strict=True):
        keys = ("dimension", period, "department_id", "key_id", "shard")
        table = sa.table(name, *(sa.column(k) for k in (*keys, *_LEVELS)))
        rows = [
            {**dict(zip(keys, k, strict=True)), **dict(zip(_LEVELS, c, strict=True))}
            for k, c in tallies.items()
        ]
        for start in range(0, len(rows), _CHUNK):
            op.bulk_insert(table, rows[start : start + _CHUNK])
