"""Keypad sources: the TCP stream against the simulator, evdev errors, uinput and hardware."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest
from evdev import ecodes

from kiosk.devices.errors import DeviceConnectionError
from kiosk.devices.keypad import (
    EvdevSource,
    Key,
    KeyMap,
    KeypadConfigError,
    KeypadReader,
    KeypadUnavailableError,
    KeyPress,
    StreamSource,
    open_source,
)
from kiosk.devices.keypad.simulator import KeypadSimulator
from tests.conftest import device_url_for

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def sim() -> Iterator[KeypadSimulator]:
    with KeypadSimulator(KeyMap.rating()) as simulator:
        yield simulator


async def collect(
    source: EvdevSource | StreamSource, reader: KeypadReader, count: int, timeout_s: float = 5
) -> list[KeyPress]:
    """Read events until ``count`` key presses arrived."""
    presses: list[KeyPress] = []

    async def loop() -> None:
        async for event in source.events():
            press = reader.feed(event)
            if press is not None:
                presses.append(press)
                if len(presses) == count:
                    return

    await asyncio.wait_for(loop(), timeout_s)
    return presses


def press_later(sim: KeypadSimulator, *keys: Key | int) -> threading.Thread:
    """Press keys from another thread once the reader is connected."""

    def run() -> None:
        assert sim.wait_connected(5)
        for key in keys:
            sim.press(key)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_open_source_urls() -> None:
    assert isinstance(open_source("/dev/input/event3"), EvdevSource)
    evdev_source = open_source("evdev:///dev/hall/keypad-rating", grab=False)
    assert isinstance(evdev_source, EvdevSource)
    assert (evdev_source.path, evdev_source.grab) == ("/dev/hall/keypad-rating", False)
    stream = open_source("tcp://127.0.0.1:4567")
    assert isinstance(stream, StreamSource)
    assert (stream.host, stream.port) == ("127.0.0.1", 4567)
    for bad in ("tcp://10.0.0.5:4567", "serial:///dev/ttyUSB0", "tcp://127.0.0.1"):
        with pytest.raises(KeypadConfigError):
            open_source(bad)


def test_stream_reads_presses_from_simulator(sim: KeypadSimulator) -> None:
    source = StreamSource("127.0.0.1", sim.port)
    reader = KeypadReader(KeyMap.rating())
    thread = press_later(sim, Key.RATE_1, Key.RATE_5, ecodes.KEY_KP3)
    presses = asyncio.run(collect(source, reader, 3))
    thread.join()
    source.close()
    assert [(p.key, p.code) for p in presses] == [(Key.RATE_1, 79), (Key.RATE_5, 76), (Key.RATE_3, 81)]


def test_repeat_fault_gives_one_press(sim: KeypadSimulator) -> None:
    sim.repeat = True
    source = StreamSource("127.0.0.1", sim.port)
    reader = KeypadReader(KeyMap.rating())
    thread = press_later(sim, Key.RATE_2, Key.RATE_4)
    presses = asyncio.run(collect(source, reader, 2))
    thread.join()
    source.close()
    assert [p.key for p in presses] == [Key.RATE_2, Key.RATE_4]


def test_bounce_fault_gives_one_press(sim: KeypadSimulator) -> None:
    sim.bounce = True
    source = StreamSource("127.0.0.1", sim.port)
    reader = KeypadReader(KeyMap.rating())
    # The unknown code marks the end: everything before it has been read.
    thread = press_later(sim, Key.RATE_3, ecodes.KEY_NUMLOCK, Key.RATE_5)
    presses = asyncio.run(collect(source, reader, 2))
    thread.join()
    source.close()
    assert [p.key for p in presses] == [Key.RATE_3, Key.RATE_5]
    assert reader.bounce_count == 2  # the bounced RATE_3 and the bounced NUMLOCK
    assert reader.unknown_count == 1


def test_unplug_and_replug(sim: KeypadSimulator) -> None:
    async def body() -> None:
        source = StreamSource("127.0.0.1", sim.port)
        reader = KeypadReader(KeyMap.rating())
        thread = press_later(sim, Key.RATE_1)
        assert [p.key for p in await collect(source, reader, 1)] == [Key.RATE_1]
        thread.join()
        await asyncio.to_thread(sim.unplug)
        with pytest.raises(KeypadUnavailableError):
            await collect(source, reader, 1)
        with pytest.raises(KeypadUnavailableError) as refused:
            source.open()
        assert isinstance(refused.value, DeviceConnectionError)
        assert "ECONNREFUSED" in str(refused.value)
        assert not sim.press(Key.RATE_2)
        sim.replug()
        thread = press_later(sim, Key.RATE_2)
        assert [p.key for p in await collect(source, reader, 1)] == [Key.RATE_2]
        thread.join()
        source.close()

    asyncio.run(body())


def test_evdev_missing_device_is_unavailable(tmp_path: os.PathLike[str]) -> None:
    source = EvdevSource(os.path.join(tmp_path, "no-such-event-kbd"))
    with pytest.raises(KeypadUnavailableError, match="ENOENT"):
        source.open()


def test_evdev_non_input_device_is_unavailable() -> None:
    # /dev/null opens but refuses the evdev ioctls, like a wrong by-id path would.
    with pytest.raises(KeypadUnavailableError):
        EvdevSource("/dev/null").open()


@pytest.mark.skipif(not os.path.exists("/dev/uinput"), reason="no /dev/uinput on this machine")
def test_evdev_source_with_uinput_device() -> None:
    from evdev import UInput

    async def body() -> None:
        keys = [ecodes.KEY_KP1, ecodes.KEY_KP2]
        with UInput({ecodes.EV_KEY: keys}, name="hall-test-keypad") as device:
            await asyncio.sleep(0.3)  # udev creates the node
            source = EvdevSource(device.device.path)
            source.open()
            for code in keys:
                device.write(ecodes.EV_KEY, code, 1)
                device.write(ecodes.EV_KEY, code, 0)
                device.syn()
            presses = await collect(source, KeypadReader(KeyMap.rating(), debounce_s=0), 2)
            source.close()
        assert [p.key for p in presses] == [Key.RATE_1, Key.RATE_2]

    asyncio.run(body())


@pytest.mark.hardware
@pytest.mark.timeout(60)
def test_hardware_keypad(request: pytest.FixtureRequest) -> None:
    url = device_url_for(request.config, "keypad")
    if url is None:
        pytest.skip("give --device-url keypad=/dev/input/by-id/...-event-kbd to run")
    source = open_source(url)
    print("请在 30 秒内按评价器上的任意一个评价键")
    presses = asyncio.run(collect(source, KeypadReader(KeyMap.rating()), 1, timeout_s=30))
    source.close()
    assert presses[0].key.rating_level is not None
