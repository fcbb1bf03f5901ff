"""The queue engine through its HTTP API: numbering, idempotency, calling order and window actions."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from server.app import create_app
from server.models import Ticket
from server.settings import ServerSettings
from tests.server.conftest import Hall

ID_NUMBER = "110101199003071234"


def issue(
    hall: Hall,
    item: str = "GA01",
    *,
    priority: bool = False,
    citizen: str | None = None,
    ref: str | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    body = {
        "item_code": item,
        "client_ref": ref or str(uuid.uuid4()),
        "priority": priority,
        "citizen": {"id_number": citizen, "name": "张三"} if citizen else None,
    }
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == expect, r.text
    return r.json()


def call_next(hall: Hall, window: int) -> str | None:
    r = hall.client.post("/api/v1/queue/call-next", headers=hall.device_headers(f"agent-w{window}"))
    assert r.status_code in (200, 204), r.text
    return r.json()["ticket_no"] if r.status_code == 200 else None


def act(hall: Hall, window: int, ticket_no: str, action: str, body: dict | None = None) -> Any:
    return hall.client.post(
        f"/api/v1/queue/tickets/{ticket_no}/{action}",
        json=body or {},
        headers=hall.device_headers(f"agent-w{window}"),
    )


def test_numbers_count_per_item_prefix(hall: Hall) -> None:
    numbers = [issue(hall, code)["ticket_no"] for code in ("GA01", "GA01", "RS01", "GA01", "RS01")]
    assert numbers == ["A001", "A002", "D001", "A003", "D002"]


def test_ticket_carries_what_the_kiosk_prints(hall: Hall) -> None:
    issue(hall, "GA01")
    t = issue(hall, "GA01")
    assert t["item_name"] == "居民身份证申领" and t["window_group"] == "1、2号窗口"
    assert t["people_ahead"] == 1 and t["estimated_wait_min"] == 3  # 1 x 5 min over 2 windows
    assert t["materials"][0] == "户口簿原件" and t["status"] == "waiting"
    assert t["status_url"].endswith("/t/" + t["token"])


def test_same_client_ref_returns_the_same_ticket(hall: Hall) -> None:
    ref = str(uuid.uuid4())
    first = issue(hall, "GA02", ref=ref)
    again = issue(hall, "GA02", ref=ref, expect=200)
    assert again["ticket_no"] == first["ticket_no"] == "B001" and again["token"] == first["token"]
    assert issue(hall, "GA02")["ticket_no"] == "B002"


def test_citizen_still_waiting_gets_the_ticket_again_and_id_is_protected(hall: Hall) -> None:
    first = issue(hall, "GA01", citizen=ID_NUMBER)
    again = issue(hall, "GA01", citizen=ID_NUMBER, expect=200)
    assert again["reissued"] is True and again["ticket_no"] == first["ticket_no"]
    assert first["citizen_masked"] == "110***********1234"
    assert issue(hall, "GA02", citizen=ID_NUMBER)["ticket_no"] == "B001"  # another item: a new ticket
    with Session(hall.engine) as s:
        for t in s.exec(select(Ticket)):
            assert ID_NUMBER not in (t.citizen_hash or "") and t.citizen_masked != ID_NUMBER
    page = hall.client.get("/t/" + first["token"]).text
    assert first["ticket_no"] in page and ID_NUMBER not in page and "1234" not in page


def test_bad_requests_are_refused_clearly(hall: Hall) -> None:
    assert "GA99" in issue(hall, "GA99", expect=404)["detail"]
    r = hall.client.post(
        "/api/v1/tickets",
        json={"item_code": "GA01", "client_ref": str(uuid.uuid4()), "citizen": {"id_number": "12"}},
        headers=hall.device_headers("kiosk-1"),
    )
    assert r.status_code == 422
    r = hall.client.post(
        "/api/v1/tickets",
        json={"item_code": "GA01", "client_ref": str(uuid.uuid4())},
        headers=hall.device_headers("agent-w1"),
    )
    assert r.status_code == 403
    assert hall.client.post("/api/v1/tickets", json={"item_code": "GA01"}).status_code == 401


def test_no_ticket_after_the_last_ticket_time(hall: Hall) -> None:
    settings = ServerSettings(demo=True, database_url=hall.database_url, queue_last_ticket_time="00:00")
    with TestClient(create_app(settings)) as client:
        body = {"item_code": "GA01", "client_ref": str(uuid.uuid4())}
        r = client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
        assert r.status_code == 409 and "今日取号已结束" in r.json()["detail"]
        assert client.get("/api/v1/items").json()["accepting"] is False


def test_priority_first_then_longest_waiting(hall: Hall) -> None:
    issue(hall, "GA02")  # B001, served by window 2 only
    issue(hall, "GA01")  # A001
    issue(hall, "GA01", priority=True)  # A002, 绿色通道
    issue(hall, "GA03")  # C001, window 1 only
    assert [call_next(hall, 1) for _ in range(3)] == ["A002", "A001", "C001"]
    assert call_next(hall, 1) is None
    assert call_next(hall, 2) == "B001"
    assert call_next(hall, 2) is None


def test_recall_at_most_three_times(hall: Hall) -> None:
    issue(hall, "RS01")
    assert call_next(hall, 3) == "D001"
    for n in (1, 2, 3):
        r = act(hall, 3, "D001", "recall")
        assert r.status_code == 200 and r.json()["recall_count"] == n
    r = act(hall, 3, "D001", "recall")
    assert r.status_code == 409 and "已重呼 3 次" in r.json()["detail"]
    assert act(hall, 4, "D001", "recall").status_code == 403  # not the calling window
    calls = hall.client.get("/api/v1/display/snapshot").json()["calls"]
    assert [c["kind"] for c in calls] == ["recall", "recall", "recall", "call"]
    assert calls[0]["text"] == "请 D001 号到 3 号窗口办理"


def test_no_show_requeues_three_places_back_then_lapses(hall: Hall) -> None:
    for _ in range(6):
        issue(hall, "SJ01")
    assert call_next(hall, 5) == "G001"
    r = act(hall, 5, "G001", "no-show")
    assert r.status_code == 200 and r.json()["status"] == "no_show"
    assert [call_next(hall, 5) for _ in range(4)] == ["G002", "G003", "G004", "G001"]
    r = act(hall, 5, "G001", "no-show")
    assert r.status_code == 200 and r.json()["status"] == "lapsed"
    assert [call_next(hall, 5) for _ in range(3)] == ["G005", "G006", None]


def test_transfer_keeps_the_place_in_the_queue(hall: Hall) -> None:
    issue(hall, "GA01")  # A001
    issue(hall, "GA02")  # B001, issued after A001
    assert call_next(hall, 1) == "A001"
    r = act(hall, 1, "A001", "transfer", {"item_code": "GA02"})
    assert r.status_code == 200 and r.json()["status"] == "transferred"
    assert r.json()["item_code"] == "GA02"
    assert act(hall, 1, "A001", "start").status_code == 403  # it left window 1
    assert call_next(hall, 2) == "A001"  # ahead of B001: it keeps its original place
    assert act(hall, 2, "A001", "transfer", {"item_code": "NOPE"}).status_code == 404


def test_start_finish_and_stats(hall: Hall) -> None:
    issue(hall, "GA03")
    issue(hall, "GA03")
    assert call_next(hall, 1) == "C001"
    assert act(hall, 1, "C001", "finish", {"staff_no": "GA001"}).status_code == 200
    assert act(hall, 1, "C001", "finish").status_code == 409  # already finished
    assert call_next(hall, 1) == "C002"
    assert act(hall, 1, "C002", "start", {"staff_no": "GA003"}).json()["status"] == "serving"
    assert act(hall, 1, "C002", "bogus").status_code == 404
    r = hall.client.get("/api/v1/queue/stats", headers=hall.user_headers())
    assert r.status_code == 200
    (row,) = r.json()["items"]
    assert (row["item_code"], row["issued"], row["served"], row["waiting"]) == ("GA03", 2, 1, 0)
    assert row["avg_wait_min"] is not None and row["avg_service_min"] is not None
    assert hall.client.get("/api/v1/queue/stats").status_code == 401


def test_kiosk_printer_outcome(hall: Hall) -> None:
    a = issue(hall, "RS02")["ticket_no"]
    b = issue(hall, "RS02")["ticket_no"]
    kiosk = hall.device_headers("kiosk-1")
    r = hall.client.post(f"/api/v1/tickets/{a}/printed", headers=kiosk)
    assert r.status_code == 200
    r = hall.client.post(f"/api/v1/tickets/{b}/cancel", headers=kiosk)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert hall.client.post("/api/v1/tickets/Z999/cancel", headers=kiosk).status_code == 404
    assert call_next(hall, 3) == a
    assert hall.client.post(f"/api/v1/tickets/{a}/cancel", headers=kiosk).status_code == 409
    assert call_next(hall, 3) is None  # the cancelled one is never called
    items = {i["code"]: i for i in hall.client.get("/api/v1/items").json()["items"]}
    assert items["RS02"]["waiting"] == 0 and items["RS02"]["department"]["code"] == "RS"


def test_status_page(hall: Hall) -> None:
    issue(hall, "SJ02")
    t = issue(hall, "SJ02")
    page = hall.client.get("/t/" + t["token"])
    assert page.status_code == 200 and "H002" in page.text and "前面等候" in page.text
    assert hall.client.get("/t/unknown-token").status_code == 404
