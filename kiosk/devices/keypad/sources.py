"""Event sources of a keypad: a real evdev device, or a TCP stream of kernel records.

Each source has a blocking ``open()`` (run it in a thread), an async ``events()``
iterator and ``close()``. Every failure to open or read becomes KeypadUnavailableError.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator
from typing import Protocol
from urllib.parse import urlsplit

from evdev import InputDevice, InputEvent

from kiosk.devices.keypad.codec import InputEventDecoder
from kiosk.devices.keypad.errors import KeypadConfigError, KeypadUnavailableError
from kiosk.devices.transport import hex_bytes

log = logging.getLogger(__name__)


class EventSource(Protocol):
    """What the keypad reader consumes."""

    url: str

    def open(self) -> None:
        """Open the device (blocking); raise KeypadUnavailableError when it cannot."""

    def events(self) -> AsyncIterator[InputEvent]:
        """Input events until the device fails (KeypadUnavailableError) or is closed."""

    def close(self) -> None:
        """Release the device."""


def _unavailable(what: str, err: OSError) -> KeypadUnavailableError:
    name = errno.errorcode.get(err.errno or 0, "error")
    return KeypadUnavailableError(f"{what}: {name} {err.strerror or err}")


class EvdevSource:
    """A kernel input device such as ``/dev/input/by-id/usb-...-event-kbd``."""

    def __init__(self, path: str, grab: bool = True) -> None:
        self.url = path
        self.path = path
        self.grab = grab
        self._device: InputDevice | None = None

    def open(self) -> None:
        """Open the device and, by default, grab it so key presses reach no other program."""
        if self._device is not None:
            return
        try:
            device = InputDevice(self.path)
        except OSError as err:
            raise _unavailable(f"cannot open {self.path}", err) from err
        if self.grab:
            try:
                device.grab()
            except OSError as err:
                device.close()
                raise _unavailable(f"cannot grab {self.path} (held by another process?)", err) from err
        log.info("opened keypad %s (%s)", self.path, device.name)
        self._device = device

    async def events(self) -> AsyncIterator[InputEvent]:
        """Events read by the event loop; ENODEV when unplugged becomes KeypadUnavailableError."""
        if self._device is None:
            await asyncio.to_thread(self.open)
        device = self._device
        if device is None:
            raise KeypadUnavailableError(f"{self.path} is closed")
        try:
            async for event in device.async_read_loop():
                yield event
        except OSError as err:
            self.close()
            raise _unavailable(f"reading {self.path} failed", err) from err

    def close(self) -> None:
        """Release the grab and close the device."""
        device, self._device = self._device, None
        if device is None:
            return
        try:
            if self.grab:
                device.ungrab()
        except OSError:
            log.debug("ungrab of %s failed (device gone)", self.path)
        try:
            device.close()
        except OSError:
            log.debug("close of %s failed (device gone)", self.path)


class StreamSource:
    """Raw 24-byte ``struct input_event`` records read from a loopback TCP socket."""

    def __init__(self, host: str, port: int, connect_timeout_s: float = 2.0) -> None:
        self.host = host
        self.port = port
        self.url = f"tcp://{host}:{port}"
        self.connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None

    def open(self) -> None:
        """Connect to the event stream."""
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as err:
            raise _unavailable(f"cannot connect to {self.url}", err) from err
        sock.setblocking(False)
        self._sock = sock
        log.info("connected to keypad stream %s", self.url)

    async def events(self) -> AsyncIterator[InputEvent]:
        """Decoded events; end of stream or a socket error becomes KeypadUnavailableError."""
        if self._sock is None:
            await asyncio.to_thread(self.open)
        sock = self._sock
        if sock is None:
            raise KeypadUnavailableError(f"{self.url} is closed")
        decoder = InputEventDecoder()
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await loop.sock_recv(sock, 4096)
            except OSError as err:
                self.close()
                raise _unavailable(f"reading {self.url} failed", err) from err
            if not data:
                self.close()
                raise KeypadUnavailableError(f"{self.url}: connection closed (keypad unplugged)")
            log.debug("<<< %s", hex_bytes(data))
            for event in decoder.feed(data):
                yield event

    def close(self) -> None:
        """Close the socket."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_source(url: str, grab: bool = True) -> EvdevSource | StreamSource:
    """The source for ``/dev/...``, ``evdev:///dev/...`` or ``tcp://127.0.0.1:PORT`` (not yet opened)."""
    if url.startswith("/dev/"):
        return EvdevSource(url, grab)
    parts = urlsplit(url)
    if parts.scheme == "evdev" and parts.path.startswith("/dev/"):
        return EvdevSource(parts.path, grab)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        # Ratings must come from a keypad at this window, not from the network.
        if not _is_loopback(parts.hostname):
            raise KeypadConfigError(f"keypad stream must be on loopback, got {parts.hostname!r}")
        return StreamSource(parts.hostname, parts.port)
    raise KeypadConfigError(
        f"unsupported keypad URL {url!r} (use /dev/..., evdev:///dev/... or tcp://host:port)"
    )
