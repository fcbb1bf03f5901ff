"""A keypad simulator: serves raw ``struct input_event`` records on a loopback TCP port.

The reader connects with ``StreamSource`` and decodes the same 24-byte records a kernel
evdev device gives, so everything above the source runs unchanged.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from evdev import InputEvent, ecodes

from kiosk.devices.keypad.codec import encode_input_event
from kiosk.devices.keypad.errors import KeypadConfigError
from kiosk.devices.keypad.keymap import Key, KeyMap
from kiosk.devices.transport import hex_bytes

log = logging.getLogger(__name__)

_BOUNCE_GAP_S = 0.005  # contact bounce shows up a few milliseconds after the press
_REPEAT_COUNT = 2
_MAX_CODE = 0xFFFF  # input_event.code is a u16


def _event(ev_type: int, code: int, value: int) -> InputEvent:
    now_us = time.time_ns() // 1000
    return InputEvent(now_us // 1_000_000, now_us % 1_000_000, ev_type, code, value)


def _tap(code: int, held: list[int] | None = None) -> list[InputEvent]:
    """Press, optional auto-repeat values, release; each followed by SYN_REPORT like the kernel."""
    events: list[InputEvent] = []
    for value in [1, *(held or []), 0]:
        events += [_event(ecodes.EV_KEY, code, value), _event(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
    return events


class KeypadSimulator:
    """A keypad at the far end of a loopback TCP connection, with fault switches.

    ``bounce`` sends each press twice a few milliseconds apart; ``repeat`` adds auto-repeat
    (value 2) events while the key is held; ``unplug()`` drops the reader and refuses new
    connections until ``replug()``.
    """

    def __init__(self, keymap: KeyMap, port: int = 0, host: str = "127.0.0.1") -> None:
        self.keymap = keymap
        self.host = host
        self.port = port
        self.bounce = False
        self.repeat = False
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connected = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        """The URL a reader opens (``tcp://127.0.0.1:PORT``)."""
        return f"tcp://{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """True while a reader is connected."""
        return self._client is not None

    def start(self) -> str:
        """Listen (port 0 picks a free port) and return the URL."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Reuse lets replug() bind the same port again while old connections sit in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Close the listener and the connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown wakes the accept() blocked in the thread.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("listener already shut down")
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._drop_client()

    def unplug(self) -> None:
        """Drop the reader and refuse new connections."""
        self.stop()

    def replug(self) -> str:
        """Accept connections again on the same port."""
        return self.start()

    def __enter__(self) -> KeypadSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait until a reader is connected."""
        with self._connected:
            return self._connected.wait_for(lambda: self._client is not None, timeout_s)

    def press(self, key: Key | int) -> bool:
        """Press and release a logical key or raw code; False when no reader is connected."""
        code = self.keymap.code_for(key) if isinstance(key, Key) else key
        if not 0 <= code <= _MAX_CODE:
            raise KeypadConfigError(f"key code must be 0..{_MAX_CODE}, got {code}")
        held = [2] * _REPEAT_COUNT if self.repeat else []
        if not self._send(_tap(code, held)):
            return False
        if self.bounce:
            time.sleep(_BOUNCE_GAP_S)
            return self._send(_tap(code))
        return True

    def _send(self, events: list[InputEvent]) -> bool:
        data = b"".join(encode_input_event(event) for event in events)
        with self._lock:
            client = self._client
            if client is None:
                return False
            log.debug("sim <<< %s", hex_bytes(data))
            try:
                client.sendall(data)
            except OSError:
                log.info("keypad reader went away")
                self._client = None
                client.close()
                return False
        return True

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed by stop()
            client.settimeout(2.0)
            with self._connected:
                old, self._client = self._client, client
                self._connected.notify_all()
            if old is not None:
                old.close()  # one reader at a time, like a grabbed device
            log.info("keypad reader connected to %s", self.url)

    def _drop_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("client already gone")
            client.close()
