"""Fixtures of the kiosk tests: real server and kiosk processes, and headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kiosk.harness import ARTIFACTS, KioskRig, prepared_rig


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
