"""The PC/SC driver against a real pcscd with the vpcd reader and the project's virtual card."""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from kiosk.devices.errors import DeviceConnectionError
from kiosk.devices.pcsc import (
    MIFARE_1K_ATR,
    CardCommandError,
    CardRead,
    CardWatcher,
    ContactlessReader,
    NoCardError,
    PcscUnavailableError,
    ReaderNotFoundError,
    VirtualCard,
)
from kiosk.devices.pcsc.cli import register
from tests.conftest import device_url_for
from tests.devices.pcscd_harness import (
    PcscdEnv,
    pcscd_fixture,  # noqa: F401 - registers the "pcscd" fixture
    virtual_card_fixture,  # noqa: F401 - registers the "virtual_card" fixture
    vpcd_base_port,
    vpcd_friendly_name,
    wait_for_card,
)

UID_A = "04A1B2C3D4E5F6"
UID_B = "11223344"
EVENT_TIMEOUT_S = 5.0

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def reader(pcscd: PcscdEnv) -> ContactlessReader:
    return ContactlessReader(reader_name=pcscd.reader_name)


def _insert(card: VirtualCard, pcscd: PcscdEnv, uid_hex: str) -> None:
    card.uid = bytes.fromhex(uid_hex)
    card.insert()
    assert wait_for_card(pcscd.reader_name, present=True), "pcscd did not see the card"


def _remove(card: VirtualCard, pcscd: PcscdEnv) -> None:
    card.remove()
    assert wait_for_card(pcscd.reader_name, present=False), "pcscd did not see the card leave"


def test_vpcd_config_parsing() -> None:
    conf = 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x8C7B\nCHANNELID    0x8C7B\n'
    assert vpcd_base_port(conf) == 35963
    assert vpcd_base_port("DEVICENAME /dev/null:35970\n") == 35970
    assert vpcd_friendly_name(conf) == "Virtual PCD"


def test_list_readers_shows_the_virtual_reader(pcscd: PcscdEnv, reader: ContactlessReader) -> None:
    names = reader.list_readers()
    assert "Virtual PCD 00 00" in names
    assert pcscd.reader_name in names


def test_reader_is_found_by_pattern(pcscd: PcscdEnv) -> None:
    card_reader = ContactlessReader(name_pattern=r"^Virtual PCD 00 00$")
    with pytest.raises(NoCardError):
        card_reader.read_uid()
    with pytest.raises(ReaderNotFoundError):
        ContactlessReader(name_pattern=r"^No such reader$").read_uid()


def test_unknown_reader_name(pcscd: PcscdEnv) -> None:
    with pytest.raises(ReaderNotFoundError):
        ContactlessReader(reader_name="No Such Reader 00 00").read_uid()


def test_no_card_gives_no_card_error(reader: ContactlessReader, virtual_card: VirtualCard) -> None:
    with pytest.raises(NoCardError):
        reader.read_uid()


def test_inserted_card_gives_uid_and_atr(
    pcscd: PcscdEnv, reader: ContactlessReader, virtual_card: VirtualCard
) -> None:
    _insert(virtual_card, pcscd, UID_A)
    assert reader.read_uid() == CardRead(uid_hex=UID_A, atr_hex=MIFARE_1K_ATR.hex().upper())
    _remove(virtual_card, pcscd)
    with pytest.raises(NoCardError):
        reader.read_uid()


def test_two_cards_in_turn(pcscd: PcscdEnv, reader: ContactlessReader, virtual_card: VirtualCard) -> None:
    for uid in (UID_A, UID_B, UID_A):
        _insert(virtual_card, pcscd, uid)
        assert reader.read_uid().uid_hex == uid
        _remove(virtual_card, pcscd)


def test_card_refusing_get_uid_gives_command_error(
    pcscd: PcscdEnv, reader: ContactlessReader, virtual_card: VirtualCard
) -> None:
    virtual_card.fault_sw = 0x6A81
    _insert(virtual_card, pcscd, UID_A)
    with pytest.raises(CardCommandError) as info:
        reader.read_uid()
    assert info.value.sw == 0x6A81


@pytest.fixture
def events(reader: ContactlessReader) -> Iterator[queue.Queue[str]]:
    seen: queue.Queue[str] = queue.Queue()
    watcher = CardWatcher(
        reader,
        on_insert=lambda card: seen.put(f"insert {card.uid_hex}"),
        on_remove=lambda: seen.put("remove"),
        poll_s=0.2,
    )
    with watcher:
        yield seen


def _next(events: queue.Queue[str]) -> str:
    return events.get(timeout=EVENT_TIMEOUT_S)


def test_watcher_sees_insert_then_remove(
    pcscd: PcscdEnv, virtual_card: VirtualCard, events: queue.Queue[str]
) -> None:
    _insert(virtual_card, pcscd, UID_A)
    assert _next(events) == f"insert {UID_A}"
    _remove(virtual_card, pcscd)
    assert _next(events) == "remove"


def test_watcher_sees_two_uids_in_turn(
    pcscd: PcscdEnv, virtual_card: VirtualCard, events: queue.Queue[str]
) -> None:
    for uid in (UID_A, UID_B):
        virtual_card.uid = bytes.fromhex(uid)
        virtual_card.insert()
        assert _next(events) == f"insert {uid}"
        virtual_card.remove()
        assert _next(events) == "remove"


def test_watcher_sees_a_quick_swap(
    pcscd: PcscdEnv, virtual_card: VirtualCard, events: queue.Queue[str]
) -> None:
    _insert(virtual_card, pcscd, UID_A)
    assert _next(events) == f"insert {UID_A}"
    virtual_card.remove()
    virtual_card.uid = bytes.fromhex(UID_B)
    virtual_card.insert()
    assert [_next(events), _next(events)] == ["remove", f"insert {UID_B}"]


def test_watcher_reports_a_card_already_there(
    pcscd: PcscdEnv, reader: ContactlessReader, virtual_card: VirtualCard
) -> None:
    _insert(virtual_card, pcscd, UID_B)
    seen: queue.Queue[str] = queue.Queue()
    with CardWatcher(reader, on_insert=lambda card: seen.put(card.uid_hex), on_remove=lambda: None):
        assert _next(seen) == UID_B


def test_no_pcscd_gives_unavailable_error_and_the_watcher_keeps_retrying() -> None:
    # The client library finds pcscd through this variable; point it at nothing.
    code = (
        "import time\n"
        "from kiosk.devices.pcsc import CardWatcher, ContactlessReader, PcscUnavailableError\n"
        "reader = ContactlessReader()\n"
        "try:\n    reader.list_readers()\n"
        "except PcscUnavailableError:\n    print('unavailable')\n"
        "watcher = CardWatcher(reader, on_insert=print, on_remove=print, retry_s=0.1)\n"
        "watcher.start(); time.sleep(0.5); watcher.stop()\n"
        "print('stopped')\n"
    )
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.split() == ["unavailable", "stopped"]
    assert issubclass(PcscUnavailableError, DeviceConnectionError)


# -- command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hall")
    kinds = parser.add_subparsers(dest="kind", required=True)
    sim = kinds.add_parser("sim").add_subparsers(dest="device", required=True)
    device = kinds.add_parser("device").add_subparsers(dest="device", required=True)
    register(sim, device)
    return parser


def _device(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = _parser().parse_args(["device", "pcsc", *argv])
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_sim_and_device(pcscd: PcscdEnv, capsys: pytest.CaptureFixture[str]) -> None:
    wait_for_card(pcscd.reader_name, present=False)
    script = (
        "import argparse, sys\n"
        "from kiosk.devices.pcsc.cli import register\n"
        "p = argparse.ArgumentParser()\n"
        "k = p.add_subparsers(dest='k')\n"
        "register(k.add_parser('sim').add_subparsers(), k.add_parser('device').add_subparsers())\n"
        "a = p.parse_args(sys.argv[1:])\n"
        "sys.exit(a.func(a))\n"
    )
    sim = subprocess.Popen(
        [sys.executable, "-c", script, "sim", "pcsc", "--uid", UID_A, "--port", str(pcscd.port), "--removed"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdin is not None and sim.stdout is not None
    try:
        assert sim.stdout.readline().strip() == f"VPCD 127.0.0.1:{pcscd.port}"
        assert _device(["--reader", pcscd.reader_name, "read"], capsys)[0] == 1

        sim.stdin.write("insert\n")
        sim.stdin.flush()
        assert sim.stdout.readline().strip() == f"OK inserted {UID_A}"
        assert wait_for_card(pcscd.reader_name, present=True)
        code_out = _device(["--reader", pcscd.reader_name, "read"], capsys)
        assert code_out == (0, f"UID {UID_A} ATR {MIFARE_1K_ATR.hex().upper()}\n")

        sim.stdin.write(f"uid {UID_B}\nfault sw 6A81\nbogus\n")
        sim.stdin.flush()
        assert sim.stdout.readline().strip() == f"OK uid {UID_B}"
        assert sim.stdout.readline().strip() == "OK fault sw 6A81"
        assert sim.stdout.readline().startswith("ERR")
        # The swap may not have reached pcscd yet: the old card can still look present.
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while (code_read := _device(["--reader", pcscd.reader_name, "read"], capsys)[0]) == 1:
            assert time.monotonic() < deadline, "the swapped card never showed up"
            time.sleep(0.1)
        assert code_read == 3

        sim.stdin.write("fault off\nremove\nquit\n")
        sim.stdin.flush()
        assert [sim.stdout.readline().strip() for _ in range(3)] == ["OK fault off", "OK removed", "OK bye"]
        assert sim.wait(timeout=10) == 0
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait(timeout=5)
    assert wait_for_card(pcscd.reader_name, present=False)
    code_list, out = _device(["list"], capsys)
    assert code_list == 0
    assert pcscd.reader_name in out.splitlines()


def test_cli_watch_with_time_limit(
    pcscd: PcscdEnv, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    _insert(virtual_card, pcscd, UID_B)
    code, out = _device(["--reader", pcscd.reader_name, "watch", "--seconds", "1.5"], capsys)
    assert code == 0
    assert out.splitlines()[0] == f"INSERT UID {UID_B} ATR {MIFARE_1K_ATR.hex().upper()}"


# -- real hardware ---------------------------------------------------------------------------


@pytest.mark.hardware
def test_real_reader_reads_a_card(request: pytest.FixtureRequest) -> None:
    reader_name = device_url_for(request.config, "pcsc")
    if reader_name is None:
        pytest.skip("give --device-url pcsc=READER NAME and put a card on the reader")
    card_reader = ContactlessReader(reader_name=reader_name)
    assert reader_name in card_reader.list_readers()
    card = card_reader.read_uid()
    print(f"card on {reader_name!r}: UID {card.uid_hex} ATR {card.atr_hex}")
    assert len(card.uid_hex) >= 8
    assert card.atr_hex.startswith("3B")
