"""DeviceSupervisor: a device that fails N times, degraded errors, and real simulators unplugged."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest

from kiosk.devices.errors import DeviceConnectionError, DeviceError, DeviceProtocolError
from kiosk.devices.evaluator import SerialEvaluator
from kiosk.devices.evaluator.simulator import EvaluatorSimulator
from kiosk.devices.keypad import Key, KeyMap, KeypadReader, KeypadUnavailableError, StreamSource
from kiosk.devices.keypad.simulator import KeypadSimulator
from kiosk.devices.supervisor import DeviceState, DeviceSupervisor

pytestmark = pytest.mark.timeout(20)

FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "check_interval_s": 0.02}


class FlakyDevice:
    """The supervisor's unit under test: a device that fails to open N times, then works."""

    def __init__(self, open_failures: int) -> None:
        self.open_failures = open_failures
        self.open_calls = 0
        self.check_error: DeviceError | None = None
        self.closed = 0

    def open(self) -> FlakyDevice:
        self.open_calls += 1
        if self.open_calls <= self.open_failures:
            raise DeviceConnectionError(f"port missing (try {self.open_calls})")
        return self

    def check(self, device: FlakyDevice) -> None:
        if self.check_error is not None:
            raise self.check_error

    def close(self, device: FlakyDevice) -> None:
        self.closed += 1


class Recorder:
    def __init__(self) -> None:
        self.states: list[DeviceState] = []
        self.calls: list[tuple[str, str, DeviceState, str]] = []

    def __call__(self, name: str, kind: str, state: DeviceState, reason: str) -> None:
        self.calls.append((name, kind, state, reason))
        self.states.append(state)

    async def wait_for(self, count: int, timeout_s: float = 5) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.states) < count:
            assert time.monotonic() < deadline, f"states so far: {self.states}"
            await asyncio.sleep(0.01)


async def until(condition: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())  # type: ignore[arg-type]


def test_fails_n_times_then_works(caplog: pytest.LogCaptureFixture) -> None:
    fake = FlakyDevice(open_failures=5)
    seen = Recorder()

    async def body() -> None:
        sup = DeviceSupervisor("w01", "fingerprint", fake.open, fake.check, seen, close_fn=fake.close, **FAST)
        sup.start()
        await seen.wait_for(2)
        assert await asyncio.wait_for(sup.wait_device(), 1) is fake
        await sup.stop()

    with caplog.at_level(logging.INFO, logger="kiosk.devices.supervisor"):
        run(body)
    assert fake.open_calls == 6
    assert seen.states == [DeviceState.UNAVAILABLE, DeviceState.OK]
    assert seen.calls[0][:2] == ("w01", "fingerprint")
    assert "try 1" in seen.calls[0][3]
    # One log line per change, not per retry.
    assert len([r for r in caplog.records if r.name == "kiosk.devices.supervisor"]) == 2


def test_backoff_grows_to_max() -> None:
    fake = FlakyDevice(open_failures=10**6)

    async def body() -> None:
        sup = DeviceSupervisor("w01", "printer", fake.open, backoff_initial_s=0.01, backoff_max_s=0.04)
        sup.start()
        await asyncio.sleep(0.35)
        await sup.stop()
        assert sup.state is DeviceState.UNAVAILABLE

    run(body)
    # 0.01 + 0.02 + 0.04 + 0.04 ... : about 9 tries in 0.35 s, far fewer than without backoff.
    assert 4 <= fake.open_calls <= 14


def test_check_failure_reopens_and_degraded_keeps_open() -> None:
    fake = FlakyDevice(open_failures=0)
    seen = Recorder()

    def classify(err: DeviceError) -> DeviceState:
        return DeviceState.DEGRADED if isinstance(err, DeviceProtocolError) else DeviceState.UNAVAILABLE

    async def body() -> None:
        sup = DeviceSupervisor(
            "kiosk", "printer", fake.open, fake.check, seen, close_fn=fake.close, classify=classify, **FAST
        )
        sup.start()
        await seen.wait_for(1)
        fake.check_error = DeviceProtocolError("paper low")
        await seen.wait_for(2)
        assert sup.device is fake and sup.reason == "paper low"
        opens_while_degraded = fake.open_calls
        fake.check_error = DeviceConnectionError("unplugged")
        await seen.wait_for(3)
        fake.check_error = None
        await seen.wait_for(4)
        assert fake.open_calls > opens_while_degraded
        await sup.stop()

    run(body)
    assert seen.states == [DeviceState.OK, DeviceState.DEGRADED, DeviceState.UNAVAILABLE, DeviceState.OK]
    assert fake.closed >= 2  # closed after the unplug, and by stop()


def test_report_error_from_a_thread() -> None:
    fake = FlakyDevice(open_failures=0)
    seen = Recorder()

    async def body() -> None:
        sup = DeviceSupervisor(
            "w02", "keypad", fake.open, None, seen, check_interval_s=10, backoff_initial_s=0.01
        )
        sup.start()
        await seen.wait_for(1)
        await asyncio.to_thread(sup.report_error, DeviceConnectionError("read failed"))
        await seen.wait_for(3)
        await sup.stop()

    run(body)
    assert seen.states == [DeviceState.OK, DeviceState.UNAVAILABLE, DeviceState.OK]
    assert fake.open_calls == 2


def test_keypad_simulator_unplug_replug() -> None:
    seen = Recorder()
    keys: list[Key] = []

    async def body() -> None:
        with KeypadSimulator(KeyMap.rating()) as sim:

            def open_keypad() -> StreamSource:
                source = StreamSource("127.0.0.1", sim.port)
                source.open()
                return source

            sup = DeviceSupervisor(
                "w03", "keypad", open_keypad, None, seen, close_fn=StreamSource.close, **FAST
            )
            sup.start()

            async def consume() -> None:
                reader = KeypadReader(KeyMap.rating())
                while True:
                    source = await sup.wait_device()
                    try:
                        async for event in source.events():
                            press = reader.feed(event)
                            if press is not None:
                                keys.append(press.key)
                    except KeypadUnavailableError as err:
                        sup.report_error(err)
                        await until(lambda failed=source: sup.device is not failed)

            consumer = asyncio.create_task(consume())
            await seen.wait_for(1)
            await until(
                sim.wait_connected.__call__.__self__.connected.__get__(sim)
                if False
                else lambda: sim.connected
            )
            await asyncio.to_thread(sim.press, Key.RATE_1)
            await until(lambda: keys == [Key.RATE_1])
            await asyncio.to_thread(sim.unplug)
            await seen.wait_for(2)
            await asyncio.sleep(0.1)  # several refused reconnects: still one state change
            sim.replug()
            await seen.wait_for(3)
            await until(lambda: sim.connected)
            await asyncio.to_thread(sim.press, Key.RATE_2)
            await until(lambda: keys == [Key.RATE_1, Key.RATE_2])
            consumer.cancel()
            await sup.stop()

    run(body)
    assert seen.states == [DeviceState.OK, DeviceState.UNAVAILABLE, DeviceState.OK]


def test_evaluator_simulator_unplug_replug() -> None:
    seen = Recorder()

    async def body() -> None:
        with EvaluatorSimulator() as sim:

            def open_evaluator() -> SerialEvaluator:
                # On site the udev name is stable; the simulator's pty path changes on replug.
                evaluator = SerialEvaluator(sim.slave_path, timeout_s=0.2, retries=0)
                evaluator.open()
                try:
                    evaluator.ping()
                except DeviceError:
                    evaluator.close()
                    raise
                return evaluator

            sup = DeviceSupervisor(
                "w04",
                "evaluator",
                open_evaluator,
                SerialEvaluator.ping,
                seen,
                close_fn=SerialEvaluator.close,
                **FAST,
            )
            sup.start()
            await seen.wait_for(1)
            await asyncio.to_thread(sim.unplug)
            await seen.wait_for(2)
            await asyncio.sleep(0.1)
            await asyncio.to_thread(sim.replug)
            await seen.wait_for(3)
            evaluator = await sup.wait_device()
            await asyncio.to_thread(evaluator.arm)
            assert sim.armed
            await sup.stop()

    run(body)
    assert seen.states == [DeviceState.OK, DeviceState.UNAVAILABLE, DeviceState.OK]
