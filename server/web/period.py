"""Date ranges of the pages: hall-local days from the query string, with readable errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.timeutil import to_db, utcnow
from server.web.deps import PageError

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class DayRange:
    """Local days ``first..last`` (inclusive) and their UTC bounds."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def end(self) -> date:
        """The day after the last one."""
        return self.last + timedelta(days=1)

    @property
    def start_utc(self) -> datetime:
        """Midnight before the first day, in UTC."""
        return to_db(datetime.combine(self.first, time(0), self.tz))

    @property
    def end_utc(self) -> datetime:
        """Midnight after the last day, in UTC."""
        return to_db(datetime.combine(self.end, time(0), self.tz))


def local_today(tz: ZoneInfo) -> date:
    """Today in the hall."""
    return utcnow().astimezone(tz).date()


def parse_date(text: str, name: str) -> date:
    """A YYYY-MM-DD date or a 422 page."""
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise PageError(422, f"{name}格式不正确，应为 年-月-日（如 2026-11-23）：{text}") from err


def day_range(from_: str | None, to: str | None, tz: ZoneInfo, default_days: int = DEFAULT_DAYS) -> DayRange:
    """The range asked for, the last ``default_days`` days by default."""
    last = parse_date(to, "结束日期") if to else local_today(tz)
    first = parse_date(from_, "开始日期") if from_ else last - timedelta(days=default_days - 1)
    if first > last:
        raise PageError(422, "开始日期不能晚于结束日期")
    if (last - first).days >= MAX_DAYS:
        raise PageError(422, f"一次最多查询 {MAX_DAYS} 天")
    return DayRange(first, last, tz)
