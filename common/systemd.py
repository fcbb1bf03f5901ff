"""systemd integration for long-running processes: readiness (Type=notify) and the watchdog."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket


def notify(message: str) -> None:
    """Send ``READY=1``, ``WATCHDOG=1``... to systemd when run under it; do nothing otherwise."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


def watchdog_interval_s() -> float:
    """Half the systemd watchdog period, or 0 when not run under a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    return int(usec) / 2_000_000 if usec.isdigit() else 0.0


async def feed_watchdog(interval_s: float) -> None:
    """Keep systemd's watchdog fed while the event loop is alive."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval_s)
