"""A throw-away PostgreSQL server for tests: initdb + pg_ctl in a temp dir, loopback only, free port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL; yield a SQLAlchemy URL for an empty database ``hall``; stop and remove it after."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb) not found; install the postgresql package")
    # initdb refuses to run as root: run the server as the postgres system user then.
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        pwd.getpwnam(user)
    base = Path(tempfile.mkdtemp(prefix="hall-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        for path in (base, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    try:
        subprocess.run(
            _as_user(
                [str(bindir / "initdb"), "-D", str(data), "-U", "hall", "-A", "trust", "-E", "UTF8"], user
            ),
            check=True,
            capture_output=True,
            env=env,
            timeout=120,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c max_connections=300"
        subprocess.run(
            _as_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(base / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                user,
            ),
            check=True,
            capture_output=True,
            env=env,
            timeout=90,
        )
        subprocess.run(
            _as_user(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hall", "hall"], user
            ),
            check=True,
            capture_output=True,
            env=env,
            timeout=60,
        )
        yield f"postgresql+psycopg://hall@127.0.0.1:{port}/hall"
    finally:
        subprocess.run(
            _as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user),
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)
