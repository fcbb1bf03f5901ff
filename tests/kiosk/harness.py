"""Real processes for the kiosk's browser tests: a `hall server` and the kiosk on simulated devices."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hall.processes import ProcessGroup, wait_http
from tests.pg_harness import free_port
from tests.server.conftest import prepare_database

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
HALL_NAME = "示范市政务服务中心"
# Tests may run at any hour: keep the hall open all day.
SERVER_ENV = {"HALL_DEMO": "1", "HALL_QUEUE_LAST_TICKET_TIME": "23:59", "HALL_QUEUE_CLOSING_TIME": "23:59"}


@dataclass
class KioskRig:
    """A server process over a prepared database and a kiosk process talking to it."""

    tmp: Path
    group: ProcessGroup
    database_url: str
    keys: dict[str, str]
    server_port: int
    kiosk_port: int
    kiosk: subprocess.Popen[bytes] | None = None
    kiosk_settings: dict[str, str] = field(default_factory=dict)

    @property
    def server_url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.server_port}"

    @property
    def kiosk_url(self) -> str:
        """Base URL of the kiosk's local page."""
        return f"http://127.0.0.1:{self.kiosk_port}"

    def start_server(self) -> None:
        """Start `hall server` on the prepared database."""
        env = {**SERVER_ENV, "HALL_DATABASE_URL": self.database_url}
        proc = self.group.start("server", "server", "--port", str(self.server_port), env=env)
        wait_http(f"{self.server_url}/healthz", 60, proc)

    def stop_server(self) -> None:
        """Kill the server (a power cut on the server side)."""
        self.group.kill("server")

    def start_kiosk(self, **settings: str) -> None:
        """Start the kiosk process with simulated printer and card reader."""
        env = {
            **os.environ,
            "HALL_KIOSK_SERVER_URL": self.server_url,
            "HALL_KIOSK_DEVICE_KEY": self.keys["kiosk-1"],
            "HALL_KIOSK_HTTP_PORT": str(self.kiosk_port),
            "HALL_KIOSK_DATA_DIR": str(self.tmp / "kiosk"),
            "HALL_KIOSK_HALL_NAME": HALL_NAME,
            "HALL_KIOSK_SERVER_TIMEOUT_S": "3",
            "HALL_KIOSK_PRINTER_CHECK_S": "0.5",
            **{f"HALL_KIOSK_{k.upper()}": v for k, v in settings.items()},
        }
        log = (self.tmp / "kiosk.log").open("ab")
        self.kiosk = subprocess.Popen(
            [sys.executable, "-m", "kiosk.main"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        wait_http(f"{self.kiosk_url}/healthz", 30, self.kiosk)
        # The page is useful once the item list arrived and both devices are open.
        eventually(lambda: self.health()["server"] == "ok" and self.health()["printer"] == "ok", 20)

    def stop(self) -> None:
        """Stop the kiosk, then the server."""
        if self.kiosk is not None and self.kiosk.poll() is None:
            self.kiosk.terminate()
            try:
                self.kiosk.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kiosk.kill()
                self.kiosk.wait(timeout=5)
        self.group.stop()

    def health(self) -> dict[str, Any]:
        """The kiosk's /healthz."""
        r = httpx.get(f"{self.kiosk_url}/healthz", timeout=5)
        r.raise_for_status()
        result: dict[str, Any] = r.json()
        return result

    def sim(self, method: str, path: str, **body: Any) -> Any:
        """Call a simulator switch of the kiosk."""
        r = httpx.request(method, f"{self.kiosk_url}{path}", json=body or None, timeout=5)
        r.raise_for_status()
        return r.json()

    def printed(self) -> list[str]:
        """Decoded text of every ticket the simulated printer cut."""
        tickets: list[str] = self.sim("GET", "/sim/printer/tickets")["tickets"]
        return tickets


def prepared_rig(tmp: Path) -> KioskRig:
    """A prepared SQLite database with the demo hall and a kiosk key (nothing started yet)."""
    url = f"sqlite:///{tmp / 'hall.db'}"
    keys = prepare_database(url)
    return KioskRig(tmp, ProcessGroup(tmp / "logs"), url, keys, free_port(), free_port())


def eventually(check: Callable[[], Any], timeout_s: float = 15.0, interval_s: float = 0.2) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with the last value after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    value: Any = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s (last value {value!r})")
