"""End to end with real processes: simulated devices -> hall agent -> outbox -> hall server -> API."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import HUMAN_PAUSE_S, AgentClient, RunningHall, eventually, prepared_hall

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningHall]:
    hall = prepared_hall(tmp_path)
    try:
        hall.start_server()
        yield hall
    finally:
        hall.group.stop()


def _staff_rows(hall: RunningHall) -> dict[str, dict]:
    rows = hall.get("/api/v1/ratings/summary", group_by="staff")["rows"]
    return {r["label"]: r for r in rows}


def test_keypad_press_and_fingerprint_punch_reach_the_server(running: RunningHall) -> None:
    agent = AgentClient(running.start_agent(1))
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])  # roster fetched from the server
    agent.finger("GA001")
    state = agent.wait_state("staffed")
    assert state["officer"]["name"] == "王芳"

    first, second = running.take_ticket("GA01"), running.take_ticket("GA03")
    agent.serve("RATE_2")
    agent.serve("RATE_5")

    rows = eventually(lambda: (r := _staff_rows(running)).get("王芳（GA001）", {}).get("rated") == 2 and r)
    row = rows["王芳（GA001）"]
    assert row["levels"]["2"] == 1 and row["levels"]["5"] == 1 and row["bad"] == 1
    # The tickets were called in order and each rating is linked to its ticket.
    tickets = {r["label"]: r for r in running.get("/api/v1/ratings/summary", group_by="item")["rows"]}
    assert tickets["居民身份证申领"]["levels"]["2"] == 1 and tickets["出入境证件办理"]["levels"]["5"] == 1
    assert first["ticket_no"].startswith("A") and second["ticket_no"].startswith("C")
    punches = running.get("/api/v1/attendance/punches")["punches"]
    assert [(p["staff_no"], p["window"]) for p in punches] == [("GA001", 1)]
    devices = {d["device_id"]: d for d in running.get("/api/v1/devices")["devices"]}
    assert {s["device"]: s["state"] for s in devices["agent-w1"]["states"]} == {
        "rating": "ok",
        "caller": "ok",
        "fingerprint": "ok",
        "printer": "ok",
    }


def test_not_rated_is_recorded_as_not_rated(running: RunningHall) -> None:
    agent = AgentClient(running.start_agent(2, rating_timeout_s=1.5))
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])
    agent.finger("GA002")
    agent.wait_state("staffed")
    running.take_ticket("GA02")
    agent.serve(None)
    agent.wait_state("staffed", timeout_s=10)
    rows = eventually(
        lambda: (r := _staff_rows(running)).get("李强（GA002）", {}).get("not_rated") == 1 and r
    )
    assert rows["李强（GA002）"]["rated"] == 0


def test_server_down_nothing_lost_nothing_doubled(running: RunningHall) -> None:
    agent = AgentClient(running.start_agent(3))
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])
    agent.finger("RS001")
    agent.wait_state("staffed")
    running.group.kill("server")
    for i in range(20):
        agent.serve(f"RATE_{i % 5 + 1}")
    assert agent.state()["online"] is False
    assert agent.state()["outbox_depth"] >= 20
    running.start_server()
    rows = eventually(
        lambda: (r := _staff_rows(running)).get("陈静（RS001）", {}).get("rated") == 20 and r, 60
    )
    assert rows["陈静（RS001）"]["levels"] == {"1": 4, "2": 4, "3": 4, "4": 4, "5": 4}
    eventually(lambda: agent.state()["outbox_depth"] == 0)


@pytest.mark.parametrize("device", ["rating", "caller", "fingerprint"])
def test_unplug_and_replug_reach_the_server_as_state_changes(running: RunningHall, device: str) -> None:
    agent = AgentClient(running.start_agent(4))
    agent.wait_devices()
    agent.http.post(f"/sim/{device}/unplug").raise_for_status()
    eventually(lambda: agent.state()["devices"][device]["state"] == "unavailable")
    agent.http.post(f"/sim/{device}/replug").raise_for_status()
    eventually(lambda: agent.state()["devices"][device]["state"] == "ok")

    def states() -> list[str]:
        changes = running.get("/api/v1/devices/agent-w4/history")["changes"]
        return [c["state"] for c in reversed(changes) if c["device"] == device]

    seen = eventually(lambda: (s := states())[-3:] == ["ok", "unavailable", "ok"] and s)
    assert seen[0] == "ok"


def test_enrolment_started_from_the_server(running: RunningHall) -> None:
    agent = AgentClient(running.start_agent(5))
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])
    r = httpx.post(
        f"{running.server_url}/api/v1/enrollments",
        json={"device_id": "agent-w5", "staff_no": "SJ002"},
        headers=running.token(),
    )
    assert r.status_code == 201, r.text
    eventually(lambda: "指纹录入" in agent.state()["notice"], 20)
    agent.finger("SJ002")  # first press (held, then lifted)
    eventually(lambda: "再次按压" in agent.state()["notice"], 20)
    agent.finger("SJ002")  # second press
    done = eventually(
        lambda: [e for e in running.get("/api/v1/enrollments")["enrollments"] if e["status"] == "done"], 30
    )
    assert done[0]["staff_no"] == "SJ002" and done[0]["page"] is not None
    # The newly enrolled finger now clocks the officer in, linked on the server too.
    time.sleep(HUMAN_PAUSE_S)
    agent.finger("SJ002")
    assert agent.wait_state("staffed")["officer"]["staff_no"] == "SJ002"
    punches = eventually(lambda: running.get("/api/v1/attendance/punches", staff_no="SJ002")["punches"])
    assert punches[0]["window"] == 5


def test_case_accepted_at_the_window_with_receipt_supplement_and_rating(running: RunningHall) -> None:
    agent = AgentClient(running.start_agent(1, printer_url="sim"))
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])
    agent.finger("GA001")
    agent.wait_state("staffed")
    running.take_ticket("GA01")
    agent.key("NEXT")
    agent.wait_state("calling")
    time.sleep(HUMAN_PAUSE_S)
    agent.key("NEXT")
    agent.wait_state("serving")
    r = agent.http.post(
        "/cases", json={"item_code": "GA01", "id_number": "11010519491231002X", "name": "张三"}
    )
    assert r.status_code == 200, r.text
    case = r.json()["case"]
    assert "受理回单已打印" in r.json()["message"]
    assert (
        case["first_officer"]["staff_no"] == "GA001"
        and case["applicant"]["id_masked"] == "110***********002X"
    )
    printed = eventually(lambda: agent.http.get("/sim/printer/tickets").json()["tickets"])
    assert case["case_no"] in printed[0] and "110***********002X" in printed[0]
    assert "11010519491231002X" not in printed[0]
    r = agent.http.post(f"/cases/{case['case_no']}/supplement", json={"missing": ["户口簿原件"]})
    assert r.status_code == 200 and r.json()["case"]["status"] == "supplement"
    again = agent.http.post(f"/cases/{case['case_no']}/supplement", json={"missing": ["照片"]})
    assert again.status_code == 409 and "一次性告知" in again.json()["detail"]
    time.sleep(HUMAN_PAUSE_S)
    agent.key("FINISH")
    agent.wait_state("awaiting_rating")
    time.sleep(HUMAN_PAUSE_S)
    agent.key("RATE_1")
    agent.wait_state("staffed")
    path = running.database_url.removeprefix("sqlite:///")

    def rated_case() -> object:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT case_no, ticket_no FROM rating").fetchall()

    (row,) = eventually(rated_case)
    assert row[0] == case["case_no"] and row[1] is not None
