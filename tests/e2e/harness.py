"""Real processes for end-to-end tests: a `hall server` and `hall agent`s on simulated devices."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hall.demo import write_agent_config
from hall.processes import ProcessGroup, wait_http
from tests.pg_harness import free_port
from tests.server.conftest import ANY_HOUR, SUPERVISOR_PASSWORD, prepare_database

HUMAN_PAUSE_S = 0.35


@dataclass
class RunningHall:
    """A server process over a prepared database, and the agents started on it."""

    group: ProcessGroup
    tmp: Path
    database_url: str
    keys: dict[str, str]
    port: int
    server_env: dict[str, str] = field(default_factory=dict)  # more settings of the server process

    @property
    def server_url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start_server(self) -> None:
        """(Re)start the server process."""
        env = {
            "HALL_DEMO": "1",
            "HALL_DATABASE_URL": self.database_url,
            "HALL_QUEUE_LAST_TICKET_TIME": ANY_HOUR,
            **self.server_env,
        }
        proc = self.group.start("server", "server", "--port", str(self.port), env=env)
        wait_http(f"{self.server_url}/healthz", 60, proc)

    def start_agent(self, window: int, **settings: Any) -> str:
        """Start `hall agent` for a window on simulated devices; return its local URL."""
        http_port = free_port()
        config = write_agent_config(
            self.tmp, window, self.keys[f"agent-w{window}"], self.server_url, http_port
        )
        if settings:
            text = config.read_text(encoding="utf-8")
            for key, value in settings.items():
                lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
                text = "\n".join([*lines, f"{key} = {value!r}".replace("'", '"')]) + "\n"
            config.write_text(text, encoding="utf-8")
        proc = self.group.start(f"agent-w{window}", "agent", "--config", str(config))
        url = f"http://127.0.0.1:{http_port}"
        wait_http(f"{url}/state", 30, proc)
        return url

    def take_ticket(self, item_code: str) -> dict[str, Any]:
        """Take a queue ticket as the kiosk does."""
        r = httpx.post(
            f"{self.server_url}/api/v1/tickets",
            json={
                "item_code": item_code,
                "client_ref": str(uuid.uuid4()),
                "priority": False,
                "citizen": None,
            },
            headers={"Authorization": f"Bearer {self.keys['kiosk-1']}"},
            timeout=10,
        )
        r.raise_for_status()
        ticket: dict[str, Any] = r.json()
        return ticket

    def token(self) -> dict[str, str]:
        """Supervisor authorization headers."""
        r = httpx.post(
            f"{self.server_url}/api/v1/auth/token",
            data={"username": "supervisor", "password": SUPERVISOR_PASSWORD},
        )
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON API path as the supervisor."""
        r = httpx.get(f"{self.server_url}{path}", params=params, headers=self.token(), timeout=10)
        r.raise_for_status()
        return r.json()


def prepared_hall(tmp: Path, database_url: str | None = None) -> RunningHall:
    """Prepare a database and a process group (the caller starts processes and stops the group)."""
    url = database_url or f"sqlite:///{tmp / 'hall.db'}"
    keys = prepare_database(url)
    return RunningHall(ProcessGroup(tmp / "logs"), tmp, url, keys, free_port())


def eventually(check: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.3) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with the last value after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s; last value: {last!r}")


class AgentClient:
    """Drives one agent's simulated devices through its local pages."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def state(self) -> dict[str, Any]:
        """The window's state JSON."""
        data: dict[str, Any] = self.http.get("/state").json()
        return data

    def finger(self, staff_no: str) -> None:
        """Place an officer's finger on the simulated reader."""
        self.http.post("/sim/finger", json={"staff_no": staff_no}).raise_for_status()

    def key(self, key: str) -> None:
        """Press a key on the simulated keypads."""
        r = self.http.post("/sim/key", json={"key": key})
        r.raise_for_status()
        if not r.json()["pressed"]:
            raise AssertionError(f"key {key} not delivered: keypad not connected")

    def wait_state(self, state: str, timeout_s: float = 15.0) -> dict[str, Any]:
        """Wait until the window is in ``state``."""
        return eventually(lambda: (s := self.state())["state"] == state and s, timeout_s)  # type: ignore[no-any-return]

    def wait_devices(self, timeout_s: float = 20.0, count: int = 4) -> None:
        """Wait until ``count`` simulated devices are open."""
        eventually(
            lambda: (
                len(d := self.state()["devices"]) == count and all(v["state"] == "ok" for v in d.values())
            ),
            timeout_s,
        )

    def serve(self, rating_key: str | None) -> None:
        """One manual service, ending with a rating key (or none), at a human pace.

        Presses of one key closer than the keypad debounce (0.15 s) are contact bounce, and
        ratings faster than 0.3 s after arming are flagged: people are slower than both.
        """
        self.key("NEXT")
        state = eventually(lambda: (s := self.state()["state"]) in ("calling", "serving") and s)
        time.sleep(HUMAN_PAUSE_S)
        if state == "calling":
            self.key("NEXT")  # the called citizen has arrived
            self.wait_state("serving")
            time.sleep(HUMAN_PAUSE_S)
        self.key("FINISH")
        self.wait_state("awaiting_rating")
        time.sleep(HUMAN_PAUSE_S)
        if rating_key:
            self.key(rating_key)
            self.wait_state("staffed")
            time.sleep(HUMAN_PAUSE_S)
