"""Several real server processes over one database: atomic numbering and claiming, cross-process display."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hall.processes import ProcessGroup, wait_http
from server.db import make_engine, session_scope
from server.models.devices import DeviceKind
from server.services.admin import add_device
from server.services.hall_config import WindowIn, load_hall, read_hall_file
from tests.pg_harness import free_port
from tests.server.conftest import ANY_HOUR, DEMO_HALL, prepare_database

EXTRA_WINDOWS = range(7, 41)  # with the demo's six: 40 windows
TICKETS = 200
ITEMS = ["GA01", "GA02", "GA03", "RS01", "RS02", "RS03", "SJ01", "SJ02"]
_names = itertools.count()


def _pg_database(server_url: str) -> str:
    name = f"hall_mp{next(_names)}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def _add_windows(database_url: str, keys: dict[str, str]) -> None:
    config = read_hall_file(DEMO_HALL)
    config.windows += [WindowIn(number=n, department="GA", items=ITEMS) for n in EXTRA_WINDOWS]
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        load_hall(session, config)
        for n in EXTRA_WINDOWS:
            keys[f"agent-w{n}"] = add_device(session, f"agent-w{n}", DeviceKind.AGENT, n)
    engine.dispose()


def _servers(database_url: str, count: int, log_dir: Path) -> Iterator[list[str]]:
    env = {
        "HALL_DEMO": "1",
        "HALL_DATABASE_URL": database_url,
        "HALL_CONFIG": "",
        "HALL_QUEUE_LAST_TICKET_TIME": ANY_HOUR,  # tests run at any hour
    }
    with ProcessGroup(log_dir, env) as group:
        urls = []
        for n in range(count):
            port = free_port()
            proc = group.start(f"server{n}", "server", "--port", str(port))
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/healthz", timeout_s=60, proc=proc)
            urls.append(url)
        yield urls


@pytest.fixture
def pg_hall(pg_server_url: str, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Four server processes over one PostgreSQL database with 40 windows."""
    url = _pg_database(pg_server_url)
    keys = prepare_database(url)
    _add_windows(url, keys)
    for urls in _servers(url, 4, tmp_path / "logs"):
        yield urls, keys


def _client() -> httpx.Client:
    # A fresh connection per request: a reused keep-alive connection the server has just closed would
    # lose a non-idempotent call-next.
    return httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_many_kiosks_and_windows_across_processes(pg_hall: tuple[list[str], dict[str, str]]) -> None:
    urls, keys = pg_hall
    issued: list[dict[str, Any]] = []
    claims: dict[int, list[str]] = {}
    errors: list[str] = []
    issuing_done = threading.Event()
    lock = threading.Lock()

    def kiosk(worker: int) -> None:
        with _client() as client:
            for n in range(worker, TICKETS, 8):
                body = {"item_code": ITEMS[n % len(ITEMS)], "client_ref": str(uuid.uuid4())}
                server = urls[(n // len(ITEMS)) % 4]  # every item is numbered on every process
                r = client.post(f"{server}/api/v1/tickets", json=body, headers=_auth(keys["kiosk-1"]))
                with lock:
                    (issued.append(r.json()) if r.status_code == 201 else errors.append(r.text))

    def window(number: int) -> None:
        headers, mine = _auth(keys[f"agent-w{number}"]), claims.setdefault(number, [])
        idle_after_done = 0
        with _client() as client:
            for n in itertools.count():
                r = client.post(f"{urls[(number + n) % 4]}/api/v1/queue/call-next", headers=headers)
                if r.status_code == 200:
                    ticket_no = r.json()["ticket_no"]
                    mine.append(ticket_no)
                    done = client.post(
                        f"{urls[n % 4]}/api/v1/queue/tickets/{ticket_no}/finish", json={}, headers=headers
                    )
                    if done.status_code != 200:
                        errors.append(done.text)
                elif r.status_code == 204:
                    idle_after_done += issuing_done.is_set()
                    if idle_after_done >= 2:
                        return
                    time.sleep(0.05)
                else:
                    errors.append(r.text)
                    return

    kiosks = [threading.Thread(target=kiosk, args=(w,)) for w in range(8)]
    windows = [threading.Thread(target=window, args=(n,)) for n in [*range(1, 7), *EXTRA_WINDOWS]]
    for t in kiosks + windows:
        t.start()
    for t in kiosks:
        t.join(timeout=120)
    issuing_done.set()
    for t in windows:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in kiosks + windows), "workers did not finish in time"
    assert errors == []
    assert len(issued) == TICKETS
    per_prefix: dict[str, list[int]] = {}
    for t in issued:
        per_prefix.setdefault(t["ticket_no"][0], []).append(int(t["ticket_no"][1:]))
    for prefix, numbers in per_prefix.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"gap or duplicate in {prefix}"
    called = Counter(no for mine in claims.values() for no in mine)
    assert set(called) == {t["ticket_no"] for t in issued}
    assert max(called.values()) == 1, "a ticket was called by two windows"
    assert sum(1 for mine in claims.values() if mine) > 10  # the work really was spread out


def _read_events(url: str, out: queue.Queue[tuple[str, dict[str, Any]]], stop: threading.Event) -> None:
    event = ""
    with (
        httpx.Client(timeout=10) as client,
        client.stream("GET", url + "/api/v1/display/events", params={"snapshot_s": 1}) as r,
    ):
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.put((event, json.loads(line[6:])))


@pytest.mark.e2e
@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_display_sees_a_call_made_on_another_process(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgres":
        database_url, processes = _pg_database(request.getfixturevalue("pg_server_url")), 2
    else:  # the embedded case is one process
        database_url, processes = f"sqlite:///{tmp_path / 'hall.db'}", 1
    keys = prepare_database(database_url)
    for urls in _servers(database_url, processes, tmp_path / "logs"):
        display_url, caller_url = urls[-1], urls[0]
        events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=_read_events, args=(display_url, events, stop), daemon=True)
        reader.start()
        kind, _ = events.get(timeout=20)
        assert kind == "snapshot"
        body = {"item_code": "SJ02", "client_ref": str(uuid.uuid4())}
        r = httpx.post(caller_url + "/api/v1/tickets", json=body, headers=_auth(keys["kiosk-1"]))
        assert r.status_code == 201
        r = httpx.post(caller_url + "/api/v1/queue/call-next", headers=_auth(keys["agent-w6"]))
        assert r.status_code == 200 and r.json()["ticket_no"] == "H001"
        deadline = time.monotonic() + 15
        seen: list[tuple[str, dict[str, Any]]] = []
        while time.monotonic() < deadline:
            kind, data = events.get(timeout=max(deadline - time.monotonic(), 0.1))
            seen.append((kind, data))
            if kind == "call":
                break
        stop.set()
        calls = [d for k, d in seen if k == "call"]
        assert calls and calls[0]["text"] == "请 H001 号到 6 号窗口办理", seen
        snapshots = [d for k, d in seen if k == "snapshot"]
        assert all("waiting" in s for s in snapshots)
        reader.join(timeout=15)
