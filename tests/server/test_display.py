"""The hall display: page, snapshot and spoken announcements."""

from __future__ import annotations

import shutil
import uuid

import pytest

from server.services.queue_display import spoken_text
from tests.server.conftest import Hall


def _call(hall: Hall, item: str, window: int) -> str:
    body = {"item_code": item, "client_ref": str(uuid.uuid4())}
    assert hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1")).is_success
    r = hall.client.post("/api/v1/queue/call-next", headers=hall.device_headers(f"agent-w{window}"))
    assert r.status_code == 200
    return str(r.json()["ticket_no"])


def test_display_page_and_assets(hall: Hall) -> None:
    page = hall.client.get("/display")
    assert page.status_code == 200 and "Noto Sans CJK SC" not in page.text  # style is in the CSS file
    assert "/api/v1/display/events" in hall.client.get("/display/static/display.js").text
    assert "Noto Sans CJK SC" in hall.client.get("/display/static/display.css").text
    assert hall.client.get("/display/static/secret.txt").status_code == 404


def test_snapshot_has_calls_and_waiting_counts(hall: Hall) -> None:
    _call(hall, "GA01", 1)
    body = {"item_code": "GA01", "client_ref": str(uuid.uuid4())}
    hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    snap = hall.client.get("/api/v1/display/snapshot").json()
    assert snap["calls"][0]["text"] == "请 A001 号到 1 号窗口办理"
    waiting = {w["code"]: w["waiting"] for w in snap["waiting"]}
    assert waiting["GA01"] == 1 and waiting["SJ02"] == 0


def test_spoken_text_spells_the_number() -> None:
    assert spoken_text("A023", 5) == "请 A 0 2 3 号 到 5 号 窗口 办理"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_audio_is_a_wav(hall: Hall) -> None:
    _call(hall, "RS01", 3)
    call_id = hall.client.get("/api/v1/display/snapshot").json()["calls"][0]["id"]
    r = hall.client.get(f"/api/v1/display/audio/{call_id}.wav")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and r.content[8:12] == b"WAVE" and len(r.content) > 10_000
    assert hall.client.get(f"/api/v1/display/audio/{call_id}.wav").content == r.content  # cached
    assert hall.client.get("/api/v1/display/audio/999999.wav").status_code == 404


def test_audio_without_espeak_is_503(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    _call(hall, "RS01", 4)
    call_id = hall.client.get("/api/v1/display/snapshot").json()["calls"][0]["id"]
    monkeypatch.setenv("PATH", "/nonexistent")
    r = hall.client.get(f"/api/v1/display/audio/{call_id}.wav")
    assert r.status_code == 503 and "espeak-ng" in r.json()["detail"]
