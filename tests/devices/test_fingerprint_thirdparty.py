"""An independent client of the protocol (PyPI ``pyfingerprint``) drives the simulator over a pty.

If the simulator only spoke our own driver's dialect, these tests would catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.devices.fingerprint.simulator import FingerprintSimulator

pyfingerprint = pytest.importorskip("pyfingerprint.pyfingerprint")

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def sim() -> Iterator[FingerprintSimulator]:
    simulator = FingerprintSimulator(capacity=200)
    simulator.enroll_direct(0, "seeded")
    simulator.start()
    yield simulator
    simulator.stop()


def client(sim: FingerprintSimulator, password: int = 0) -> Any:
    return pyfingerprint.PyFingerprint(sim.slave_path, 57600, 0xFFFFFFFF, password)


def test_password_count_and_parameters(sim: FingerprintSimulator) -> None:
    sensor = client(sim)
    assert sensor.verifyPassword() is True
    assert sensor.getTemplateCount() == 1
    assert sensor.getStorageCapacity() == 200
    assert sensor.getSecurityLevel() == 3
    assert sensor.getTemplateIndex(0)[:2] == [True, False]


def test_enrol_then_search(sim: FingerprintSimulator) -> None:
    sensor = client(sim)
    assert sensor.verifyPassword()
    assert sensor.readImage() is False  # no finger yet
    sim.place_finger("erin")
    assert sensor.readImage() is True
    sensor.convertImage(0x01)
    assert sensor.searchTemplate() == (-1, -1)  # not enrolled yet
    sim.lift_finger()
    assert sensor.readImage() is False
    sim.place_finger("erin")
    assert sensor.readImage() is True
    sensor.convertImage(0x02)
    assert sensor.compareCharacteristics() > 0
    assert sensor.createTemplate() is True
    assert sensor.storeTemplate() == 1  # first free position after the seeded page 0
    assert sim.pages == {0: "seeded", 1: "erin"}
    assert sensor.getTemplateCount() == 2

    assert sensor.readImage() is True
    sensor.convertImage(0x01)
    position, score = sensor.searchTemplate()
    assert position == 1
    assert score > 0


def test_different_fingers_do_not_combine(sim: FingerprintSimulator) -> None:
    sensor = client(sim)
    sim.place_finger("left")
    sensor.readImage()
    sensor.convertImage(0x01)
    sim.place_finger("right")
    sensor.readImage()
    sensor.convertImage(0x02)
    assert sensor.compareCharacteristics() == 0
    assert sensor.createTemplate() is False


def test_delete_and_clear(sim: FingerprintSimulator) -> None:
    sensor = client(sim)
    sim.enroll_direct(3, "x")
    assert sensor.deleteTemplate(0) is True
    assert sensor.getTemplateCount() == 1
    assert sensor.clearDatabase() is True
    assert sensor.getTemplateCount() == 0


def test_wrong_password_is_refused() -> None:
    with FingerprintSimulator(password=0x00C0FFEE) as sim:
        assert client(sim, password=0).verifyPassword() is False
        assert client(sim, password=0x00C0FFEE).verifyPassword() is True
