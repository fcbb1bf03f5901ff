"""Working days: statutory holidays, make-up working days, hall overrides, pauses, unknown years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.services.workday_overrides import EnteredDays, calendar_from_settings
from server.services.workdays import (
    CalendarConfigError,
    CalendarRangeError,
    WorkCalendar,
    known_years,
)
from server.settings import ServerSettings

CAL = WorkCalendar()
# Keep generated dates and spans inside the years the library knows.
days = st.dates(min_value=date(2005, 1, 1), max_value=date(2024, 12, 31))
spans = st.integers(min_value=1, max_value=60)


def test_2024_national_day_and_its_make_up_working_days() -> None:
    assert CAL.is_working_day(date(2024, 9, 29))  # Sunday, 调休上班
    assert CAL.is_working_day(date(2024, 10, 12))  # Saturday, 调休上班
    assert not any(CAL.is_working_day(date(2024, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2024, 10, 8))
    # Accepted Friday 2024-09-27: day 1 is the make-up Sunday, day 2 Monday 9-30, day 3 skips the holiday.
    assert CAL.add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)
    assert CAL.add_working_days(date(2024, 9, 27), 2) == date(2024, 9, 30)
    assert CAL.add_working_days(date(2024, 9, 27), 3) == date(2024, 10, 8)
    assert CAL.add_working_days(date(2024, 10, 8), 4) == date(2024, 10, 12)


def test_2025_spring_festival() -> None:
    assert CAL.is_working_day(date(2025, 1, 26))  # Sunday before the holiday, 调休上班
    assert not any(CAL.is_working_day(date(2025, 1, 28) + timedelta(days=i)) for i in range(8))
    assert CAL.is_working_day(date(2025, 2, 8))  # Saturday after the holiday, 调休上班
    assert CAL.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert CAL.working_days_between(date(2025, 1, 24), date(2025, 2, 8)) == 6


def test_zero_days_is_the_acceptance_day_and_negative_is_refused() -> None:
    assert CAL.add_working_days(date(2024, 10, 1), 0) == date(2024, 10, 1)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2024, 10, 1), -1)


def test_hall_overrides() -> None:
    cal = calendar_from_settings(
        ServerSettings(
            demo=True,
            workday_closed_days=[date(2024, 6, 3)],
            workday_extra_working_days=[date(2024, 6, 1)],
        )
    )
    assert not cal.is_working_day(date(2024, 6, 3))
    assert cal.is_working_day(date(2024, 6, 1))
    assert cal.add_working_days(date(2024, 5, 31), 2) == date(2024, 6, 4)
    with pytest.raises(CalendarConfigError):
        WorkCalendar(
            closed_days=frozenset({date(2024, 6, 3)}), extra_working_days=frozenset({date(2024, 6, 3)})
        )


def test_unknown_year_is_a_typed_error_unless_the_hall_falls_back_to_weekdays() -> None:
    later = date(known_years()[1] + 1, 3, 2)
    with pytest.raises(CalendarRangeError, match=str(later.year)):
        CAL.is_working_day(later)
    with pytest.raises(CalendarRangeError):
        CAL.add_working_days(date(known_years()[1], 12, 28), 10)
    fallback = WorkCalendar(weekday_fallback=True, closed_days=frozenset({later}))
    assert not fallback.is_working_day(later)
    assert fallback.is_working_day(later + timedelta(days=1)) == ((later + timedelta(days=1)).weekday() < 5)
    assert fallback.working_days_between(later, later + timedelta(days=7)) == 5


def test_pause_adds_back_the_paused_working_days() -> None:
    accepted = date(2024, 9, 2)  # Monday
    plain = CAL.deadline(accepted, 5, [])
    assert plain == date(2024, 9, 9)
    # Requested Tuesday, supplied Thursday: Wednesday and Thursday are paused.
    paused = CAL.deadline(accepted, 5, [(date(2024, 9, 3), date(2024, 9, 5))])
    assert paused == date(2024, 9, 11)
    # An open pause runs until today; without a today it has added nothing yet.
    assert CAL.deadline(accepted, 5, [(date(2024, 9, 3), None)]) == plain
    assert CAL.deadline(accepted, 5, [(date(2024, 9, 3), None)], today=date(2024, 9, 4)) == date(2024, 9, 10)
    # A pause after the deadline has no effect.
    assert CAL.deadline(accepted, 5, [(date(2024, 9, 20), date(2024, 9, 25))]) == plain


@settings(max_examples=200, deadline=None)
@given(days, spans)
def test_add_working_days_lands_on_a_working_day_counted_back_exactly(start: date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert CAL.is_working_day(due)
    assert due > start
    assert CAL.working_days_between(start, due) == n
    assert CAL.working_days_between(due, start) == -n


@settings(max_examples=100, deadline=None)
@given(days, spans)
def test_add_working_days_is_strictly_increasing(start: date, n: int) -> None:
    assert CAL.add_working_days(start, n) < CAL.add_working_days(start, n + 1)


@settings(max_examples=200, deadline=None)
@given(
    days,
    st.integers(min_value=0, max_value=40),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)), max_size=3),
)
def test_pauses_never_shorten_a_deadline(accepted: date, n: int, raw: list[tuple[int, int]]) -> None:
    pauses = [(accepted + timedelta(days=a), accepted + timedelta(days=a + b)) for a, b in raw]
    plain = CAL.deadline(accepted, n, [])
    paused = CAL.deadline(accepted, n, pauses)
    assert paused >= plain
    assert plain == CAL.add_working_days(accepted, n)
    if len(pauses) == 1 and pauses[0][0] >= accepted and pauses[0][1] <= plain:
        # A single pause inside the running period moves the deadline by exactly its working days.
        start, end = pauses[0]
        assert paused == CAL.add_working_days(accepted, n + CAL.working_days_between(start, end))


# The first year the library lacks (2027 with chinese-calendar 1.11), as a hall enters it. Sample days,
# not the official arrangement.
NEXT = known_years()[1] + 1


def _first(weekday: int, month: int, year: int = NEXT) -> date:
    """The first Monday (0) .. Sunday (6) of a month."""
    day = date(year, month, 1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


NEW_YEAR = date(NEXT, 1, 1)
MAKE_UP_SATURDAY = _first(5, 2)
ENTERED = WorkCalendar(
    closed_days=frozenset({NEW_YEAR}),
    extra_working_days=frozenset({MAKE_UP_SATURDAY}),
    entered_years=frozenset({NEXT}),
)


def test_a_year_the_hall_entered_is_known_though_the_library_lacks_it() -> None:
    assert not ENTERED.is_working_day(NEW_YEAR)
    assert ENTERED.is_working_day(MAKE_UP_SATURDAY)
    assert ENTERED.is_working_day(_first(2, 3))  # an ordinary Wednesday
    assert not ENTERED.is_working_day(_first(5, 3))  # an ordinary Saturday
    assert not ENTERED.is_working_day(_first(6, 3))  # an ordinary Sunday
    # The year after is known to nobody: still refused, with the way to enter it.
    with pytest.raises(CalendarRangeError, match="/web/calendar"):
        ENTERED.is_working_day(date(NEXT + 1, 3, 3))
    with pytest.raises(CalendarRangeError, match=str(NEXT + 1)):
        ENTERED.add_working_days(date(NEXT, 12, 30), 5)


def test_a_deadline_crosses_from_the_library_into_the_entered_year() -> None:
    last_known = date(NEXT - 1, 12, 31)
    with pytest.raises(CalendarRangeError):
        CAL.add_working_days(last_known, 3)
    due = ENTERED.add_working_days(last_known, 3)
    assert due.year == NEXT and due != NEW_YEAR and ENTERED.is_working_day(due)
    assert ENTERED.working_days_between(last_known, due) == 3


def test_entered_days_add_to_the_settings_and_win_where_both_name_a_day() -> None:
    only_settings, both, only_entered = _first(2, 3), _first(3, 3), _first(5, 3)  # Wed, Thu, Sat
    settings_ = ServerSettings(
        demo=True, workday_closed_days=[only_settings, both], workday_extra_working_days=[only_entered]
    )
    entered = EnteredDays(
        closed=frozenset({NEW_YEAR, only_entered}), working=frozenset({both}), years=frozenset({NEXT})
    )
    cal = calendar_from_settings(settings_, entered)
    assert cal.closed_days == {only_settings, NEW_YEAR, only_entered}
    assert cal.extra_working_days == {both}
    assert not cal.is_working_day(only_settings) and cal.is_working_day(both)
    assert not cal.is_working_day(only_entered)  # a Saturday entered closed, though the settings said working
    assert cal.entered_years == {NEXT}
    # Without entered days the settings alone still decide, as before.
    assert calendar_from_settings(settings_).closed_days == {only_settings, both}


entered_days = st.dates(min_value=date(NEXT, 1, 1), max_value=date(NEXT, 12, 31))


@settings(max_examples=200, deadline=None)
@given(
    st.frozensets(entered_days, max_size=30),
    st.frozensets(entered_days.filter(lambda d: d.weekday() >= 5), max_size=10),
    entered_days,
    st.integers(min_value=0, max_value=60),
)
def test_add_working_days_in_an_entered_year_never_lands_on_a_closed_day(
    closed: frozenset[date], working: frozenset[date], start: date, n: int
) -> None:
    cal = WorkCalendar(
        closed_days=closed,
        extra_working_days=working - closed,
        entered_years=frozenset({NEXT, NEXT + 1}),
    )
    due = cal.add_working_days(start, n)
    assert cal.working_days_between(start, due) == n
    if n:
        assert due not in closed and cal.is_working_day(due)
        assert due.weekday() < 5 or due in working
