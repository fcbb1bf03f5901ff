"""Keeps one device open: opens it, checks it, and reopens it with backoff after failures.

The integration (counter agent, kiosk) owns one supervisor per device and reads its
``state``; it calls ``report_error`` when a read fails so the device is reopened.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Generic, TypeVar

from kiosk.devices.errors import DeviceError

log = logging.getLogger(__name__)

T = TypeVar("T")


class DeviceState(StrEnum):
    """Availability of a device as the integration shows it."""

    OK = "ok"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"


StateCallback = Callable[[str, str, DeviceState, str], Awaitable[None] | None]
Classifier = Callable[[DeviceError], DeviceState]


def unavailable_on_any_error(err: DeviceError) -> DeviceState:
    """Default classification: every device error makes the device unavailable."""
    return DeviceState.UNAVAILABLE


class DeviceSupervisor(Generic[T]):
    """An asyncio task that keeps a device open and publishes its state on change.

    ``open_fn`` and ``check_fn`` are blocking and run in a thread; they raise DeviceError.
    ``classify`` says which errors only degrade the device (it stays open). ``on_change``
    receives ``(name, kind, state, reason)`` once per change and must not raise.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        open_fn: Callable[[], T],
        check_fn: Callable[[T], object] | None = None,
        on_change: StateCallback | None = None,
        *,
        close_fn: Callable[[T], object] | None = None,
        classify: Classifier = unavailable_on_any_error,
        check_interval_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.name = name
        self.kind = kind
        self._open_fn = open_fn
        self._check_fn = check_fn
        self._close_fn = close_fn
        self._on_change = on_change
        self._classify = classify
        self.check_interval_s = check_interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.state = DeviceState.UNAVAILABLE
        self.reason = "not opened yet"
        self.since = time.time()
        self.device: T | None = None
        self._published = False
        self._backoff_s = backoff_initial_s
        self._reported: DeviceError | None = None
        self._wake: asyncio.Event | None = None
        self._usable: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._callbacks: set[asyncio.Future[None]] = set()

    # -- control -----------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Start supervising on the running event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"supervise-{self.kind}-{self.name}")
        return self._task

    async def stop(self) -> None:
        """Stop supervising and close the device."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    def report_error(self, err: DeviceError) -> None:
        """Tell the supervisor that using the device failed (safe from any thread)."""
        loop = self._loop
        if loop is None:
            self._reported = err
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._take_report(err)
        else:
            loop.call_soon_threadsafe(self._take_report, err)

    async def wait_device(self) -> T:
        """The open device, waiting until it is usable (ok or degraded)."""
        while True:
            device = self.device
            if device is not None and self.state is not DeviceState.UNAVAILABLE:
                return device
            if self._usable is None:
                await asyncio.sleep(0.01)
            else:
                await self._usable.wait()

    # -- loop --------------------------------------------------------------
    async def run(self) -> None:
        """Open, check and reopen forever (until cancelled)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._usable = asyncio.Event()
        if self._reported is not None:
            self._wake.set()
        try:
            while True:
                if self.device is None:
                    await self._open()
                else:
                    await self._watch()
        finally:
            await self._close()

    async def _open(self) -> None:
        try:
            device = await asyncio.to_thread(self._open_fn)
        except DeviceError as err:
            await self._failed(err, device_open=False)
            return
        self.device = device
        self._reported = None
        if self._wake is not None:
            self._wake.clear()
        self._publish(DeviceState.OK, "opened")
        if self._check_fn is None:
            self._backoff_s = self.backoff_initial_s

    async def _watch(self) -> None:
        wake = self._wake
        if wake is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.check_interval_s)
            wake.clear()
        reported, self._reported = self._reported, None
        if reported is not None:
            await self._failed(reported, device_open=True)
            return
        device = self.device
        if self._check_fn is None or device is None:
            return
        try:
            await asyncio.to_thread(self._check_fn, device)
        except DeviceError as err:
            await self._failed(err, device_open=True)
            return
        self._backoff_s = self.backoff_initial_s
        self._publish(DeviceState.OK, "check passed")

    async def _failed(self, err: DeviceError, device_open: bool) -> None:
        state = self._classify(err) if device_open else DeviceState.UNAVAILABLE
        self._publish(state, str(err) or type(err).__name__)
        if state is DeviceState.DEGRADED:
            return  # still usable: keep it open and keep checking
        await self._close()
        log.debug("%s %s: retry in %.2f s", self.kind, self.name, self._backoff_s)
        await asyncio.sleep(self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.backoff_max_s)

    async def _close(self) -> None:
        device, self.device = self.device, None
        if device is None or self._close_fn is None:
            return
        try:
            await asyncio.to_thread(self._close_fn, device)
        except DeviceError as err:
            log.debug("%s %s: close failed: %s", self.kind, self.name, err)

    def _take_report(self, err: DeviceError) -> None:
        self._reported = err
        if self._wake is not None:
            self._wake.set()

    def _publish(self, state: DeviceState, reason: str) -> None:
        if self._usable is not None:
            if state is DeviceState.UNAVAILABLE:
                self._usable.clear()
            else:
                self._usable.set()
        if self._published and state is self.state:
            return
        self._published = True
        self.state, self.reason, self.since = state, reason, time.time()
        level = logging.INFO if state is DeviceState.OK else logging.WARNING
        log.log(level, "%s %s is %s: %s", self.kind, self.name, state.value, reason)
        if self._on_change is not None:
            result = self._on_change(self.name, self.kind, state, reason)
            if inspect.isawaitable(result):
                # Keep a reference so the callback task is not collected before it runs.
                future = asyncio.ensure_future(result)
                self._callbacks.add(future)
                future.add_done_callback(self._callbacks.discard)
