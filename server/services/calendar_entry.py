"""Entering a year's holiday arrangement (放假安排): checking it, replacing the year's days, the audit.

The State Council publishes next year's arrangement around November; the hall's administrator enters
its days off and make-up working days (调休上班) and marks the year entered, which makes a year that
``chinese-calendar`` does not know yet usable for deadlines and attendance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from server.errors import HallError
from server.models import User
from server.models.calendar import NOTE_MAX_CHARS, CalendarDay
from server.repo import calendar as repo
from server.services import audit
from server.services.hall_calendar import forget_on_commit
from server.services.workdays import known_years
from server.timeutil import utcnow

YEAR_MIN, YEAR_MAX = 2000, 2100
PROBLEMS_SHOWN = 8
CLOSED, WORKING = "放假日", "调休上班日"


class CalendarInputError(HallError):
    """An arrangement that cannot be stored as given; the message says why, for the administrator."""


@dataclass(frozen=True)
class DayEntry:
    """One entered day and its note (e.g. 春节)."""

    day: date
    note: str = ""

    @property
    def line(self) -> str:
        """The day as one line of the page's text areas: ``YYYY-MM-DD 备注``."""
        return f"{self.day.isoformat()} {self.note}".rstrip()


@dataclass(frozen=True)
class Arrangement:
    """A year's checked arrangement: days off, make-up working days, and whether it is complete."""

    year: int
    closed: tuple[DayEntry, ...]
    working: tuple[DayEntry, ...]
    entered: bool


def check_year(year: int) -> int:
    """``year`` when it is one the hall may enter."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise CalendarInputError(f"年份应在 {YEAR_MIN} 至 {YEAR_MAX} 之间，收到 {year}")
    return year


def _refuse(problems: list[str]) -> CalendarInputError:
    shown = "；".join(problems[:PROBLEMS_SHOWN])
    more = len(problems) - PROBLEMS_SHOWN
    return CalendarInputError(f"工作日历未保存：{shown}" + (f"；另有 {more} 处问题" if more > 0 else ""))


def arrangement(
    year: int, closed: Iterable[DayEntry], working: Iterable[DayEntry], entered: bool
) -> Arrangement:
    """The arrangement checked: days in ``year``, each day once, never both off and working, short notes.

    Every problem found is named in the one error raised; nothing is stored then.
    """
    check_year(year)
    problems: list[str] = []
    seen: dict[date, str] = {}
    lists: dict[str, list[DayEntry]] = {CLOSED: [], WORKING: []}
    for kind, entries in ((CLOSED, closed), (WORKING, working)):
        for given in entries:
            entry, day = DayEntry(given.day, given.note.strip()), given.day.isoformat()
            if entry.day.year != year:
                problems.append(f"{kind} {day} 不在 {year} 年内")
            if len(entry.note) > NOTE_MAX_CHARS:
                problems.append(f"{day} 的备注超过 {NOTE_MAX_CHARS} 个字")
            earlier = seen.get(entry.day)
            if earlier == kind:
                problems.append(f"{kind} {day} 重复录入")
            elif earlier is not None:
                problems.append(f"{day} 不能既是放假日又是调休上班日")
            seen.setdefault(entry.day, kind)
            lists[kind].append(entry)
    if problems:
        raise _refuse(problems)
    closed_days = tuple(sorted(lists[CLOSED], key=lambda e: e.day))
    working_days = tuple(sorted(lists[WORKING], key=lambda e: e.day))
    return Arrangement(year, closed_days, working_days, entered)


def _parse(text: str, kind: str) -> tuple[list[DayEntry], list[str]]:
    """Days typed one per line as ``YYYY-MM-DD 备注`` (the note optional, blank lines skipped); problems."""
    entries: list[DayEntry] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split(maxsplit=1)
        if not parts:
            continue
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            problems.append(f"{kind}第 {number} 行应为“YYYY-MM-DD 备注”，收到“{raw.strip()[:40]}”")
            continue
        entries.append(DayEntry(day, parts[1] if len(parts) > 1 else ""))
    return entries, problems


def arrangement_from_lines(year: int, closed: str, working: str, entered: bool) -> Arrangement:
    """The arrangement typed in the page's two text areas, one day per line, checked as ``arrangement``."""
    closed_days, bad_closed = _parse(closed, CLOSED)
    working_days, bad_working = _parse(working, WORKING)
    if bad_closed or bad_working:
        raise _refuse(bad_closed + bad_working)
    return arrangement(year, closed_days, working_days, entered)


def year_view(session: Session, year: int) -> dict[str, Any]:
    """A year's entered days with their notes, its entered mark, and whether the library knows it."""
    check_year(year)
    first, last = known_years()
    mark = repo.year_row(session, year)
    days = repo.days_of_year(session, year)
    return {
        "year": year,
        "library_knows_year": first <= year <= last,
        "library_years": [first, last],
        "entered": mark is not None,
        "entered_by": mark.entered_by if mark is not None else None,
        "entered_at": mark.entered_at if mark is not None else None,
        "closed": [{"day": d.day, "note": d.note} for d in days if not d.working],
        "working": [{"day": d.day, "note": d.note} for d in days if d.working],
    }


def _lines(entries: Sequence[DayEntry]) -> list[str]:
    return [e.line for e in entries]


def save(session: Session, user: User, plan: Arrangement, *, client: str = "") -> dict[str, Any]:
    """Replace the year's days and entered mark with ``plan`` (one transaction), audited; the new view."""
    before = repo.days_of_year(session, plan.year)
    was_entered = repo.year_row(session, plan.year) is not None
    replaced = len(before)
    rows = [CalendarDay(day=e.day, working=False, note=e.note) for e in plan.closed]
    rows += [CalendarDay(day=e.day, working=True, note=e.note) for e in plan.working]
    repo.replace_year(session, plan.year, rows, user.username if plan.entered else None, utcnow())
    details = {
        "entered": plan.entered,
        "was_entered": was_entered,
        "replaced_days": replaced,
        "closed": _lines(plan.closed),
        "working": _lines(plan.working),
    }
    audit.record(session, user, "calendar_year_save", f"calendar:{plan.year}", details, client=client)
    forget_on_commit(session)
    return year_view(session, plan.year)
