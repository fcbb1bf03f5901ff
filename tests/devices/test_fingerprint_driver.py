"""The fingerprint driver against the simulator over a real pty (and a real module when given)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from kiosk.devices.errors import DeviceConnectionError, DeviceProtocolError, DeviceTimeoutError
from kiosk.devices.fingerprint import codec
from kiosk.devices.fingerprint.driver import EnrollStep, FingerprintReader
from kiosk.devices.fingerprint.errors import (
    ChecksumError,
    EnrollMismatchError,
    FingerNotFoundError,
    FingerNotLiftedError,
    FingerprintConnectionError,
    FingerprintTimeoutError,
    LibraryFullError,
    NoFingerError,
    PageOutOfRangeError,
    PoorImageError,
    WrongPasswordError,
)
from kiosk.devices.fingerprint.simulator import FingerprintSimulator
from tests.conftest import device_url_for

pytestmark = pytest.mark.timeout(20)


def make_reader(url: str, password: int = 0) -> FingerprintReader:
    return FingerprintReader(url, password=password, timeout_s=0.3, open_retry_s=0.3, poll_interval_s=0.02)


@pytest.fixture
def sim() -> Iterator[FingerprintSimulator]:
    simulator = FingerprintSimulator(capacity=200)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def reader(sim: FingerprintSimulator) -> Iterator[FingerprintReader]:
    with make_reader(sim.slave_path) as opened:
        yield opened


class Person:
    """Plays the person at the sensor during an enrolment, driven by the reader's prompts."""

    def __init__(self, sim: FingerprintSimulator, first: str, second: str, lifts: bool = True) -> None:
        self.sim, self.first, self.second, self.lifts = sim, first, second, lifts
        self.steps: list[EnrollStep] = []

    def __call__(self, step: EnrollStep) -> None:
        self.steps.append(step)
        if step is EnrollStep.PRESS_FIRST:
            self.sim.place_finger(self.first)
        elif step is EnrollStep.LIFT and self.lifts:
            self.sim.lift_finger()
        elif step is EnrollStep.PRESS_SECOND:
            self.sim.place_finger(self.second)


def check_info(reader: FingerprintReader) -> None:
    """Body shared by the simulator and the hardware test: read-only commands agree with each other."""
    reader.verify_password()
    params = reader.read_system_parameters()
    assert params.capacity > 0
    assert params.baud % 9600 == 0
    assert params.packet_size_bytes in (32, 64, 128, 256)
    used = reader.read_index_table()
    assert reader.template_count() == len(used)
    assert all(0 <= page < params.capacity for page in used)


# -- commands ------------------------------------------------------------------------------------


def test_info_commands(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(0, "a")
    sim.enroll_direct(9, "b")
    sim.enroll_direct(199, "c")
    check_info(reader)
    params = reader.read_system_parameters()
    assert (params.capacity, params.address, params.baud) == (200, 0xFFFFFFFF, 57600)
    assert reader.template_count() == 3
    assert reader.read_index_table() == {0, 9, 199}


def test_identify_finds_the_enrolled_page(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(7, "alice")
    sim.place_finger("alice")
    match = reader.identify(wait_s=1)
    assert match.page == 7
    assert match.score > 0


def test_identify_waits_for_the_finger(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(2, "bob")
    timer = threading.Timer(0.2, sim.place_finger, args=("bob",))
    timer.start()
    try:
        assert reader.identify(wait_s=3).page == 2
    finally:
        timer.cancel()


def test_identify_unknown_finger(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(2, "bob")
    sim.place_finger("mallory")
    with pytest.raises(FingerNotFoundError):
        reader.identify(wait_s=1)


def test_identify_without_finger_gives_up_at_wait_s(reader: FingerprintReader) -> None:
    started = time.monotonic()
    with pytest.raises(NoFingerError):
        reader.identify(wait_s=0.2)
    assert time.monotonic() - started < 1.5


def test_enroll_at_a_page_then_identify(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    person = Person(sim, "carol", "carol")
    assert reader.enroll(5, wait_s=3, on_step=person) == 5
    assert person.steps == list(EnrollStep)
    assert sim.pages == {5: "carol"}
    assert reader.identify(wait_s=1).page == 5


def test_enroll_takes_the_first_free_page(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(0, "a")
    sim.enroll_direct(1, "b")
    sim.enroll_direct(3, "d")
    assert reader.enroll(wait_s=3, on_step=Person(sim, "c", "c")) == 2
    assert reader.template_count() == 4


def test_enroll_with_two_different_fingers(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    with pytest.raises(EnrollMismatchError):
        reader.enroll(0, wait_s=3, on_step=Person(sim, "left", "right"))
    assert sim.pages == {}


def test_enroll_needs_a_lift_between_presses(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    with pytest.raises(FingerNotLiftedError):
        reader.enroll(0, wait_s=0.3, on_step=Person(sim, "x", "x", lifts=False))


def test_enroll_outside_the_library(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    with pytest.raises(PageOutOfRangeError):
        reader.enroll(200, wait_s=3, on_step=Person(sim, "x", "x"))


def test_enroll_into_a_full_library() -> None:
    with FingerprintSimulator(capacity=2) as sim:
        sim.enroll_direct(0, "a")
        sim.enroll_direct(1, "b")
        with make_reader(sim.slave_path) as reader, pytest.raises(LibraryFullError):
            reader.enroll(wait_s=1)


def test_delete_and_empty(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    for page in range(4):
        sim.enroll_direct(page, f"f{page}")
    reader.delete(1)
    assert reader.read_index_table() == {0, 2, 3}
    reader.empty()
    assert reader.template_count() == 0


def test_password_protected_module() -> None:
    with FingerprintSimulator(password=0x0BADC0DE) as sim:
        with make_reader(sim.slave_path, password=0x0BADC0DE) as reader:
            check_info(reader)
        wrong = make_reader(sim.slave_path, password=0)
        with pytest.raises(WrongPasswordError):
            wrong.open()
        assert not wrong.is_open


def test_module_refuses_commands_before_the_password() -> None:
    with FingerprintSimulator(password=0x1234) as sim, serial.Serial(sim.slave_path, timeout=1) as port:
        port.write(codec.template_num())
        (packet,) = codec.PacketDecoder().feed(port.read(12))
        assert codec.parse_ack(packet).code == 0x21


def test_wire_log_at_debug(reader: FingerprintReader, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="kiosk.devices.fingerprint.driver"):
        reader.template_count()
    assert ">>> EF 01 FF FF FF FF 01 00 03 1D 00 21" in caplog.text
    assert "<<< EF 01" in caplog.text


# -- fault switches ------------------------------------------------------------------------------


def test_fault_no_finger(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(0, "a")
    sim.place_finger("a")
    sim.set_fault("no_finger", True)
    with pytest.raises(NoFingerError):
        reader.identify(wait_s=0.2)
    sim.set_fault("no_finger", False)
    assert reader.identify(wait_s=0.2).page == 0


@pytest.mark.parametrize("code", [0x06, 0x07])
def test_fault_poor_image(sim: FingerprintSimulator, reader: FingerprintReader, code: int) -> None:
    sim.place_finger("a")
    sim.poor_image_code = code
    sim.set_fault("poor_image", True)
    with pytest.raises(PoorImageError) as info:
        reader.identify(wait_s=0.2)
    assert info.value.code == code


def test_fault_not_found(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(0, "a")
    sim.place_finger("a")
    sim.set_fault("not_found", True)
    with pytest.raises(FingerNotFoundError):
        reader.identify(wait_s=0.2)


def test_fault_bad_checksum(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.set_fault("bad_checksum", True)
    started = time.monotonic()
    with pytest.raises(ChecksumError) as info:
        reader.template_count()
    assert isinstance(info.value, DeviceProtocolError)
    assert time.monotonic() - started < 0.3  # reported at once, not after the timeout
    sim.set_fault("bad_checksum", False)
    assert reader.template_count() == 0


def test_fault_silent(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.set_fault("silent", True)
    started = time.monotonic()
    with pytest.raises(FingerprintTimeoutError) as info:
        reader.template_count()
    assert isinstance(info.value, DeviceTimeoutError)
    assert 0.25 < time.monotonic() - started < 1.0
    sim.set_fault("silent", False)
    assert reader.template_count() == 0


def test_open_retries_until_the_module_answers(sim: FingerprintSimulator) -> None:
    sim.set_fault("silent", True)
    timer = threading.Timer(0.2, sim.set_fault, args=("silent", False))
    timer.start()
    reader = FingerprintReader(sim.slave_path, timeout_s=0.15, open_retry_s=2, poll_interval_s=0.02)
    try:
        reader.open()
        assert reader.template_count() == 0
    finally:
        timer.cancel()
        reader.close()


def test_open_gives_up_when_nothing_answers(sim: FingerprintSimulator) -> None:
    sim.set_fault("silent", True)
    reader = make_reader(sim.slave_path)
    with pytest.raises(FingerprintTimeoutError):
        reader.open()
    assert not reader.is_open


def test_open_a_missing_port() -> None:
    with pytest.raises(FingerprintConnectionError):
        make_reader("/dev/does-not-exist-fingerprint").open()


def test_unplug_then_reconnect(sim: FingerprintSimulator, reader: FingerprintReader) -> None:
    sim.enroll_direct(4, "dave")
    sim.unplug()
    with pytest.raises(DeviceConnectionError):
        reader.template_count()
    with pytest.raises(FingerprintConnectionError):
        reader.template_count()  # stays failed while unplugged
    reader.url = sim.replug()
    reader.reconnect()
    assert reader.template_count() == 1
    sim.place_finger("dave")
    assert reader.identify(wait_s=1).page == 4


# -- real hardware -------------------------------------------------------------------------------


@pytest.mark.hardware
def test_real_module_info(request: pytest.FixtureRequest) -> None:
    url = device_url_for(request.config, "fingerprint")
    if url is None:
        pytest.skip("no --device-url fingerprint=URL given")
    with FingerprintReader(url) as reader:
        check_info(reader)
