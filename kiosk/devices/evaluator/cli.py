"""``hall sim evaluator`` and ``hall device evaluator`` commands."""

from __future__ import annotations

import argparse
import sys

from kiosk.devices.evaluator.driver import SerialEvaluator
from kiosk.devices.evaluator.errors import EvaluatorError
from kiosk.devices.evaluator.simulator import EvaluatorSimulator
from kiosk.devices.sim_control import serve_stdin

_FAULTS = ("bad_checksum", "garbage", "silent")


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add the ``evaluator`` sub-commands to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("evaluator", help="simulated serial rating keypad on a pty")
    sim_parser.set_defaults(func=run_simulator)

    dev_parser = device.add_parser("evaluator", help="talk to a serial rating keypad")
    dev_parser.add_argument("--url", required=True, help="serial port path or pyserial URL")
    dev_parser.add_argument("--baud", type=int, default=9600)
    actions = dev_parser.add_subparsers(dest="action", required=True)
    for name in ("arm", "disarm", "ping"):
        actions.add_parser(name).set_defaults(func=run_device)
    watch = actions.add_parser("watch", help="arm, print each rating, re-arm")
    watch.add_argument("--count", type=int, default=0, help="stop after N ratings (0: until Ctrl-C)")
    watch.set_defaults(func=run_device)


def handle_command(sim: EvaluatorSimulator, line: str) -> str:
    """Apply one control line to the simulator and return the ``OK``/``ERR`` answer."""
    match line.split():
        case ["press", level] if level in ("1", "2", "3", "4", "5"):
            return f"OK pressed {level}" if sim.press(int(level)) else "ERR keys not armed"
        case ["fault", name, ("on" | "off") as switch] if name in _FAULTS:
            setattr(sim, name, switch == "on")
            return f"OK {name} {switch}"
        case ["state"]:
            return f"OK armed={int(sim.armed)}"
        case ["unplug"]:
            sim.unplug()
            return "OK unplugged"
        case ["replug"]:
            return f"OK PTY {sim.replug()}"
        case _:
            return f"ERR unknown command {line.strip()!r}"


def run_simulator(args: argparse.Namespace) -> int:
    """Serve a simulated evaluator until ``quit`` or end of input."""
    sim = EvaluatorSimulator()
    print(f"PTY {sim.start()}", flush=True)
    return serve_stdin(lambda line: handle_command(sim, line), sim.stop)


def _watch(evaluator: SerialEvaluator, count: int) -> None:
    seen = 0
    evaluator.arm()
    while not count or seen < count:
        press = evaluator.read_press(timeout_s=1.0)
        if press is None:
            continue
        print(f"{press.time_s:.3f} {press.key.name}", flush=True)
        seen += 1
        evaluator.arm()


def run_device(args: argparse.Namespace) -> int:
    """Run one command against a serial evaluator."""
    try:
        with SerialEvaluator(args.url, baud=args.baud) as evaluator:
            if args.action == "arm":
                evaluator.arm()
            elif args.action == "disarm":
                evaluator.disarm()
            elif args.action == "ping":
                print(f"armed={int(evaluator.ping())}")
            else:
                _watch(evaluator, args.count)
    except EvaluatorError as err:
        print(f"错误: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print("OK", flush=True)
    return 0
