"""``hall demo``: the whole hall on one machine, on SQLite and simulated devices."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlmodel import Session, select

from hall.processes import ProcessGroup, wait_http
from server.db import make_engine, session_scope
from server.migrate import upgrade
from server.models.devices import DeviceKind
from server.models.users import Role, User
from server.services.admin import add_device, create_user
from server.services.hall_config import load_hall, read_hall_file

log = logging.getLogger(__name__)

DEMO_HALL = Path(__file__).resolve().parent.parent / "server" / "halls" / "demo.toml"
DEMO_USERS = {"supervisor": ("demo-supervisor", Role.SUPERVISOR), "admin": ("demo-admin-pass", Role.ADMIN)}


def prepare(var_dir: Path, windows: int) -> tuple[str, dict[str, str]]:
    """Migrate the demo database, load the demo hall, issue device keys; return the URL and keys."""
    var_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{(var_dir / 'hall.db').resolve()}"
    upgrade(database_url)
    engine = make_engine(database_url)
    keys: dict[str, str] = {}
    with session_scope(engine) as session:
        load_hall(session, read_hall_file(DEMO_HALL))
        for n in range(1, windows + 1):
            keys[f"agent-w{n}"] = add_device(session, f"agent-w{n}", DeviceKind.AGENT, n)
        keys["kiosk-1"] = add_device(session, "kiosk-1", DeviceKind.KIOSK, None)
        for username, (password, role) in DEMO_USERS.items():
            if not _user_exists(session, username):
                create_user(session, username, password, role)
    engine.dispose()
    return database_url, keys


def _user_exists(session: Session, username: str) -> bool:
    return session.exec(select(User).where(User.username == username)).first() is not None


def write_agent_config(var_dir: Path, window: int, key: str, server_url: str, http_port: int) -> Path:
    """One window's agent TOML with simulated devices."""
    path = var_dir / f"agent-w{window}.toml"
    path.write_text(
        "\n".join(
            [
                f"window = {window}",
                f'server_url = "{server_url}"',
                f'device_key = "{key}"',
                f'data_dir = "{(var_dir / "agents").resolve()}"',
                'rating_keypad_url = "sim"',
                'caller_keypad_url = "sim"',
                'fingerprint_url = "sim"',
                'printer_url = "sim"',
                "rating_timeout_s = 8",
                "heartbeat_s = 5",
                f"http_port = {http_port}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def write_kiosk_config(var_dir: Path, key: str, server_url: str, http_port: int) -> Path:
    """The kiosk's TOML with a simulated printer and ID-card reader."""
    path = var_dir / "kiosk.toml"
    path.write_text(
        "\n".join(
            [
                f'server_url = "{server_url}"',
                f'device_key = "{key}"',
                f'data_dir = "{(var_dir / "kiosk").resolve()}"',
                'printer_url = "sim"',
                'idcard_url = "sim"',
                f"http_port = {http_port}",
                "ticket_screen_s = 8",
                "",
            ]
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def run_demo(var_dir: Path, duration_s: float = 0, port: int = 8600, windows: int = 6) -> int:
    """Run server, agents and the citizen stream until Ctrl-C or ``duration_s``."""
    database_url, keys = prepare(var_dir, windows)
    server_url = f"http://127.0.0.1:{port}"
    # The demo runs at any hour: citizens may take tickets until midnight.
    env = {
        "HALL_DEMO": "1",
        "HALL_DATABASE_URL": database_url,
        "HALL_PORT": str(port),
        "HALL_QUEUE_LAST_TICKET_TIME": "23:59",
    }
    with ProcessGroup(var_dir / "logs", env) as group:
        server = group.start("server", "server")
        wait_http(f"{server_url}/healthz", 60, server)
        agents = []
        for n in range(1, windows + 1):
            http_port = port + 10 + n
            config = write_agent_config(var_dir, n, keys[f"agent-w{n}"], server_url, http_port)
            agents.append((group.start(f"agent-w{n}", "agent", "--config", str(config)), http_port))
        agent_urls = [f"http://127.0.0.1:{http_port}" for _, http_port in agents]
        for (agent, _), url in zip(agents, agent_urls, strict=True):
            wait_http(f"{url}/state", 30, agent)
        kiosk_port = port + 100
        kiosk_config = write_kiosk_config(var_dir, keys["kiosk-1"], server_url, kiosk_port)
        kiosk = group.start("kiosk", "kiosk", "--config", str(kiosk_config))
        kiosk_url = f"http://127.0.0.1:{kiosk_port}"
        wait_http(f"{kiosk_url}/healthz", 30, kiosk)
        citizen_args = [arg for url in agent_urls for arg in ("--agent", url)] + ["--kiosk", kiosk_url]
        group.start("citizens", "sim", "citizens", *citizen_args)
        _print_urls(server_url, agent_urls, kiosk_url, var_dir)
        deadline = time.monotonic() + duration_s if duration_s else None
        try:
            while deadline is None or time.monotonic() < deadline:
                dead = group.check_alive()
                if dead:
                    log.error("stopped unexpectedly: %s (see %s)", ", ".join(dead), var_dir / "logs")
                    return 1
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0


def _print_urls(server_url: str, agent_urls: list[str], kiosk_url: str, var_dir: Path) -> None:
    user, (password, _) = "supervisor", DEMO_USERS["supervisor"]
    lines = [
        "",
        "示范大厅已启动 (demo hall running) — Ctrl-C to stop",
        f"  supervisor pages:    {server_url}/web/   (log in as {user} / {password})",
        f"  kiosk screen:        {kiosk_url}/",
        f"  hall display:        {server_url}/display",
        f"  API docs:            {server_url}/docs",
        f"  supervisor log-in:   {user} / {password}",
        f"  API token:           curl -s -d 'username={user}&password={password}' "
        f"{server_url}/api/v1/auth/token",
        f"  rating summary:      {server_url}/api/v1/ratings/summary?group_by=staff",
        f"  punches:             {server_url}/api/v1/attendance/punches",
        f"  devices:             {server_url}/api/v1/devices",
        *[f"  window {i} display:    {u}/   console: {u}/console" for i, u in enumerate(agent_urls, 1)],
        f"  logs:                {var_dir / 'logs'}",
        "",
    ]
    print("\n".join(lines), flush=True)
