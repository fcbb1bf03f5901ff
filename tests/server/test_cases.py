"""Cases (办件) through the HTTP API: acceptance, receipt, 补正, closing, scope and personal data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from server.app import create_app
from server.services.workdays import WorkCalendar
from server.settings import ServerSettings
from tests.server.conftest import Hall

ID_BODY = "11010519900307123"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER = ID_BODY + "10X98765432"[sum(int(d) * w for d, w in zip(ID_BODY, WEIGHTS, strict=True)) % 11]
NAME = "欧阳小明"
# The app under test falls back to weekdays past the library's last year, so the suite runs any day.
CAL = WorkCalendar(weekday_fallback=True)


@pytest.fixture
def client(hall: Hall) -> Iterator[TestClient]:
    """The API over the hall's database, with weekday fallback for years the calendar lacks."""
    app = create_app(ServerSettings(demo=True, database_url=hall.database_url, workday_weekday_fallback=True))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def accept(
    client: TestClient,
    hall: Hall,
    window: int = 1,
    item: str = "GA01",
    staff_no: str = "GA001",
    **extra: object,
) -> tuple[int, dict]:
    body = {
        "client_ref": str(uuid.uuid4()),
        "item_code": item,
        "officer_staff_no": staff_no,
        "applicant": {"id_number": ID_NUMBER, "name": NAME},
        "ticket_no": "A001",
        "finished_on_spot": False,
        **extra,
    }
    r = client.post("/api/v1/cases", json=body, headers=hall.device_headers(f"agent-w{window}"))
    return r.status_code, r.json()


def step(client: TestClient, headers: dict, case_no: str, action: str, body: dict | None = None) -> dict:
    r = client.post(f"/api/v1/cases/{case_no}/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_case_end_to_end_with_receipt_supplement_and_completion(client: TestClient, hall: Hall) -> None:
    status, case = accept(client, hall)
    assert status == 201, case
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert case["case_no"] == f"GA01-{today:%Y%m%d}-0001"
    assert case["status"] == "accepted" and case["committed_days"] == 20
    assert case["due_date"] == CAL.add_working_days(today, 20).isoformat()
    assert case["applicant"] == {"id_masked": "110***********" + ID_NUMBER[-4:], "name_masked": "欧***"}
    receipt = case["receipt"]
    assert receipt["case_no"] == case["case_no"] and receipt["item_name"] == "居民身份证申领"
    assert (receipt["officer_name"], receipt["officer_staff_no"], receipt["window_number"]) == (
        "王芳",
        "GA001",
        1,
    )
    assert (
        receipt["due_date"] == case["due_date"]
        and receipt["applicant_masked"] == case["applicant"]["id_masked"]
    )
    assert receipt["hall_name"] and receipt["accepted_at"].startswith(today.isoformat())
    assert any("20个工作日" in note for note in receipt["notes"])

    w1 = hall.device_headers("agent-w1")
    paused = step(
        client,
        w1,
        case["case_no"],
        "supplement",
        {"missing": ["户口簿原件", "其他：监护关系证明"], "officer_staff_no": "GA003"},
    )
    assert paused["status"] == "supplement" and paused["paused"] is True
    resumed = step(client, w1, case["case_no"], "supplied", {"officer_staff_no": "GA003"})
    # Requested and supplied on the same day: no working day was paused.
    assert resumed["status"] == "accepted" and resumed["due_date"] == case["due_date"]
    done = step(client, hall.user_headers(), case["case_no"], "complete", {"outcome": "approved"})
    assert done["status"] == "approved" and done["completed_at"]
    assert [e["action"] for e in done["history"]] == ["accepted", "supplement", "supplied", "approved"]
    assert done["history"][1]["missing"] == ["户口簿原件", "其他：监护关系证明"]
    assert [e["officer"] for e in done["history"]] == ["GA001", "GA003", "GA003", None]
    assert done["history"][3]["actor"] == "supervisor"
    # 首问负责: the B-post and the supervisor acted, the first officer stayed.
    assert done["first_officer"] == {"staff_no": "GA001", "name": "王芳"}
    r = client.post(f"/api/v1/cases/{case['case_no']}/complete", headers=w1)
    assert r.status_code == 409


def test_first_officer_cannot_be_changed_through_the_api(client: TestClient, hall: Hall) -> None:
    _, case = accept(client, hall)
    w1 = hall.device_headers("agent-w1")
    r = client.post(f"/api/v1/cases/{case['case_no']}/supplied", json={"first_officer": "GA003"}, headers=w1)
    assert r.status_code == 422
    assert client.patch(f"/api/v1/cases/{case['case_no']}", json={}, headers=w1).status_code == 405
    got = client.get(f"/api/v1/cases/{case['case_no']}", headers=hall.user_headers()).json()
    assert got["first_officer"]["staff_no"] == "GA001"


def test_same_client_ref_is_the_same_case(client: TestClient, hall: Hall) -> None:
    ref = str(uuid.uuid4())
    s1, first = accept(client, hall, client_ref=ref)
    s2, again = accept(client, hall, client_ref=ref)
    assert (s1, s2) == (201, 200) and first["case_no"] == again["case_no"]
    s3, other = accept(client, hall, window=2, staff_no="GA002", client_ref=ref)
    assert s3 == 409 and "another window" in other["detail"]
    listed = client.get("/api/v1/cases", headers=hall.user_headers()).json()["cases"]
    assert [c["case_no"] for c in listed] == [first["case_no"]]


def test_bad_acceptances_are_refused_clearly_and_store_nothing(client: TestClient, hall: Hall) -> None:
    bad_id = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    status, body = accept(client, hall, applicant={"id_number": bad_id, "name": NAME})
    assert status == 422 and "校验" in body["detail"] and bad_id not in str(body)
    assert accept(client, hall, item="RS02")[0] == 422  # not served at window 1
    assert accept(client, hall, staff_no="GA002")[0] == 422  # not on window 1's posts
    assert accept(client, hall, client_ref="not-a-uuid")[0] == 422
    assert client.post("/api/v1/cases", json={}, headers=hall.device_headers("agent-w1")).status_code == 422
    kiosk = client.post("/api/v1/cases", json={}, headers=hall.device_headers("kiosk-1"))
    assert kiosk.status_code == 403
    status, body = accept(client, hall)
    assert status == 201 and body["case_no"].endswith("-0001")  # the failures took no number


def test_on_the_spot_cases_have_no_receipt(client: TestClient, hall: Hall) -> None:
    status, quick = accept(client, hall, window=3, item="RS01", staff_no="RS001")  # 即办 item
    assert status == 201 and quick["status"] == "completed" and quick["finished_on_spot"] is True
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert quick["receipt"] is None and quick["due_date"] == today.isoformat()
    status, spot = accept(client, hall, finished_on_spot=True)
    assert spot["status"] == "completed" and spot["receipt"] is None


def test_refusal_needs_a_written_reason(client: TestClient, hall: Hall) -> None:
    _, case = accept(client, hall)
    w1 = hall.device_headers("agent-w1")
    for body in (None, {}, {"reason": "   "}):
        r = client.post(f"/api/v1/cases/{case['case_no']}/refuse", json=body, headers=w1)
        assert r.status_code in (400, 422), r.text
        if body is not None:
            assert r.status_code == 400 and "理由" in r.json()["detail"]
    refused = step(
        client, w1, case["case_no"], "refuse", {"reason": "申请人不符合申领条件", "decision": "rejected"}
    )
    assert refused["status"] == "rejected" and refused["reason"] == "申请人不符合申领条件"
    assert refused["history"][-1]["note"] == "申请人不符合申领条件"


def test_second_supplement_request_is_refused(client: TestClient, hall: Hall) -> None:
    _, case = accept(client, hall)
    w1 = hall.device_headers("agent-w1")
    url = f"/api/v1/cases/{case['case_no']}/supplement"
    empty = client.post(url, json={"missing": [], "officer_staff_no": "GA001"}, headers=w1)
    assert empty.status_code == 400
    blank = client.post(url, json={"missing": ["户口簿原件", " "], "officer_staff_no": "GA001"}, headers=w1)
    assert blank.status_code == 400
    step(client, w1, case["case_no"], "supplement", {"missing": ["户口簿原件"], "officer_staff_no": "GA001"})
    step(client, w1, case["case_no"], "supplied")
    again = client.post(url, json={"missing": ["准迁证明"], "officer_staff_no": "GA001"}, headers=w1)
    assert again.status_code == 409 and "一次性告知" in again.json()["detail"]


def test_only_the_case_window_or_a_supervisor_acts(client: TestClient, hall: Hall) -> None:
    _, case = accept(client, hall)
    url = f"/api/v1/cases/{case['case_no']}/complete"
    assert client.post(url, headers=hall.device_headers("agent-w2")).status_code == 403
    assert client.post(url, headers=hall.device_headers("kiosk-1")).status_code == 403
    assert client.post(url, headers=hall.user_headers("head-ga", "head-ga-pass-1")).status_code == 403
    assert client.post(url).status_code == 401
    assert client.post("/api/v1/cases/NOPE-1/complete", headers=hall.user_headers()).status_code == 404


def test_department_head_sees_only_their_department(client: TestClient, hall: Hall) -> None:
    _, ga = accept(client, hall)
    _, rs = accept(client, hall, window=3, item="RS02", staff_no="RS001")
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    listed = client.get("/api/v1/cases", headers=head).json()["cases"]
    assert [c["case_no"] for c in listed] == [ga["case_no"]]
    assert client.get("/api/v1/cases", params={"department": "RS"}, headers=head).status_code == 403
    assert client.get(f"/api/v1/cases/{rs['case_no']}", headers=head).status_code == 403
    assert client.get(f"/api/v1/cases/{ga['case_no']}", headers=head).status_code == 200
    everyone = client.get("/api/v1/cases", headers=hall.user_headers()).json()["cases"]
    assert {c["case_no"] for c in everyone} == {ga["case_no"], rs["case_no"]}
    by_officer = client.get("/api/v1/cases", params={"officer": "RS001"}, headers=hall.user_headers())
    assert [c["case_no"] for c in by_officer.json()["cases"]] == [rs["case_no"]]
    assert client.get("/api/v1/cases", params={"status": "nonsense"}, headers=head).status_code == 422
    groups = client.get("/api/v1/cases/warnings", headers=head).json()
    assert set(groups) >= {"by_officer", "by_window", "by_department", "today"}


def test_no_id_number_or_name_in_clear_anywhere_in_the_database(client: TestClient, hall: Hall) -> None:
    _, case = accept(client, hall)
    w1 = hall.device_headers("agent-w1")
    step(client, w1, case["case_no"], "supplement", {"missing": ["户口簿原件"], "officer_staff_no": "GA001"})
    step(client, w1, case["case_no"], "refuse", {"reason": "逾期未补正"})
    engine = sa.create_engine(hall.database_url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            assert "case_record" in tables and "case_event" in tables
            text = "".join(
                str(tuple(row))
                for table in tables
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()
    assert case["case_no"] in text and "欧***" in text
    for secret in (ID_NUMBER, ID_NUMBER[:17], NAME):
        assert secret not in text
