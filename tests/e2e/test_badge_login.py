"""End to end with the real pcscd: a virtual badge on the vpcd reader clocks an officer in at an agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devices.pcscd_harness import (
    PcscdEnv,
    pcscd_fixture,  # noqa: F401 - registers the "pcscd" fixture
    wait_for_card,
)
from tests.e2e.harness import AgentClient, RunningHall, eventually, prepared_hall

pytestmark = pytest.mark.e2e

UID = "04A1B2C3D4E5F6"
BADGE_PUNCH_PAGE = -1


@pytest.fixture
def running(tmp_path: Path, pcscd: PcscdEnv) -> Iterator[RunningHall]:
    hall = prepared_hall(tmp_path)
    try:
        hall.start_server()
        yield hall
    finally:
        hall.group.stop()
        wait_for_card(pcscd.reader_name, present=False)


def _sim(agent: AgentClient, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = agent.http.post(path, json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_virtual_badge_clocks_an_officer_in(running: RunningHall, pcscd: PcscdEnv) -> None:
    issued = httpx.post(
        f"{running.server_url}/api/v1/badges",
        json={"uid": UID, "staff_no": "GA001"},
        headers=running.token(),
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    agent = AgentClient(running.start_agent(1, badge_reader="sim", badge_sim_port=pcscd.port))
    eventually(lambda: agent.state()["devices"].get("badge", {}).get("state") == "ok", 20)
    eventually(lambda: agent.state()["posts"])  # roster (with its badges) fetched from the server

    _sim(agent, "/sim/badge", {"uid": UID})
    state = agent.wait_state("staffed")
    assert state["officer"]["name"] == "王芳"
    assert state["notice"] == "王芳 刷卡签到成功"
    _sim(agent, "/sim/badge/remove")
    assert wait_for_card(pcscd.reader_name, present=False)

    punches = eventually(lambda: running.get("/api/v1/attendance/punches")["punches"])
    assert [(p["staff_no"], p["name"], p["window"], p["page"]) for p in punches] == [
        ("GA001", "王芳", 1, BADGE_PUNCH_PAGE)
    ]

    # A card nobody registered: a clear message at the window, no punch.
    _sim(agent, "/sim/badge", {"uid": "DEADBEEF"})
    eventually(lambda: "未登记" in agent.state()["notice"])
    _sim(agent, "/sim/badge/remove")
    assert agent.state()["state"] == "staffed"

    def badge_state() -> dict[str, Any] | None:
        devices = {d["device_id"]: d for d in running.get("/api/v1/devices")["devices"]}
        return next((s for s in devices["agent-w1"]["states"] if s["device"] == "badge"), None)

    assert eventually(badge_state)["state"] == "ok"
    assert len(running.get("/api/v1/attendance/punches")["punches"]) == 1
