"""The kiosk's printer and ID-card reader states reach the server (GET /api/v1/devices)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kiosk.harness import KioskRig, eventually
from tests.server.conftest import SUPERVISOR_PASSWORD


def _kiosk_states(rig: KioskRig) -> dict[str, str]:
    token = httpx.post(
        f"{rig.server_url}/api/v1/auth/token",
        data={"username": "supervisor", "password": SUPERVISOR_PASSWORD},
    ).json()["access_token"]
    devices: list[dict[str, Any]] = httpx.get(
        f"{rig.server_url}/api/v1/devices", headers={"Authorization": f"Bearer {token}"}
    ).json()["devices"]
    kiosk = next(d for d in devices if d["device_id"] == "kiosk-1")
    return {s["device"]: s["state"] for s in kiosk["states"]}


def test_printer_and_card_reader_states_reach_the_server(rig: KioskRig) -> None:
    rig.start_kiosk()
    eventually(lambda: _kiosk_states(rig) == {"printer": "ok", "idcard": "ok"}, 20)
    rig.sim("POST", "/sim/printer/fault", name="paper_out", on=True)
    eventually(lambda: _kiosk_states(rig).get("printer") == "degraded", 20)
    rig.sim("POST", "/sim/printer/fault", name="paper_out", on=False)
    eventually(lambda: _kiosk_states(rig).get("printer") == "ok", 20)
