"""``hall sim keypad`` and ``hall device keypad`` commands."""

from __future__ import annotations

import argparse
import asyncio
import sys

from kiosk.devices.errors import DeviceError
from kiosk.devices.keypad.errors import KeypadConfigError
from kiosk.devices.keypad.keymap import Key, KeyMap
from kiosk.devices.keypad.reader import KeypadReader
from kiosk.devices.keypad.simulator import KeypadSimulator
from kiosk.devices.keypad.sources import open_source
from kiosk.devices.sim_control import serve_stdin


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add the ``keypad`` sub-commands to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("keypad", help="simulated USB keypad on a loopback TCP port")
    sim_parser.add_argument("--port", type=int, default=0, help="TCP port (0 picks a free one)")
    sim_parser.add_argument("--map", choices=("rating", "caller"), default="rating", dest="keymap")
    sim_parser.set_defaults(func=run_simulator)

    dev_parser = device.add_parser("keypad", help="read a rating keypad or staff caller keys")
    dev_parser.add_argument(
        "--url", required=True, help="/dev/input/by-id/..., evdev:///dev/... or tcp://..."
    )
    dev_parser.add_argument("--map", choices=("rating", "caller"), default="rating", dest="keymap")
    dev_parser.add_argument("--no-grab", action="store_true", help="do not take exclusive access")
    actions = dev_parser.add_subparsers(dest="action", required=True)
    watch = actions.add_parser("watch", help="print each key press")
    watch.add_argument("--count", type=int, default=0, help="stop after N presses (0: until Ctrl-C)")
    watch.set_defaults(func=run_watch)


def _keymap(name: str) -> KeyMap:
    return KeyMap.caller() if name == "caller" else KeyMap.rating()


def handle_command(sim: KeypadSimulator, line: str) -> str:
    """Apply one control line to the simulator and return the ``OK``/``ERR`` answer."""
    words = line.split()
    try:
        match words:
            case ["press", target]:
                code = int(target) if target.isdigit() else sim.keymap.code_for(Key.parse(target))
                return f"OK pressed {code}" if sim.press(code) else "ERR no reader connected"
            case ["fault", ("bounce" | "repeat") as name, ("on" | "off") as switch]:
                setattr(sim, name, switch == "on")
                return f"OK {name} {switch}"
            case ["unplug"]:
                sim.unplug()
                return "OK unplugged"
            case ["replug"]:
                return f"OK URL {sim.replug()}"
            case _:
                return f"ERR unknown command {line.strip()!r}"
    except KeypadConfigError as err:
        return f"ERR {err}"


def run_simulator(args: argparse.Namespace) -> int:
    """Serve a simulated keypad until ``quit`` or end of input."""
    sim = KeypadSimulator(_keymap(args.keymap), port=args.port)
    print(f"URL {sim.start()}", flush=True)
    return serve_stdin(lambda line: handle_command(sim, line), sim.stop)


async def _watch(url: str, keymap: KeyMap, grab: bool, count: int) -> int:
    source = open_source(url, grab=grab)
    reader = KeypadReader(keymap)
    seen = 0
    try:
        async for event in source.events():
            press = reader.feed(event)
            if press is None:
                continue
            print(f"{press.time_s:.3f} {press.key.name} code={press.code}", flush=True)
            seen += 1
            if count and seen >= count:
                break
    finally:
        source.close()
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """Print key presses of a keypad."""
    try:
        return asyncio.run(_watch(args.url, _keymap(args.keymap), not args.no_grab, args.count))
    except DeviceError as err:
        print(f"错误: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
