"""Fixtures for server tests: a migrated database with the demo hall, device keys and a supervisor."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from server.app import create_app
from server.db import session_scope
from server.migrate import upgrade
from server.models.devices import DeviceKind
from server.models.users import Role
from server.services.admin import add_device, create_user
from server.services.hall_config import load_hall, read_hall_file
from server.settings import ServerSettings
from tests.conftest import new_database

DEMO_HALL = Path(__file__).resolve().parents[2] / "server" / "halls" / "demo.toml"
SUPERVISOR_PASSWORD = "supervisor-pass-1"
ANY_HOUR = "23:59"


@dataclass
class Hall:
    """A running app over a prepared database."""

    client: TestClient
    engine: Engine
    keys: dict[str, str]
    database_url: str

    def device_headers(self, device_id: str) -> dict[str, str]:
        """Authorization headers of one device."""
        return {"Authorization": f"Bearer {self.keys[device_id]}"}

    def user_headers(
        self, username: str = "supervisor", password: str = SUPERVISOR_PASSWORD
    ) -> dict[str, str]:
        """Authorization headers of a logged-in user."""
        r = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def prepare_database(database_url: str) -> dict[str, str]:
    """Migrate, load the demo hall, create agent keys for windows 1-6 and a kiosk key, and a supervisor."""
    upgrade(database_url)
    from server.db import make_engine

    engine = make_engine(database_url)
    keys: dict[str, str] = {}
    with session_scope(engine) as session:
        load_hall(session, read_hall_file(DEMO_HALL))
        for n in range(1, 7):
            keys[f"agent-w{n}"] = add_device(session, f"agent-w{n}", DeviceKind.AGENT, n)
        keys["kiosk-1"] = add_device(session, "kiosk-1", DeviceKind.KIOSK, None)
        create_user(session, "supervisor", SUPERVISOR_PASSWORD, Role.SUPERVISOR)
        create_user(session, "head-ga", "head-ga-pass-1", Role.DEPARTMENT_HEAD, "GA")
    engine.dispose()
    return keys


_templates: dict[str, tuple[str, dict[str, str]]] = {}


def _template(request: pytest.FixtureRequest, backend: str) -> tuple[str, dict[str, str]]:
    """A prepared database made once per session and backend; tests get copies of it."""
    if backend not in _templates:
        base = request.getfixturevalue("tmp_path_factory").mktemp("template")
        if backend == "sqlite":
            path = base / "template.db"
            keys = prepare_database(f"sqlite:///{path}")
            with sqlite3.connect(path) as db:  # fold the WAL into the file before copying it
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _templates[backend] = (str(path), keys)
        else:
            url = new_database(request, backend, base / "unused")
            keys = prepare_database(url)
            _templates[backend] = (url.rsplit("/", 1)[1], keys)
    return _templates[backend]


@pytest.fixture
def prepared_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> tuple[str, dict[str, str]]:
    """A fresh copy of the prepared database (demo hall, device keys, users) and its device keys."""
    template, keys = _template(request, backend)
    return new_database(request, backend, tmp_path / "hall.db", template), keys


@pytest.fixture
def hall(prepared_database: tuple[str, dict[str, str]]) -> Iterator[Hall]:
    """The server app (in-process) over a fresh database on SQLite or PostgreSQL."""
    database_url, keys = prepared_database
    # Tickets can be taken at any hour the suite runs; the last-ticket rule has its own tests.
    app = create_app(ServerSettings(demo=True, database_url=database_url, queue_last_ticket_time=ANY_HOUR))
    with TestClient(app) as client:
        yield Hall(client=client, engine=app.state.engine, keys=keys, database_url=database_url)
