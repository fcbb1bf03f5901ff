"""SerialEvaluator against EvaluatorSimulator over a real pty, and against hardware when given."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from kiosk.devices.evaluator import (
    Command,
    CommandFrame,
    EvaluatorConnectionError,
    EvaluatorProtocolError,
    EvaluatorTimeoutError,
    ReceiptFrame,
    SerialEvaluator,
)
from kiosk.devices.evaluator.simulator import REPEAT_INTERVAL_S, EvaluatorSimulator
from kiosk.devices.keypad import Key
from tests.conftest import device_url_for

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def sim() -> Iterator[EvaluatorSimulator]:
    with EvaluatorSimulator() as simulator:
        yield simulator


@pytest.fixture
def evaluator(sim: EvaluatorSimulator) -> Iterator[SerialEvaluator]:
    with SerialEvaluator(sim.slave_path, timeout_s=0.3, retries=1) as driver:
        yield driver


def wait_until(condition: object, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def test_arm_disarm_ping(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    assert evaluator.ping() is False
    evaluator.arm()
    assert sim.armed and evaluator.armed
    assert evaluator.ping() is True
    evaluator.disarm()
    assert not sim.armed
    assert evaluator.ping() is False
    commands = [f.command for f in sim.received if isinstance(f, CommandFrame)]
    assert commands == [Command.PING, Command.ARM, Command.PING, Command.DISARM, Command.PING]


def test_press_after_arm_once_only(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    assert not sim.press(1)  # keys dark: a press before the service ends is not a rating
    evaluator.arm()
    assert sim.press(2)
    assert not sim.press(3)  # one service, one rating
    press = evaluator.read_press(timeout_s=2)
    assert press is not None
    assert (press.key, press.code) == (Key.RATE_2, 2)
    assert not evaluator.armed
    assert evaluator.read_press(timeout_s=REPEAT_INTERVAL_S * 2) is None
    assert wait_until(lambda: any(isinstance(f, ReceiptFrame) for f in sim.received))
    assert evaluator.duplicate_count == 0


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_level(sim: EvaluatorSimulator, evaluator: SerialEvaluator, level: int) -> None:
    evaluator.arm()
    sim.press(level)
    press = evaluator.read_press(timeout_s=2)
    assert press is not None and press.key is Key.rating(level)


def test_repeated_event_is_dropped(sim: EvaluatorSimulator) -> None:
    # The first copies are sent while nobody reads: they stay in the pty and arrive together.
    with SerialEvaluator(sim.slave_path, timeout_s=0.3) as evaluator:
        evaluator.arm()
        sim.press(4)
        time.sleep(REPEAT_INTERVAL_S * 1.5)  # the simulator repeats the unreceipted event
        first = evaluator.read_press(timeout_s=2)
        second = evaluator.read_press(timeout_s=REPEAT_INTERVAL_S * 2)
    assert first is not None and first.key is Key.RATE_4
    assert second is None
    assert evaluator.duplicate_count >= 1


def test_garbage_fault_is_survived(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    sim.garbage = True
    evaluator.arm()
    sim.press(5)
    press = evaluator.read_press(timeout_s=2)
    assert press is not None and press.key is Key.RATE_5
    assert evaluator.protocol_error_count >= 2


def test_bad_checksum_fault(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    evaluator.arm()
    sim.bad_checksum = True
    with pytest.raises(EvaluatorProtocolError):
        evaluator.ping()
    assert evaluator.protocol_error_count >= 2  # one bad answer per attempt
    sim.bad_checksum = False
    assert evaluator.ping() is True


def test_bad_checksum_then_repeat_delivers(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    evaluator.arm()
    sim.bad_checksum = True
    assert sim.press(3)
    assert evaluator.read_press(timeout_s=0.1) is None
    sim.bad_checksum = False  # the next repeat of the event is good
    press = evaluator.read_press(timeout_s=2)
    assert press is not None and press.key is Key.RATE_3


def test_silent_fault_times_out(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    sim.silent = True
    started = time.monotonic()
    with pytest.raises(EvaluatorTimeoutError):
        evaluator.arm()
    assert time.monotonic() - started < 2
    sim.silent = False
    evaluator.arm()
    assert sim.armed


def test_unplug_and_replug(sim: EvaluatorSimulator) -> None:
    evaluator = SerialEvaluator(sim.slave_path, timeout_s=0.3, retries=0)
    evaluator.open()
    evaluator.arm()
    sim.unplug()
    with pytest.raises(EvaluatorConnectionError):
        evaluator.ping()
    evaluator.close()
    with pytest.raises(EvaluatorConnectionError):
        evaluator.open()
    new_path = sim.replug()
    with SerialEvaluator(new_path, timeout_s=0.3) as replugged:
        assert replugged.ping() is False  # a power cycle leaves the keys dark


def test_presses_async_iterator(sim: EvaluatorSimulator, evaluator: SerialEvaluator) -> None:
    async def body() -> Key:
        await asyncio.to_thread(evaluator.arm)
        sim.press(1)
        iterator = evaluator.presses(poll_s=0.1)
        press = await asyncio.wait_for(anext(iterator), 3)
        await iterator.aclose()  # type: ignore[attr-defined]
        return press.key

    assert asyncio.run(body()) is Key.RATE_1


@pytest.mark.hardware
@pytest.mark.timeout(60)
def test_hardware_evaluator(request: pytest.FixtureRequest) -> None:
    url = device_url_for(request.config, "evaluator")
    if url is None:
        pytest.skip("give --device-url evaluator=/dev/hall/evaluator to run")
    with SerialEvaluator(url) as evaluator:
        evaluator.disarm()
        assert evaluator.ping() is False
        evaluator.arm()
        assert evaluator.ping() is True
        print("请在 30 秒内按评价器上的任意一个评价键")
        press = evaluator.read_press(timeout_s=30)
        assert press is not None and press.key.rating_level is not None
        assert evaluator.ping() is False
