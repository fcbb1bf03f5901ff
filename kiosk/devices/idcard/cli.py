"""``hall sim idcard`` and ``hall device idcard`` command lines."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from kiosk.devices.idcard.driver import IdCardReader
from kiosk.devices.idcard.errors import IdCardConnectionError, IdCardError
from kiosk.devices.idcard.identity import Identity
from kiosk.devices.idcard.simulator import FAULTS, IdCardSimulator
from kiosk.devices.sim_control import serve_stdin

HELP = f"place N | remove | fault NAME on|off ({', '.join(FAULTS)}) | unplug | replug | quit"


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add the ``idcard`` sub-commands to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("idcard", help="simulated ID-card reader on a pty", description=HELP)
    sim_parser.add_argument("--identities", required=True, help="JSON file with a list of identities")
    sim_parser.set_defaults(func=run_simulator)

    dev_parser = device.add_parser("idcard", help="talk to a resident ID-card reader")
    dev_parser.add_argument("--url", required=True, help="tty path or pyserial URL")
    dev_parser.add_argument("--baud", type=int, default=115200)
    dev_parser.add_argument("--timeout-s", type=float, default=1.0)
    dev_parser.add_argument("action", choices=["read", "status"])
    dev_parser.set_defaults(func=run_device)


def handle_command(sim: IdCardSimulator, line: str) -> str:
    """Apply one control line to the simulator and return the ``OK ...``/``ERR ...`` answer."""
    words = line.split()
    match words:
        case ["place", index] if index.isdigit() and int(index) < len(sim.identities):
            card = sim.place(int(index))
            return f"OK placed {index} {card.masked_id_number}"
        case ["place", *_]:
            return f"ERR place needs an index 0..{len(sim.identities) - 1}"
        case ["remove"]:
            sim.remove()
            return "OK removed"
        case ["fault", name, ("on" | "off") as state] if name in FAULTS:
            sim.set_fault(name, state == "on")
            return f"OK fault {name} {state}"
        case ["unplug"]:
            sim.unplug()
            return "OK unplugged"
        case ["replug"]:
            return f"OK PTY {sim.replug()}"
        case _:
            return f"ERR unknown command; use: {HELP}"


def run_simulator(args: argparse.Namespace) -> int:
    """Run the simulator until ``quit`` or end of input."""
    try:
        sim = IdCardSimulator.from_file(args.identities)
    except (OSError, ValueError) as err:
        print(f"ERR cannot load identities: {err}", file=sys.stderr)
        return 2
    print(f"PTY {sim.start()}", flush=True)
    return serve_stdin(lambda line: handle_command(sim, line), sim.stop)


def format_identity(identity: Identity, today: date) -> str:
    """Identity for staff, ID number masked and address withheld."""
    valid_to = "长期" if identity.valid_to is None else identity.valid_to.isoformat()
    lines = [
        f"姓名: {identity.name}",
        f"性别: {identity.gender}",
        f"民族: {identity.nation}",
        f"年龄: {identity.age_on(today)}",
        f"公民身份号码: {identity.masked_id_number}",
        f"签发机关: {identity.issuing_authority}",
        f"有效期限: {identity.valid_from.isoformat()} - {valid_to}"
        + ("（已过期）" if identity.is_expired(today) else ""),
    ]
    return "\n".join(lines)


def run_device(args: argparse.Namespace) -> int:
    """Read a card (or check the SAM) and print the result; exit 2 when the reader is unreachable."""
    reader = IdCardReader(args.url, baud=args.baud, timeout_s=args.timeout_s)
    try:
        with reader:
            if args.action == "status":
                print(f"SAM 状态正常 ({reader.sam_status().name})")
            else:
                print(format_identity(reader.read_identity(), date.today()))
    except IdCardConnectionError as err:
        print(f"错误: {err.hint_zh} ({err})", file=sys.stderr)
        return 2
    except IdCardError as err:
        print(f"错误: {err.hint_zh} ({err})", file=sys.stderr)
        return 1
    return 0
