"""Entry point of the kiosk process: devices (or their simulators), the flow and the local page."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import uvicorn

from common import systemd
from kiosk.app import create_kiosk_app
from kiosk.card_serial import card_serial_station
from kiosk.cards import CardReaderLoop
from kiosk.devices.printer.commands import load_escpos
from kiosk.devices.supervisor import DeviceState
from kiosk.journal import Journal
from kiosk.printing import Printing
from kiosk.server_client import ServerClient
from kiosk.service import Kiosk
from kiosk.settings import SIMULATED, KioskSettings, get_kiosk_settings
from kiosk.simulated import SimulatedKioskDevices
from kiosk.status_report import StatusReporter

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn inside the kiosk's loop: the kiosk, not uvicorn, handles SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_kiosk(settings: KioskSettings) -> None:
    """Run the ticket kiosk until SIGTERM/SIGINT."""
    sims: SimulatedKioskDevices | None = None
    printer_url, idcard_url = settings.printer_url, settings.idcard_url
    if idcard_url and settings.card_serial_reader:
        log.warning(
            "card_serial_reader %r not used: a SAM reader (idcard_url) is configured",
            settings.card_serial_reader,
        )
    serial_sim = settings.card_lane == "serial" and settings.card_serial_reader == SIMULATED
    if SIMULATED in (printer_url, idcard_url) or serial_sim:
        sims = SimulatedKioskDevices(settings.printer_encoding, settings.card_serial_sim_port)
        if printer_url == SIMULATED:
            printer_url = sims.start_printer()
        if idcard_url == SIMULATED:
            idcard_url = sims.start_idcard(settings.sim_identities)
    # Load the printer stack in the background now, so the first citizen's ticket does not wait for it.
    warm_printer = asyncio.create_task(asyncio.to_thread(load_escpos), name="printer-stack")
    server = ServerClient(
        settings.server_url,
        settings.device_key.get_secret_value(),
        timeout_s=settings.server_timeout_s,
        verify=ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True,
    )
    reporter = StatusReporter(server, settings.device_id)
    printing = Printing(
        printer_url,
        settings.printer_encoding,
        settings.printer_baud,
        Journal(settings.journal_path),
        server,
        settings.hall_name,
        ZoneInfo(settings.timezone),
        cancel_after_s=settings.unprinted_cancel_after_s,
        check_interval_s=settings.printer_check_s,
        on_state=reporter.report,
    )
    kiosk = Kiosk(settings, server, printing)
    tasks = [
        asyncio.create_task(printing.run(), name="printing"),
        asyncio.create_task(reporter.run(), name="device-states"),
        asyncio.create_task(kiosk.catalog_loop(), name="catalog"),
        asyncio.create_task(kiosk.tick_loop(), name="tick"),
    ]

    def card_reader_changed(name: str, kind: str, state: DeviceState, reason: str) -> None:
        kiosk.on_card_reader_change(name, kind, state, reason)
        reporter.report(name, kind, state, reason)

    cards = None
    if idcard_url:
        cards = CardReaderLoop(
            idcard_url, settings.idcard_baud, kiosk.on_card, kiosk.on_card_error, card_reader_changed
        )
        tasks.append(asyncio.create_task(cards.run(), name="idcard"))
    elif settings.card_serial_reader:
        # No SAM reader: the PC/SC reader gives the card's serial only.
        serial_station = card_serial_station(settings, kiosk, card_reader_changed)
        tasks.append(asyncio.create_task(serial_station.run(), name="card-serial"))
    config = uvicorn.Config(
        create_kiosk_app(kiosk, sims), host=settings.http_host, port=settings.http_port, log_level="warning"
    )
    web = _Server(config)
    web_task = asyncio.create_task(web.serve(), name="web")
    tasks.append(web_task)
    watchdog_s = systemd.watchdog_interval_s()
    if watchdog_s:
        tasks.append(asyncio.create_task(systemd.feed_watchdog(watchdog_s), name="watchdog"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "kiosk %s on http://%s:%d (server %s)",
        settings.device_id,
        settings.http_host,
        settings.http_port,
        settings.server_url,
    )
    systemd.notify("READY=1")
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("kiosk task %s failed", task.get_name(), exc_info=task.exception())
        waiter.cancel()
    finally:
        log.info("kiosk stopping")
        web.should_exit = True
        # Let uvicorn finish its lifespan instead of cancelling it mid-way.
        await asyncio.wait([web_task], timeout=5)
        if cards is not None:
            cards.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, warm_printer, return_exceptions=True)
        await server.aclose()
        if sims is not None:
            sims.stop()


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m kiosk.main [--config FILE]``."""
    parser = argparse.ArgumentParser(prog="kiosk", description="取号机 (ticket kiosk)")
    parser.add_argument("--config", help="kiosk TOML file (settings also from HALL_KIOSK_*)")
    parser.add_argument("--log-level", default=os.environ.get("HALL_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # python-escpos installs a root handler on import
    )
    try:
        settings = get_kiosk_settings(args.config)
    except (ValueError, FileNotFoundError) as err:
        print(f"kiosk: {err}", file=sys.stderr)  # noqa: T201
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_kiosk(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
