"""Rating tallies: counted ratings per grouping key, per hall-local day and per calendar month.

One row holds every level of one (dimension, period, department, key): a summary reads one row per
group and period instead of one per level, officer, window and item. The department is part of every
key so a department head's summary can be scoped; in the ``department`` dimension it equals the key.
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
KEY_COLUMNS_DAY: tuple[str, ...] = ("dimension", "day", "department_id", "key_id")
KEY_COLUMNS_MONTH: tuple[str, ...] = ("dimension", "month", "department_id", "key_id")

# SQLite keeps the rows in primary-key order (no rowid): a range of days of one dimension is contiguous.
_TABLE_ARGS = {"sqlite_with_rowid": False}


class RatingTallyDay(SQLModel, table=True):
    """Counted ratings of one hall-local day per dimension, department and key, one column per level."""

    __tablename__ = "rating_tally_day"
    __table_args__ = _TABLE_ARGS

    dimension: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    department_id: int = Field(primary_key=True)
    key_id: int = Field(primary_key=True)  # officer, window, department or item id; NO_ID when unknown
    not_rated: int = 0
    level_1: int = 0
    level_2: int = 0
    level_3: int = 0
    level_4: int = 0
    level_5: int = 0


class RatingTallyMonth(SQLModel, table=True):
    """Counted ratings of one calendar month (hall-local days) per dimension, department and key."""

    __tablename__ = "rating_tally_month"
    __table_args__ = _TABLE_ARGS

    dimension: str = Field(primary_key=True, max_length=16)
    month: date = Field(primary_key=True)  # the first day of the month
    department_id: int = Field(primary_key=True)
    key_id: int = Field(primary_key=True)
    not_rated: int = 0
    level_1: int = 0
    level_2: int = 0
    level_3: int = 0
    level_4: int = 0
    level_5: int = 0
