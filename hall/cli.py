"""``hall``: one command for every process of the service hall."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hall import admin_cli

# On SIGTERM the server finishes the requests under way for at most this long, then cancels them: an
# agent's command long poll would otherwise hold the shutdown for up to 30 s (the agent asks again).
SERVER_SHUTDOWN_GRACE_S = 5


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # python-escpos installs a root handler on import
    )


def cmd_server(args: argparse.Namespace) -> int:
    """Run the central server."""
    import uvicorn

    from server.settings import get_settings

    if args.config:
        os.environ["HALL_CONFIG"] = str(Path(args.config).resolve())
    settings = get_settings()  # validate before forking workers
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level="warning",
        proxy_headers=False,
        timeout_graceful_shutdown=SERVER_SHUTDOWN_GRACE_S,
        ssl_keyfile=args.ssl_keyfile,
        ssl_certfile=args.ssl_certfile,
    )
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    """Run one window's counter agent."""
    from counter_agent.main import run_agent
    from counter_agent.settings import get_agent_settings

    overrides: dict[str, object] = {}
    if args.window is not None:
        overrides["window"] = args.window
    settings = get_agent_settings(args.config, **overrides)
    asyncio.run(run_agent(settings))
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    """Run the ticket kiosk."""
    from kiosk.main import run_kiosk
    from kiosk.settings import get_kiosk_settings

    asyncio.run(run_kiosk(get_kiosk_settings(args.config)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Set up and run the whole demo hall."""
    from hall.demo import run_demo

    return run_demo(Path(args.var_dir), duration_s=args.duration, port=args.port, windows=args.windows)


def cmd_citizens(args: argparse.Namespace) -> int:
    """Run the simulated stream of citizens against running agents."""
    from hall.citizens import run_citizens

    return asyncio.run(
        run_citizens(args.agents, duration_s=args.duration, seed=args.seed, kiosk_url=args.kiosk)
    )


def cmd_load(args: argparse.Namespace) -> int:
    """Run a hall-sized load against a server this command starts."""
    import json

    try:
        from hall.load import run_load
        from hall.loadgen import Pace
    except ModuleNotFoundError as err:
        if err.name != "aiohttp":
            raise
        raise ValueError("hall sim hall needs aiohttp: pip install 'service-hall[load]'") from err

    report = run_load(
        args.windows,
        args.kiosks,
        args.minutes,
        args.port,
        args.workers,
        args.out,
        args.database_url,
        pace=Pace(service_s=args.service_s),
        processes=args.processes,
    )
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if report["errors"] else 0


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="hall", description="政务服务中心窗口设备系统 (service-hall)")
    parser.add_argument("--log-level", default=os.environ.get("HALL_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("server", help="run the central server")
    p.add_argument("--config", help="server TOML file (else $HALL_CONFIG)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--ssl-keyfile", help="serve HTTPS with this PEM private key")
    p.add_argument("--ssl-certfile", help="serve HTTPS with this PEM certificate (chain)")
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("agent", help="run a window's counter agent")
    p.add_argument("--window", type=int)
    p.add_argument("--config", help="agent TOML file")
    p.set_defaults(func=cmd_agent)

    p = sub.add_parser("kiosk", help="run the ticket kiosk")
    p.add_argument("--config", help="kiosk TOML file")
    p.set_defaults(func=cmd_kiosk)

    p = sub.add_parser("demo", help="run the demo hall on simulated devices")
    p.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)"
    )
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--windows", type=int, default=6)
    p.add_argument("--var-dir", default="var/demo")
    p.set_defaults(func=cmd_demo)

    sim = sub.add_parser("sim", help="simulated devices and citizens").add_subparsers(
        dest="kind", required=True
    )
    device = sub.add_parser("device", help="diagnose a real device on site").add_subparsers(
        dest="kind", required=True
    )
    from kiosk.devices.evaluator import cli as evaluator_cli
    from kiosk.devices.fingerprint import cli as fingerprint_cli
    from kiosk.devices.idcard import cli as idcard_cli
    from kiosk.devices.keypad import cli as keypad_cli
    from kiosk.devices.pcsc import cli as pcsc_cli
    from kiosk.devices.printer import cli as printer_cli

    for module in (fingerprint_cli, idcard_cli, printer_cli, keypad_cli, evaluator_cli, pcsc_cli):
        module.register(sim, device)
    p = sim.add_parser("citizens", help="a stream of simulated citizens served at running agents")
    p.add_argument(
        "--agent",
        dest="agents",
        action="append",
        required=True,
        metavar="URL",
        help="local page URL of an agent with simulated devices (repeat)",
    )
    p.add_argument(
        "--kiosk", help="local page URL of a kiosk with simulated devices: citizens take tickets there"
    )
    p.add_argument("--duration", type=float, default=0)
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=cmd_citizens)

    p = sim.add_parser(
        "hall", help="a whole hall's load (windows and kiosks at the HTTP level) on one server"
    )
    p.add_argument("--windows", type=int, default=100)
    p.add_argument("--kiosks", type=int, default=5)
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--port", type=int, default=8650)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--database-url", help="an empty database to prepare and load (default: a new SQLite file)"
    )
    p.add_argument(
        "--service-s", type=float, default=180.0, help="mean length of one service at a window (seconds)"
    )
    p.add_argument("--processes", type=int, help="load generator processes (default: one per 100 windows)")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    p.set_defaults(func=cmd_load)

    admin_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen command."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError) as err:
        print(f"hall: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
