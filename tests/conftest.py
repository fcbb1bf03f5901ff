"""Shared pytest options and fixtures."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device-url",
        action="append",
        default=[],
        metavar="KIND=URL",
        help="run the hardware tests of KIND (fingerprint, idcard, printer, evaluator) against URL",
    )


def device_url_for(config: pytest.Config, kind: str) -> str | None:
    """The URL given with --device-url KIND=URL, or None."""
    for item in config.getoption("--device-url"):
        name, _, url = item.partition("=")
        if name == kind and url:
            return url
    return None


@pytest.fixture
def device_urls(request: pytest.FixtureRequest) -> dict[str, str]:
    """All --device-url KIND=URL pairs given on the command line."""
    pairs = (item.partition("=") for item in request.config.getoption("--device-url"))
    return {name: url for name, _, url in pairs if url}


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the session's throw-away PostgreSQL server (started on first use)."""
    from tests.pg_harness import postgres_server

    with postgres_server() as url:
        yield url


_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: every database test runs on both."""
    return str(request.param)


def new_database(
    request: pytest.FixtureRequest, backend: str, path: Path, template: str | None = None
) -> str:
    """A fresh database, empty or a copy of ``template`` (SQLite file path or PostgreSQL database name)."""
    if backend == "sqlite":
        if template is not None:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    import sqlalchemy as sa

    server_url: str = request.getfixturevalue("pg_server_url")
    name = f"hall_t{next(_db_counter)}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """An empty database on SQLite (a temp file) or on the session's PostgreSQL server."""
    return new_database(request, backend, tmp_path / "hall.db")


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless system Chromium driven by Playwright, one per test module; skipped without Chromium.

    Playwright's sync API runs an event loop in the test thread while it is open: closing it with
    each module keeps it from colliding with a second instance or with later tests' asyncio.run().
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need the system Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
