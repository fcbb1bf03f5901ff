"""Entry point of ``hall agent``: build the agent, its simulators (if any) and its local pages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from common import systemd
from counter_agent.runtime import Agent
from counter_agent.settings import SIMULATED, AgentSettings

if TYPE_CHECKING:
    import uvicorn

    from counter_agent.simulated import SimulatedDevices

log = logging.getLogger(__name__)


def _web_server(agent: Agent, sims: SimulatedDevices | None) -> uvicorn.Server:
    """The local pages' server; the web stack is imported only when ``http_port`` is set."""
    import uvicorn

    from counter_agent.web import create_agent_app

    class _Server(uvicorn.Server):
        """uvicorn inside the agent's loop: the agent, not uvicorn, handles SIGTERM and SIGINT."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    settings = agent.settings
    config = uvicorn.Config(
        create_agent_app(agent, sims),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",  # the agent app has no start-up work; cancelling it then stays quiet
        # The pages poll /state and have no WebSocket route: no WebSocket stack (about 1 MB), and the
        # h11 parser httpx already loaded rather than httptools as well.
        http="h11",
        ws="none",
    )
    return _Server(config)


async def run_agent(settings: AgentSettings) -> None:
    """Run one window's agent until SIGTERM/SIGINT."""
    wanted = {
        name
        for name, url in (
            ("rating", settings.rating_keypad_url),
            ("caller", settings.caller_keypad_url),
            ("fingerprint", settings.fingerprint_url),
            ("printer", settings.printer_url),
            ("badge", settings.badge_reader),
        )
        if url == SIMULATED
    }
    sims: SimulatedDevices | None = None
    if wanted:
        # Simulators (and their device stacks) only in the demo/test configuration.
        from counter_agent.simulated import SimulatedDevices

        sims = SimulatedDevices()
    urls = {
        "rating": settings.rating_keypad_url,
        "caller": settings.caller_keypad_url,
        "fingerprint": settings.fingerprint_url,
        "printer": settings.printer_url,
    }
    if sims is not None:
        urls.update(sims.start(wanted))
    agent = Agent(settings, urls)
    extra: list[asyncio.Task[Any]] = []
    server: uvicorn.Server | None = None
    if settings.http_port:
        server = _web_server(agent, sims)
        extra.append(asyncio.create_task(server.serve(), name="web"))
    watchdog_s = systemd.watchdog_interval_s()
    if watchdog_s:
        extra.append(asyncio.create_task(systemd.feed_watchdog(watchdog_s), name="watchdog"))
    main = asyncio.create_task(agent.run(extra))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    log.info(
        "window %d agent running (device %s, server %s)",
        settings.window,
        settings.device_id,
        settings.server_url,
    )
    systemd.notify("READY=1")
    try:
        await main
    except asyncio.CancelledError:
        log.info("window %d agent stopping", settings.window)
    finally:
        if server is not None:
            server.should_exit = True
        if sims is not None:
            sims.stop()
