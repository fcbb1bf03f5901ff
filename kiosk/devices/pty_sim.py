"""Base for device simulators that sit on the device side of a pseudo-terminal.

The unchanged real driver opens ``slave_path`` like any tty; the simulator reads the
master side on a thread and answers with the device's own bytes.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from abc import ABC, abstractmethod
from typing import Self

from kiosk.devices.transport import hex_bytes

log = logging.getLogger(__name__)


class PtySimulator(ABC):
    """Runs a device protocol on the master side of a pty.

    Fault switches shared by every kind: ``silent`` (read and drop, never answer) and
    ``unplug()`` / ``replug()`` (the tty path disappears / comes back as a new pty).
    """

    def __init__(self) -> None:
        self.silent = False
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_path = ""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> str:
        """Open a pty, start serving it and return the tty path for the driver."""
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self._master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self.slave_path

    def stop(self) -> None:
        """Stop serving and close both sides."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    log.debug("fd %s already closed", fd)
        self._master = self._slave = None

    def unplug(self) -> None:
        """Simulate pulling the cable: the driver's reads and writes start failing."""
        self.stop()

    def replug(self) -> str:
        """Plug back in; returns the (new) tty path."""
        return self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- I/O ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Write bytes towards the driver (device -> host)."""
        with self._lock:
            if self._master is None:
                return
            log.debug("sim <<< %s", hex_bytes(data))
            view = memoryview(data)
            while view:
                written = os.write(self._master, view)
                view = view[written:]

    def _run(self) -> None:
        master = self._master
        if master is None:
            return
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                self.on_idle()
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                # EIO: no process has the slave open right now; keep waiting.
                self._stop.wait(0.05)
                continue
            if not data:
                continue
            log.debug("sim >>> %s", hex_bytes(data))
            if self.silent:
                continue
            try:
                self.on_bytes(data)
            except Exception:
                log.exception("simulator failed while handling %s", hex_bytes(data))

    @abstractmethod
    def on_bytes(self, data: bytes) -> None:
        """Handle bytes the driver wrote (host -> device)."""

    def on_idle(self) -> None:
        """Called about every 50 ms when nothing arrived (for timed behaviour)."""
        return None
