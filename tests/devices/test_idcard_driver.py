"""Driver against the simulator over a real pty, and against hardware when asked."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError
from kiosk.devices.idcard.codec import PHOTO_SIZE, Status
from kiosk.devices.idcard.driver import IdCardReader
from kiosk.devices.idcard.errors import (
    FrameChecksumError,
    IdCardConnectionError,
    IdCardTimeoutError,
    InvalidIdNumberError,
    NoCardError,
    ReadFailedError,
    SelectFailedError,
)
from kiosk.devices.idcard.identity import is_valid_id_number
from kiosk.devices.idcard.poller import CardPoller
from kiosk.devices.idcard.simulator import IdCardSimulator, load_identities
from tests.conftest import device_url_for

pytestmark = pytest.mark.timeout(20)

DATA = Path(__file__).parent.parent / "data" / "identities.json"
PEOPLE = load_identities(DATA)


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-le").hex(" ").upper()


class Rig:
    """A simulator behind a stable symlink, like a udev /dev/serial/by-id name."""

    def __init__(self, link: Path) -> None:
        self.sim = IdCardSimulator(PEOPLE)
        self.link = link
        self.plug()
        self.reader = IdCardReader(str(link), timeout_s=0.3)

    def plug(self) -> None:
        path = self.sim.replug()
        if self.link.is_symlink():
            self.link.unlink()
        os.symlink(path, self.link)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path / "idcard")
    rig.reader.open()
    yield rig
    rig.reader.close()
    rig.sim.stop()


def test_sam_commands(rig: Rig) -> None:
    assert rig.reader.sam_status() is Status.OK
    rig.reader.reset_sam()
    assert len(rig.reader.read_sam_id()) == 16


def test_find_select_read(rig: Rig) -> None:
    assert rig.reader.find_card() is False
    rig.sim.place(1)
    assert rig.reader.find_card() is True
    rig.reader.select_card()
    identity = rig.reader.read_identity()
    assert identity == PEOPLE[1]
    assert identity.photo_wlt == bytes(PHOTO_SIZE)


def test_every_test_person_reads_back(rig: Rig) -> None:
    for index, person in enumerate(PEOPLE):
        rig.sim.place(index)
        assert rig.reader.read_identity() == person


def test_read_without_card(rig: Rig) -> None:
    with pytest.raises(NoCardError):
        rig.reader.read_identity()


def test_invalid_check_digit_is_refused(rig: Rig) -> None:
    bad_number = PEOPLE[1].id_number[:-1] + "3"
    rig.sim.place(replace(PEOPLE[1], id_number=bad_number))
    with pytest.raises(InvalidIdNumberError) as info:
        rig.reader.read_identity()
    assert bad_number not in str(info.value)


def test_fault_no_card(rig: Rig) -> None:
    rig.sim.place(0)
    rig.sim.set_fault("no_card", True)
    assert rig.reader.find_card() is False
    with pytest.raises(NoCardError):
        rig.reader.read_identity()
    rig.sim.set_fault("no_card", False)
    assert rig.reader.find_card() is True


def test_fault_select_failed(rig: Rig) -> None:
    rig.sim.place(0)
    rig.sim.set_fault("select_failed", True)
    with pytest.raises(SelectFailedError) as info:
        rig.reader.read_identity()
    assert info.value.status == 0x81


def test_fault_read_failed(rig: Rig) -> None:
    rig.sim.place(0)
    rig.sim.set_fault("read_failed", True)
    with pytest.raises(ReadFailedError):
        rig.reader.read_identity()


def test_fault_bad_checksum(rig: Rig) -> None:
    rig.sim.place(0)
    rig.sim.set_fault("bad_checksum", True)
    with pytest.raises(FrameChecksumError):
        rig.reader.find_card()
    rig.sim.set_fault("bad_checksum", False)
    assert rig.reader.read_identity() == PEOPLE[0]


def test_fault_garbage(rig: Rig) -> None:
    rig.sim.place(2)
    rig.sim.set_fault("garbage", True)
    assert rig.reader.read_identity() == PEOPLE[2]


def test_fault_silent(rig: Rig) -> None:
    rig.sim.set_fault("silent", True)
    started = time.monotonic()
    with pytest.raises(IdCardTimeoutError) as info:
        rig.reader.sam_status()
    assert isinstance(info.value, DeviceTimeoutError)
    assert time.monotonic() - started < 2
    rig.sim.set_fault("silent", False)
    assert rig.reader.sam_status() is Status.OK


def test_unplug_and_reconnect(rig: Rig) -> None:
    rig.sim.place(0)
    rig.sim.unplug()
    with pytest.raises(IdCardConnectionError) as info:
        rig.reader.find_card()
    assert isinstance(info.value, DeviceConnectionError)
    rig.plug()
    rig.reader.reconnect()
    assert rig.reader.read_identity() == PEOPLE[0]


def test_open_missing_port(tmp_path: Path) -> None:
    with pytest.raises(IdCardConnectionError):
        IdCardReader(str(tmp_path / "nothing")).open()


def test_poll_once_debounce(rig: Rig) -> None:
    poller = CardPoller(rig.reader, interval_s=0, misses_to_rearm=2)
    assert poller.poll_once() is None
    rig.sim.place(0)
    assert poller.poll_once() == PEOPLE[0]
    assert [poller.poll_once() for _ in range(3)] == [None] * 3  # card stays: read once
    rig.sim.remove()
    assert poller.poll_once() is None
    rig.sim.place(0)
    assert poller.poll_once() is None  # one miss is not a removal
    rig.sim.remove()
    assert [poller.poll_once() for _ in range(2)] == [None, None]
    rig.sim.place(0)
    assert poller.poll_once() == PEOPLE[0]  # placed again: read again


def test_poll_iterator_reads_once_per_placement(rig: Rig) -> None:
    rig.sim.place(3)
    poller = rig.reader.poll(interval_s=0.02)
    cards = iter(poller)
    assert next(cards) == PEOPLE[3]
    started = time.monotonic()
    threading.Timer(0.2, rig.sim.remove).start()
    threading.Timer(0.4, rig.sim.place, args=(1,)).start()
    assert next(cards) == PEOPLE[1]
    assert time.monotonic() - started >= 0.35
    poller.stop()
    assert list(cards) == []


def test_poller_survives_faults_and_unplug(rig: Rig) -> None:
    errors: list[Exception] = []
    poller = CardPoller(rig.reader, interval_s=0, on_error=errors.append)
    rig.sim.place(0)
    rig.sim.set_fault("select_failed", True)
    assert poller.poll_once() is None
    assert isinstance(poller.last_error, SelectFailedError)
    rig.sim.set_fault("select_failed", False)
    assert poller.poll_once() == PEOPLE[0]  # a failed read is retried
    rig.sim.unplug()
    assert poller.poll_once() is None
    assert isinstance(poller.last_error, IdCardConnectionError)
    assert not rig.reader.is_open
    rig.plug()
    rig.sim.remove()
    assert [poller.poll_once() for _ in range(2)] == [None, None]
    assert poller.last_error is None
    rig.sim.place(2)
    assert poller.poll_once() == PEOPLE[2]
    assert len(errors) == 2


def test_logs_never_show_id_numbers(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    poller = CardPoller(rig.reader, interval_s=0)
    for index in range(len(PEOPLE)):
        rig.sim.place(index)
        rig.reader.read_identity()
        rig.sim.set_fault("bad_checksum", True)
        with pytest.raises(FrameChecksumError):
            rig.reader.read_identity()
        rig.sim.set_fault("bad_checksum", False)
        rig.sim.remove()
        poller.poll_once()
    rig.sim.place(replace(PEOPLE[0], id_number=PEOPLE[0].id_number[:-1] + "1"))
    assert poller.poll_once() is None
    assert any("<<<" in r.getMessage() for r in caplog.records if r.name.startswith("kiosk.devices.idcard"))
    own = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("kiosk.devices.idcard"))
    for person in PEOPLE:
        assert person.id_number not in caplog.text
        assert person.id_number[:-1] not in caplog.text
        assert person.address not in caplog.text
        assert _utf16_hex(person.id_number) not in own
    assert "withheld" in own


@pytest.mark.hardware
def test_hardware_read(request: pytest.FixtureRequest) -> None:
    url = device_url_for(request.config, "idcard")
    if url is None:
        pytest.skip("no --device-url idcard=URL given")
    with IdCardReader(url, timeout_s=2.0) as reader:
        assert reader.sam_status() is Status.OK
        identity = reader.read_identity()  # place a card before running
        assert is_valid_id_number(identity.id_number)
        assert identity.id_number not in repr(identity)
