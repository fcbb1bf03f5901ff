"""The hall's entered calendar through the API, on SQLite and PostgreSQL: checks, audit, what it unlocks."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from server.api.routes import cases as case_routes
from server.db import session_scope
from server.models.users import Role
from server.services.admin import create_user
from server.services.followups import FollowupPolicy
from server.services.hall_calendar import hall_calendar
from server.services.workdays import WorkCalendar, known_years
from server.settings import ServerSettings
from tests.server.conftest import Hall

pytestmark = pytest.mark.timeout(120)

# The first year the library lacks: 2027 with chinese-calendar 1.11. Sample days, not the official ones.
NEXT = known_years()[1] + 1
ADMIN, ADMIN_PASSWORD = "admin-cal", "admin-cal-pass-1"
ID_BODY = "11010519900307123"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER = ID_BODY + "10X98765432"[sum(int(d) * w for d, w in zip(ID_BODY, WEIGHTS, strict=True)) % 11]


def _first(weekday: int, month: int) -> date:
    day = date(NEXT, month, 1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


NEW_YEAR = date(NEXT, 1, 1)
SPRING = [_first(0, 2) + timedelta(days=i) for i in range(5)]  # a closed working week, Mon-Fri
MAKE_UP = _first(5, 2) + timedelta(days=7)  # a Saturday after it
ARRANGEMENT: dict[str, Any] = {
    "entered": True,
    "closed": [
        {"day": NEW_YEAR.isoformat(), "note": "元旦"},
        *({"day": d.isoformat(), "note": "春节"} for d in SPRING),
    ],
    "working": [{"day": MAKE_UP.isoformat(), "note": "春节调休"}],
}
CALENDAR = WorkCalendar(
    closed_days=frozenset({NEW_YEAR, *SPRING}),
    extra_working_days=frozenset({MAKE_UP}),
    entered_years=frozenset({NEXT}),
)


@pytest.fixture
def admin(hall: Hall) -> dict[str, str]:
    """The headers of a logged-in administrator."""
    with session_scope(hall.engine) as session:
        create_user(session, ADMIN, ADMIN_PASSWORD, Role.ADMIN)
    return hall.user_headers(ADMIN, ADMIN_PASSWORD)


def put(hall: Hall, headers: dict[str, str], body: Any, year: int = NEXT) -> Any:
    return hall.client.put(f"/api/v1/calendar/{year}", json=body, headers=headers)


def stored(hall: Hall, year: int = NEXT) -> dict[str, Any]:
    r = hall.client.get(f"/api/v1/calendar/{year}", headers=hall.user_headers())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_empty_year_and_what_the_library_knows(hall: Hall) -> None:
    year = stored(hall)
    assert year["library_knows_year"] is False and year["entered"] is False
    assert year["closed"] == [] and year["working"] == [] and year["library_years"] == list(known_years())
    assert stored(hall, NEXT - 1)["library_knows_year"] is True


def test_admin_enters_a_year_replaced_whole_and_audited(hall: Hall, admin: dict[str, str]) -> None:
    r = put(hall, admin, ARRANGEMENT)
    assert r.status_code == 200, r.text
    year = stored(hall)
    assert year["entered"] is True and year["entered_by"] == ADMIN and year["entered_at"]
    assert year["closed"] == [{"day": NEW_YEAR.isoformat(), "note": "元旦"}] + [
        {"day": d.isoformat(), "note": "春节"} for d in SPRING
    ]
    assert year["working"] == [{"day": MAKE_UP.isoformat(), "note": "春节调休"}]
    # A second PUT replaces the year: what it leaves out is gone, the mark too.
    r = put(hall, admin, {"entered": False, "closed": [{"day": NEW_YEAR.isoformat(), "note": " 元旦 "}]})
    assert r.status_code == 200, r.text
    year = stored(hall)
    assert year["entered"] is False and year["entered_by"] is None
    assert year["closed"] == [{"day": NEW_YEAR.isoformat(), "note": "元旦"}] and year["working"] == []
    entries = hall.client.get("/api/v1/audit", headers=admin).json()["entries"]
    saved = [e for e in entries if e["action"] == "calendar_year_save"]
    assert [e["target"] for e in saved] == [f"calendar:{NEXT}"] * 2
    assert saved[0]["actor"] == ADMIN and saved[0]["role"] == "admin"
    assert saved[0]["details"] == {
        "entered": False,
        "was_entered": True,
        "replaced_days": 7,
        "closed": [f"{NEW_YEAR.isoformat()} 元旦"],
        "working": [],
    }
    assert saved[1]["details"]["working"] == [f"{MAKE_UP.isoformat()} 春节调休"]


def test_only_admins_enter_and_hall_wide_roles_read(hall: Hall, admin: dict[str, str]) -> None:
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert put(hall, hall.user_headers(), ARRANGEMENT).status_code == 403
    assert put(hall, head, ARRANGEMENT).status_code == 403
    assert put(hall, {}, ARRANGEMENT).status_code == 401
    assert hall.client.get(f"/api/v1/calendar/{NEXT}", headers=head).status_code == 403
    assert hall.client.get(f"/api/v1/calendar/{NEXT}", headers=admin).status_code == 200
    assert stored(hall)["closed"] == []


def _day(day: date, note: str = "") -> dict[str, str]:
    return {"day": day.isoformat(), "note": note}


BAD = [
    ({"entered": True, "closed": [_day(date(NEXT - 1, 12, 31))]}, NEXT, f"不在 {NEXT} 年内"),
    ({"entered": True, "closed": [_day(NEW_YEAR), _day(NEW_YEAR)]}, NEXT, "重复录入"),
    (
        {"entered": True, "closed": [_day(MAKE_UP)], "working": [_day(MAKE_UP)]},
        NEXT,
        "既是放假日又是调休上班日",
    ),
    ({"entered": True, "closed": [_day(NEW_YEAR, "元" * 33)]}, NEXT, "备注超过 32 个字"),
    (ARRANGEMENT, 1999, "年份应在 2000 至 2100 之间"),
    (ARRANGEMENT, 2101, "年份应在 2000 至 2100 之间"),
]


def test_refused_input_is_422_in_chinese_and_keeps_the_old_entries(hall: Hall, admin: dict[str, str]) -> None:
    assert put(hall, admin, ARRANGEMENT).status_code == 200
    before = stored(hall)
    for body, year, message in BAD:
        r = put(hall, admin, body, year)
        assert r.status_code == 422, (body, r.text)
        assert message in r.json()["detail"], r.text
        assert stored(hall) == before
    # Field errors (not a date, an unknown field) are 422 as well and change nothing either.
    assert put(hall, admin, {"entered": True, "closed": [{"day": f"{NEXT}-02-30"}]}).status_code == 422
    assert put(hall, admin, {"entered": True, "holidays": []}).status_code == 422
    assert stored(hall) == before
    r = hall.client.get("/api/v1/calendar/1999", headers=admin)
    assert r.status_code == 422 and "年份" in r.json()["detail"]


def _accept(hall: Hall) -> Any:
    body = {
        "client_ref": str(uuid.uuid4()),
        "item_code": "GA01",  # 20 working days
        "officer_staff_no": "GA001",
        "applicant": {"id_number": ID_NUMBER, "name": "欧阳小明"},
    }
    return hall.client.post("/api/v1/cases", json=body, headers=hall.device_headers("agent-w1"))


def test_a_case_deadline_into_the_new_year_works_once_the_admin_entered_it(
    hall: Hall, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = date(NEXT - 1, 12, 15)
    monkeypatch.setattr(case_routes, "utcnow", lambda: datetime(NEXT - 1, 12, 15, 2, 0, tzinfo=UTC))
    r = _accept(hall)
    assert r.status_code == 503, r.text
    assert f"/web/calendar?year={NEXT}" in r.json()["detail"]
    assert put(hall, admin, ARRANGEMENT).status_code == 200
    # The same process answers at once: the write dropped its copy of the entered days.
    r = _accept(hall)
    assert r.status_code == 201, r.text
    due = date.fromisoformat(r.json()["due_date"])
    assert due == CALENDAR.add_working_days(accepted, 20)
    assert due.year == NEXT and CALENDAR.is_working_day(due)


def test_the_calendar_of_a_session_merges_settings_and_entered_days(
    hall: Hall, admin: dict[str, str]
) -> None:
    settings_day, overridden = _first(2, 3), _first(3, 3)
    settings = ServerSettings(demo=True, workday_closed_days=[settings_day, overridden])
    body = {**ARRANGEMENT, "working": [*ARRANGEMENT["working"], _day(overridden, "补班")]}
    assert put(hall, admin, body).status_code == 200
    with Session(hall.engine) as session:
        calendar = hall_calendar(session, settings)
        assert calendar.closed_days == {settings_day, NEW_YEAR, *SPRING}
        assert calendar.extra_working_days == {MAKE_UP, overridden}
        assert not calendar.is_working_day(settings_day) and calendar.is_working_day(overridden)
        # Follow-ups opened on the last day of the old year are due on the new year's first working day.
        policy = FollowupPolicy.from_settings(settings, calendar)
        first = policy.due(date(NEXT - 1, 12, 31), 1)
        assert first == CALENDAR.add_working_days(date(NEXT - 1, 12, 31), 1) and first != NEW_YEAR
