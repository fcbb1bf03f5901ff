"""Fixtures of the kiosk tests: real server and kiosk processes, and headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kiosk.harness import ARTIFACTS, KioskRig, prepared_rig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (skipped when the system has no Chromium)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need the system Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[KioskRig]:
    """A running server and a prepared kiosk (each test starts the kiosk with its settings)."""
    setup = prepared_rig(tmp_path)
    try:
        setup.start_server()
        yield setup
    finally:
        setup.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A kiosk-sized page (1920x1080 touch screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
