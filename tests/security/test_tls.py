"""Agent -> server over HTTPS: the agent trusts only its configured CA and loses nothing when it cannot."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hall.demo import write_agent_config
from hall.processes import ProcessGroup
from tests.e2e.harness import AgentClient, eventually
from tests.pg_harness import free_port
from tests.security.certs import make_ca, make_server_cert
from tests.server.conftest import ANY_HOUR, SUPERVISOR_PASSWORD, prepare_database

pytestmark = pytest.mark.e2e


class TlsHall:
    """A `hall server` behind HTTPS with a throw-away CA, and agents started on it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ca, ca_key = make_ca(tmp, "hall-ca")
        self.wrong_ca, _ = make_ca(tmp, "other-ca")
        self.cert, self.key = make_server_cert(tmp, self.ca, ca_key)
        self.database_url = f"sqlite:///{tmp / 'hall.db'}"
        self.keys = prepare_database(self.database_url)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.group = ProcessGroup(tmp / "logs")
        self.http = httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=self.ca))

    def start_server(self) -> None:
        """Start the server with the certificate; wait until it answers over HTTPS."""
        env = {
            "HALL_DEMO": "1",
            "HALL_DATABASE_URL": self.database_url,
            "HALL_QUEUE_LAST_TICKET_TIME": ANY_HOUR,  # tests run at any hour
        }
        args = ("--port", str(self.port), "--ssl-keyfile", str(self.key), "--ssl-certfile", str(self.cert))
        proc = self.group.start("server", "server", *args, env=env)
        eventually(lambda: proc.poll() is None and self._healthy(), 60)

    def _healthy(self) -> bool:
        try:
            return self.http.get("/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start_agent(self, window: int, ca_file: Path) -> AgentClient:
        """Start the window's agent on simulated devices, trusting ``ca_file``."""
        http_port = free_port()
        config = write_agent_config(self.tmp, window, self.keys[f"agent-w{window}"], self.url, http_port)
        config.write_text(config.read_text(encoding="utf-8") + f'ca_file = "{ca_file}"\n', encoding="utf-8")
        self.group.start(f"agent-w{window}", "agent", "--config", str(config))
        agent = AgentClient(f"http://127.0.0.1:{http_port}")
        eventually(lambda: self._answers(agent), 30)
        return agent

    @staticmethod
    def _answers(agent: AgentClient) -> bool:
        try:
            return bool(agent.state())
        except httpx.HTTPError:
            return False

    def supervisor(self, path: str, **params: Any) -> Any:
        """GET an API path as the supervisor, over HTTPS."""
        token = self.http.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": SUPERVISOR_PASSWORD}
        ).json()["access_token"]
        r = self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()


@pytest.fixture
def tls_hall(tmp_path: Path) -> Iterator[TlsHall]:
    """A TLS server; every process is stopped afterwards."""
    hall = TlsHall(tmp_path)
    try:
        hall.start_server()
        yield hall
    finally:
        hall.http.close()
        hall.group.stop()


def test_plain_http_and_untrusted_clients_get_nothing(tls_hall: TlsHall) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{tls_hall.port}/healthz", timeout=3)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{tls_hall.url}/healthz", timeout=3)  # the system store does not know the test CA
    wrong = ssl.create_default_context(cafile=tls_hall.wrong_ca)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{tls_hall.url}/healthz", verify=wrong, timeout=3)


def test_rating_arrives_over_tls_with_the_right_ca(tls_hall: TlsHall) -> None:
    agent = tls_hall.start_agent(1, tls_hall.ca)
    agent.wait_devices()
    eventually(lambda: agent.state()["posts"])  # the roster came over HTTPS
    agent.finger("GA001")
    agent.wait_state("staffed")
    kiosk = {"Authorization": f"Bearer {tls_hall.keys['kiosk-1']}"}
    r = tls_hall.http.post(
        "/api/v1/tickets", json={"item_code": "GA01", "client_ref": str(uuid.uuid4())}, headers=kiosk
    )
    assert r.status_code == 201, r.text
    agent.serve("RATE_4")
    eventually(lambda: (s := agent.state())["online"] and s["outbox_depth"] == 0)
    rows = eventually(lambda: tls_hall.supervisor("/api/v1/ratings/summary", group_by="staff")["rows"])
    assert [(row["rated"], row["levels"]["4"]) for row in rows] == [(1, 1)]


def test_wrong_ca_stays_offline_and_loses_nothing(tls_hall: TlsHall) -> None:
    agent = tls_hall.start_agent(2, tls_hall.wrong_ca)
    agent.wait_devices()
    queued = eventually(lambda: (s := agent.state())["outbox_depth"] > 0 and not s["online"] and s)
    time.sleep(3)  # several send attempts fail on the certificate
    state = agent.state()
    assert not state["online"] and state["outbox_depth"] >= queued["outbox_depth"]
    assert "agent-w2" not in {d["device_id"] for d in _seen(tls_hall)}

    tls_hall.group.kill("agent-w2")
    agent = tls_hall.start_agent(2, tls_hall.ca)  # same outbox, now the right CA
    eventually(lambda: (s := agent.state())["online"] and s["outbox_depth"] == 0)
    assert "agent-w2" in {d["device_id"] for d in _seen(tls_hall)}


def _seen(hall: TlsHall) -> list[dict[str, Any]]:
    """Devices the server has heard from."""
    devices: list[dict[str, Any]] = hall.supervisor("/api/v1/devices")["devices"]
    return [d for d in devices if d.get("last_seen_at") or d.get("states")]
