"""Rating tallies: counted ratings per grouping key, per hall-local day and per calendar month.

One row holds every level of one (dimension, period, department, key, shard): a summary reads a row
per group, period and shard instead of one per level, officer, window and item. The department is part
of every key so a department head's summary can be scoped; in the ``department`` dimension it equals
the key. Shards only spread the write locks of shared keys (see ``TALLY_SHARDS``).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

# Tally keys cannot hold NULL: a unique index treats NULLs as distinct, so ON CONFLICT would never match.
NO_ID = 0  # no officer / no service item recorded
NOT_RATED = 0  # the citizen did not rate (未评价)

# The grouping dimensions (the values of ``services.ratings.GroupBy``) and the rating column each keys on.
DIMENSION_COLUMNS: dict[str, str] = {
    "staff": "officer_id",
    "window": "window_id",
    "department": "department_id",
    "item": "item_id",
}
# The count column of each level, indexed by level (0 = not rated, 1-5).
LEVEL_COLUMNS: tuple[str, ...] = ("not_rated", "level_1", "level_2", "level_3", "level_4", "level_5")
# The grouping key of a row. A key's counts are the sum of its rows over ``shard``: code that writes
# rows without a shard (bulk loads) puts them in shard 0, which is always correct.
KEY_COLUMNS_DAY: tuple[str, ...] = ("dimension", "day", "department_id", "key_id")
KEY_COLUMNS_MONTH: tuple[str, ...] = ("dimension", "month", "department_id", "key_id")

# Several windows share the rows of a department and of a service item: concurrent ingest transactions
# of different windows would queue on those rows' locks. Their counts are spread over TALLY_SHARDS rows
# per key, by window (``window_id % TALLY_SHARDS``), and summed on read. The staff and window rows
# belong to one counter at a time and stay in shard 0.
TALLY_SHARDS = 4
SHARDED_DIMENSIONS: frozenset[str] = frozenset({"department", "item"})

# SQLite keeps the rows in primary-key order (no rowid): a range of days of one dimension is contiguous.
_TABLE_ARGS = {"sqlite_with_rowid": False}


def tally_shard(dimension: str, window_id: int) -> int:
    """The shard of a rating at window ``window_id`` in ``dimension``."""
    return window_id % TALLY_SHARDS if dimension in SHARDED_DIMENSIONS else 0


class TallyCounts(SQLModel):
    """The count columns of a tally row, one per level (not a table)."""

    not_rated: int = 0
    level_1: int = 0
    level_2: int = 0
    level_3: int = 0
    level_4: int = 0
    level_5: int = 0


class RatingTallyDay(TallyCounts, table=True):
    """Counted ratings of one hall-local day per dimension, department, key and shard."""

    __tablename__ = "rating_tally_day"
    __table_args__ = _TABLE_ARGS

    dimension: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    department_id: int = Field(primary_key=True)
    key_id: int = Field(primary_key=True)  # officer, window, department or item id; NO_ID when unknown
    shard: int = Field(default=0, primary_key=True, sa_column_kwargs={"server_default": "0"})


class RatingTallyMonth(TallyCounts, table=True):
    """Counted ratings of one calendar month (hall-local days) per dimension, department, key and shard."""

    __tablename__ = "rating_tally_month"
    __table_args__ = _TABLE_ARGS

    dimension: str = Field(primary_key=True, max_length=16)
    month: date = Field(primary_key=True)  # the first day of the month
    department_id: int = Field(primary_key=True)
    key_id: int = Field(primary_key=True)
    shard: int = Field(default=0, primary_key=True, sa_column_kwargs={"server_default": "0"})
