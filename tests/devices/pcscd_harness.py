"""Session fixture that provides a pcscd with the vpcd virtual reader, started here if needed.

Use it by importing ``pcscd_fixture`` (fixture name ``pcscd``) and ``virtual_card_fixture``
(fixture name ``virtual_card``) into a test module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.devices.pcsc import MIFARE_1K_ATR, PcscUnavailableError, VirtualCard, scard_io

VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
ENV_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pcscd-test-env.sh"
RUN_DIR = Path("/run/pcscd")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
INSTALL_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class PcscdEnv:
    """Where the virtual card plugs in and which reader shows it."""

    reader_name: str
    host: str
    port: int
    started_here: bool


def vpcd_base_port(conf_text: str) -> int:
    """The first vpcd port from a reader.conf entry (``CHANNELID`` or ``DEVICENAME ...:0xPORT``)."""
    match = re.search(r"^\s*CHANNELID\s+(0x[0-9A-Fa-f]+|\d+)", conf_text, re.MULTILINE)
    if match is None:
        match = re.search(r"^\s*DEVICENAME\s+\S*:(0x[0-9A-Fa-f]+|\d+)", conf_text, re.MULTILINE)
    if match is None:
        raise ValueError("no CHANNELID or DEVICENAME port in vpcd reader config")
    return int(match.group(1), 0)


def vpcd_friendly_name(conf_text: str) -> str:
    """The FRIENDLYNAME of the vpcd reader ("Virtual PCD" in the Debian package)."""
    match = re.search(r'^\s*FRIENDLYNAME\s+"?([^"\n]+)"?', conf_text, re.MULTILINE)
    return match.group(1).strip() if match else "Virtual PCD"


def _readers_or_none() -> list[str] | None:
    """Reader names from a running pcscd, or None when no pcscd answers."""
    try:
        with scard_io.context() as hcontext:
            return scard_io.list_readers(hcontext)
    except PcscUnavailableError:
        return None


def _ensure_installed() -> str | None:
    """Install pcscd + vpcd when missing and possible; the reason to skip otherwise."""
    if shutil.which("pcscd") and VPCD_DRIVER.exists() and VPCD_CONF.exists():
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "pcscd/vsmartcard-vpcd not installed and not root: run scripts/pcscd-test-env.sh as root"
    try:
        subprocess.run(["sh", str(ENV_SCRIPT)], check=True, timeout=INSTALL_TIMEOUT_S)
    except (subprocess.SubprocessError, OSError) as err:
        return f"could not install pcscd/vsmartcard-vpcd: {err}"
    return None


def _wait_for_reader(reader_name: str, proc: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if reader_name in (_readers_or_none() or []):
            return True
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session", name="pcscd")
def pcscd_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdEnv]:
    """A pcscd showing the vpcd reader: the running one, or one started for the session."""
    reason = _ensure_installed()
    if reason is not None:
        print(f"skipping PC/SC tests: {reason}")
        pytest.skip(reason)
    conf_text = VPCD_CONF.read_text()
    env = PcscdEnv(
        reader_name=f"{vpcd_friendly_name(conf_text)} 00 00",
        host="127.0.0.1",
        port=vpcd_base_port(conf_text),
        started_here=False,
    )
    readers = _readers_or_none()
    if readers is not None:
        if env.reader_name not in readers:
            reason = f"a pcscd is running without the {env.reader_name!r} reader (readers: {readers})"
            print(f"skipping PC/SC tests: {reason}")
            pytest.skip(reason)
        yield env
        return
    try:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        # No pcscd answered, so a socket file left here is stale and would stop pcscd starting.
        (RUN_DIR / "pcscd.comm").unlink(missing_ok=True)
    except OSError as err:
        pytest.skip(f"cannot create /run/pcscd for pcscd: {err}")
    log_path = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
    with log_path.open("wb") as log_file:
        # --foreground keeps it our child; without --auto-exit it stays up between tests.
        proc = subprocess.Popen(
            ["pcscd", "--foreground", "--info"], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        if not _wait_for_reader(env.reader_name, proc):
            pytest.fail(f"pcscd did not show {env.reader_name!r} in {START_TIMEOUT_S} s; see {log_path}")
        yield PcscdEnv(env.reader_name, env.host, env.port, started_here=True)
    finally:
        _stop(proc)


def wait_for_card(reader_name: str, present: bool, timeout_s: float = 5.0) -> bool:
    """Block until pcscd reports a card on ``reader_name`` (or none); False on timeout."""
    deadline = time.monotonic() + timeout_s
    with scard_io.context() as hcontext:
        state = scard_io.STATE_UNAWARE
        while True:
            remaining_s = deadline - time.monotonic()
            _code, state = scard_io.wait_status_change(hcontext, reader_name, state, max(remaining_s, 0))
            state &= ~scard_io.STATE_CHANGED
            if bool(state & scard_io.STATE_PRESENT) == present and state != scard_io.STATE_UNAWARE:
                return True
            if remaining_s <= 0:
                return False


@pytest.fixture(name="virtual_card")
def virtual_card_fixture(pcscd: PcscdEnv) -> Iterator[VirtualCard]:
    """A virtual card (not yet inserted) on the vpcd reader; taken off and settled afterwards."""
    card = VirtualCard(
        uid=bytes.fromhex("04A1B2C3D4E5F6"), atr=MIFARE_1K_ATR, host=pcscd.host, port=pcscd.port
    )
    wait_for_card(pcscd.reader_name, present=False)
    yield card
    card.remove()
    wait_for_card(pcscd.reader_name, present=False)
